package ensemble

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zkafka/zkafka/conformance/harness"
)

// TestQuitLeadingAsApache: server 1 has server 3's quorum port wrong, so it votes for 3, cannot reach it, and
// goes LOOKING again while 3 waits for a quorum for the new epoch. With zookeeper.leader.maxTimeToWaitForEpoch
// (1000 ms here) server 3 quits leading at a LOOKING notification of 1's once it has waited that long, before its
// init limit (5 s), and counts quit_leading_due_to_disloyal_voter; without it, 3 waits on and counts none. Read
// once server 2 joins and 2 and 3 serve (mntr answers only then; ServerMetrics outlive a leadership).
func TestQuitLeadingAsApache(t *testing.T) {
	harness.SameAsApache(t, quitLeading)
}

func quitLeading(t *testing.T, kind harness.Kind) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	quitMark := map[harness.Kind]string{harness.Apache: "Quit leading due to voter changed mind",
		harness.ZKServer: "quit leading: voter 1 is looking"}[kind]
	var lines []string
	for _, maxWait := range []string{"", "1000"} {
		en := newEnsemble(t)
		dead := en.freePort(t) // nothing listens there
		en.extra[1] = map[string]string{"server.3": fmt.Sprintf("127.0.0.1:%d:%d", dead, en.members[3].electionPort)}
		if maxWait != "" {
			en.extra[3] = map[string]string{"leader.maxTimeToWaitForEpoch": maxWait}
		}
		en.start(t, kind, 1, "")
		s3 := en.start(t, kind, 3, "")
		if maxWait != "" {
			eventually(t, "server 3 quits leading", func() error {
				if !s3.LogContains(quitMark) {
					time.Sleep(100 * time.Millisecond)
					return fmt.Errorf("no %q in server 3's log", quitMark)
				}
				return nil
			})
		} else {
			// Server 1 gives up on the dead port within a second and goes on looking: with a limit, 3 would have
			// quit by the end of this wait.
			time.Sleep(3 * time.Second)
		}
		s2 := en.start(t, kind, 2, "")
		waitServing(t, ctx, s2, s3)
		quits := mntrGauge(t, ctx, s3, "zk_quit_leading_due_to_disloyal_voter")
		// Which of 2 and 3 leads depends on where 3 was in its cycle when 2 came: leading (1 and 2 elect 2) or
		// looking (3 wins).
		modes := []string{mode(t, s2), mode(t, s3)}
		slices.Sort(modes)
		lines = append(lines, fmt.Sprintf("maxTimeToWaitForEpoch %q: servers 2 and 3 %v, server 3 quit leading: %v",
			maxWait, modes, map[bool]string{true: "at least once", false: fmt.Sprint(quits)}[quits > 0]))
	}
	return lines
}
