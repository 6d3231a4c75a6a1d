package ensemble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zkafka/zkafka/conformance/harness"
	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkclient"
)

// Dynamic reconfiguration (reconfigEnabled=true) in one ensemble with Apache 3.8: ours leading Apache's
// followers, then Apache's leader with ours following. Through ours, the same requests get the same answers
// (NoAuth without super, BadVersion for a stale curConfigId, NewConfigNoQuorum, MarshallingError for an empty
// membership, success of incremental and whole-membership changes); every member ends with the same
// /zookeeper/config and the same zoo.cfg.dynamic.<version> file, and each zoo.cfg is rewritten to point at it
// with its keys in the order Apache writes them; a removed server and a server whose role changed go on as
// Apache's do.
func TestReconfigWithApache(t *testing.T) {
	harness.EnsureZKServer(t)
	t.Run("ours leads", func(t *testing.T) { reconfigScenario(t, true) })
	t.Run("Apache leads", func(t *testing.T) { reconfigScenario(t, false) })
}

// reconfigEnsemble is a new ensemble whose members have reconfigEnabled (standaloneEnabled=false).
func reconfigEnsemble(t *testing.T) *ensemble {
	en := newEnsemble(t)
	for id := int64(1); id <= 3; id++ {
		en.extra[id] = map[string]string{"reconfigEnabled": "true", "standaloneEnabled": "false"}
	}
	return en
}

func reconfigScenario(t *testing.T, oursLead bool) {
	en := reconfigEnsemble(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	servers, oursID := en.mixedQuorum(t, ctx, oursLead)
	ours := servers[oursID]
	// Apache's member whose server line, like ours, gives no client address: its zoo.cfg keeps clientPort.
	likeOurs := 4 - oursID
	// ZOOKEEPER-1783: the first leader gives the initial config its NEWLEADER zxid as version, and everyone
	// activates it (files included).
	sameConfigEverywhere(t, servers, 1<<32)
	sameDynamicFiles(t, servers, 1<<32, oursID, likeOurs)
	// Each zoo.cfg, rewritten, was copied first as it was started with (its server lines in it).
	for id, s := range servers {
		bak, err := os.ReadFile(filepath.Join(s.Dir(), "zoo.cfg.bak"))
		if err != nil || !strings.Contains(string(bak), "server.1=") || strings.Contains(string(bak), "dynamicConfigFile") {
			t.Errorf("server %d (%s) zoo.cfg.bak: %v\n%s", id, s.Kind(), err, bak)
		}
	}

	m2 := en.members[2]
	line := func(id int64) string { return fmt.Sprintf("server.%d=%s", id, en.members[id].line()) }
	all := []string{line(1), line(2), line(3)}
	anon, _ := connect(t, ours.Addr())
	if _, err := anon.Reconfig(all, -1); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("reconfig without super through ours: %v, want NoAuth", err)
	}
	c, _ := connect(t, ours.Addr())
	if err := c.AddAuth("digest", []byte("super:"+harness.SuperPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reconfig(all, 12345); !errors.Is(err, zk.ErrBadVersion) {
		t.Fatalf("stale curConfigId: %v, want BadVersion", err)
	}
	// go-zookeeper has no name for NewConfigNoQuorum (-13).
	if _, err := c.Reconfig([]string{"server.9=127.0.0.1:1:2"}, -1); err == nil || !strings.HasSuffix(err.Error(), ": -13") {
		t.Fatalf("a config of an absent server: %v, want NewConfigNoQuorum", err)
	}

	// newMembers "" is no incremental change (that is null, as go-zookeeper's IncrementalReconfig sends it) but an
	// empty membership: MarshallingError with standaloneEnabled=false.
	raw, err := zkclient.Dial(ours.Addr(), zkclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.AddAuth("digest", []byte("super:"+harness.SuperPassword)); err != nil {
		t.Fatal(err)
	}
	hdr, err := raw.Do(jute.OpReconfig, &jute.ReconfigRequest{LeavingServers: "2", NewMembers: new(""), CurConfigID: -1}, nil)
	if err != nil || jute.Err(hdr.Err) != jute.ErrMarshallingError {
		t.Fatalf("reconfig with newMembers \"\": %v %v, want MarshallingError", jute.Err(hdr.Err), err)
	}

	// Remove Apache's follower 2 (incrementally): it goes on as a non-voting follower.
	st, err := c.IncrementalReconfig(nil, []string{"2"}, -1)
	if err != nil {
		t.Fatalf("remove server 2: %v", err)
	}
	text := sameConfigEverywhere(t, servers, st.Mzxid)
	t.Logf("config after removing server 2:\n%s", text)
	if strings.Contains(text, "server.2=") {
		t.Fatalf("server 2 still in %q", text)
	}
	sameDynamicFiles(t, servers, st.Mzxid, oursID, likeOurs)

	// Server 2 back, as an observer.
	join := fmt.Sprintf("server.2=127.0.0.1:%d:%d:observer;127.0.0.1:%d", m2.quorumPort, m2.electionPort, m2.clientPort)
	if st, err = c.Reconfig([]string{line(1), join, line(3)}, st.Mzxid); err != nil {
		t.Fatalf("add server 2 as an observer: %v", err)
	}
	sameConfigEverywhere(t, servers, st.Mzxid)
	sameDynamicFiles(t, servers, st.Mzxid, oursID, likeOurs)
	eventually(t, "server 2 observes", func() error {
		if m := mode(t, servers[2]); m != "observer" {
			return fmt.Errorf("mode %s", m)
		}
		return nil
	})
	// And a voter again (a role change of Apache's server).
	join = strings.Replace(join, ":observer;", ":participant;", 1)
	if st, err = c.Reconfig([]string{line(1), join, line(3)}, -1); err != nil {
		t.Fatalf("server 2 a participant again: %v", err)
	}
	sameConfigEverywhere(t, servers, st.Mzxid)
	eventually(t, "server 2 follows", func() error {
		if m := mode(t, servers[2]); m != "follower" {
			return fmt.Errorf("mode %s", m)
		}
		return nil
	})

	// Remove the leader, server 3 (ours, or Apache's): it designates server 1, the lowest voter left that
	// acknowledged, which takes over without an election (an election would pick server 2, the higher id of two
	// equal histories), server 2 following it; server 3 goes on as a non-voting follower of server 1.
	c2, _ := connect(t, servers[2].Addr())
	if err := c2.AddAuth("digest", []byte("super:"+harness.SuperPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.IncrementalReconfig(nil, []string{"3"}, -1); err != nil && !errors.Is(err, zk.ErrConnectionClosed) {
		t.Fatalf("remove the leader: %v", err)
	}
	eventually(t, "server 1 leads the others", func() error {
		if m1, m2, m3 := mode(t, servers[1]), mode(t, servers[2]), mode(t, servers[3]); m1 != "leader" ||
			m2 != "follower" || m3 != "follower" {
			return fmt.Errorf("modes: 1 %s, 2 %s, 3 %s", m1, m2, m3)
		}
		return nil
	})
	if text := sameConfigEverywhere(t, servers, 0); strings.Contains(text, "server.3=") {
		t.Fatalf("server 3 still in %q", text)
	}
}

// configNode is what a server answers for /zookeeper/config: its data and the stat fields of its own.
type configNode struct {
	data                       string
	mzxid, czxid, pzxid        int64
	version, cversion, aclVers int32
}

// configNodes reads /zookeeper/config on every server.
func configNodes(servers map[int64]*harness.Server) (map[int64]configNode, error) {
	nodes := map[int64]configNode{}
	for id, s := range servers {
		c, _, err := zk.Connect([]string{s.Addr()}, 5*time.Second, zk.WithLogInfo(false))
		if err != nil {
			return nil, err
		}
		data, st, err := c.Get("/zookeeper/config")
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("server %d: %w", id, err)
		}
		nodes[id] = configNode{string(data), st.Mzxid, st.Czxid, st.Pzxid, st.Version, st.Cversion, st.Aversion}
	}
	return nodes, nil
}

// sameConfigEverywhere waits until every server's /zookeeper/config holds one text whose version is version (0:
// whatever it is) and returns it.
func sameConfigEverywhere(t *testing.T, servers map[int64]*harness.Server, version int64) string {
	t.Helper()
	var text string
	eventually(t, "the same /zookeeper/config on every server", func() error {
		nodes, err := configNodes(servers)
		if err != nil {
			return err
		}
		texts := map[string][]int64{}
		for id, n := range nodes {
			texts[n.data] = append(texts[n.data], id)
		}
		if len(texts) != 1 {
			return fmt.Errorf("texts differ: %v", texts)
		}
		for k := range texts {
			text = k
		}
		if version != 0 && !strings.HasSuffix(text, "\nversion="+strconv.FormatInt(version, 16)) {
			return fmt.Errorf("config %q, want version %x", text, version)
		}
		return nil
	})
	return text
}

// sameDynamicFiles checks every server wrote zoo.cfg.dynamic.<version> alike and pointed its zoo.cfg at it, and
// that our zoo.cfg has its keys in the order Apache's server like (static client port kept) has them.
func sameDynamicFiles(t *testing.T, servers map[int64]*harness.Server, version int64, oursID, likeOurs int64) {
	t.Helper()
	name := "zoo.cfg.dynamic." + strconv.FormatInt(version, 16)
	var want []byte
	keyOrder := map[int64][]string{}
	eventually(t, "dynamic files written", func() error {
		for id, s := range servers {
			got, err := os.ReadFile(filepath.Join(s.Dir(), name))
			if err != nil {
				return fmt.Errorf("server %d (%s): %w", id, s.Kind(), err)
			}
			if want == nil {
				want = got
			} else if !bytes.Equal(got, want) {
				return fmt.Errorf("server %d (%s) wrote %q, another %q", id, s.Kind(), got, want)
			}
			cfg, err := os.ReadFile(filepath.Join(s.Dir(), "zoo.cfg"))
			if err != nil {
				return err
			}
			dyn, _ := filepath.EvalSymlinks(filepath.Join(s.Dir(), name))
			if !strings.HasSuffix(string(cfg), "dynamicConfigFile="+dyn+"\n") {
				return fmt.Errorf("server %d (%s) zoo.cfg does not end pointing at %s:\n%s", id, s.Kind(), dyn, cfg)
			}
			var keys []string
			for line := range strings.SplitSeq(strings.TrimSpace(string(cfg)), "\n") {
				k, _, _ := strings.Cut(line, "=")
				keys = append(keys, k)
			}
			keyOrder[id] = keys
		}
		return nil
	})
	if !slices.Equal(keyOrder[oursID], keyOrder[likeOurs]) {
		t.Errorf("zoo.cfg keys: ours %v, Apache's %v", keyOrder[oursID], keyOrder[likeOurs])
	}
}

// A reconfig proposed and not committed when the whole ensemble stopped is completed when it comes back, from the
// zoo.cfg.dynamic.next file each server finds beside its zoo.cfg (QuorumPeerConfig's lastSeenQuorumVerifier): the
// new leader proposes it with NEWLEADER and everyone activates it, ours leading Apache's servers or following
// Apache's leader. Without reading the file, our leader would go on with the older config.
func TestReconfigNextFileAtRestart(t *testing.T) {
	harness.EnsureZKServer(t)
	for _, oursLead := range []bool{true, false} {
		name := map[bool]string{true: "ours leads", false: "Apache leads"}[oursLead]
		t.Run(name, func(t *testing.T) {
			en := reconfigEnsemble(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			servers, oursID := en.mixedQuorum(t, ctx, oursLead)
			text := sameConfigEverywhere(t, servers, 1<<32)
			for _, s := range servers {
				if err := s.Stop(); err != nil {
					t.Fatal(err)
				}
			}
			// What a reconfig making server 2 an observer would have left on every server before its commit.
			const next = 1<<32 + 7
			m2 := en.members[2]
			nextText := strings.Replace(text, fmt.Sprintf("server.2=127.0.0.1:%d:%d:participant", m2.quorumPort, m2.electionPort),
				fmt.Sprintf("server.2=127.0.0.1:%d:%d:observer", m2.quorumPort, m2.electionPort), 1)
			nextText = strings.Replace(nextText, "\nversion=100000000", "\nversion="+strconv.FormatInt(next, 16), 1)
			if nextText == text || !strings.Contains(nextText, ":observer") {
				t.Fatalf("could not make the next config from %q", text)
			}
			for _, s := range servers {
				if err := os.WriteFile(filepath.Join(s.Dir(), "zoo.cfg.dynamic.next"), []byte(nextText+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range []int64{1, 2, 3} {
				if err := servers[id].Restart(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := sameConfigEverywhere(t, servers, next); got != nextText {
				t.Fatalf("config after the restart %q, want %q", got, nextText)
			}
			eventually(t, "server 2 observes", func() error {
				if m := mode(t, servers[2]); m != "observer" {
					return fmt.Errorf("mode %s", m)
				}
				return nil
			})
			sameDynamicFiles(t, servers, next, oursID, 4-oursID)
			for id, s := range servers {
				if _, err := os.Stat(filepath.Join(s.Dir(), "zoo.cfg.dynamic.next")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("server %d (%s) kept zoo.cfg.dynamic.next: %v", id, s.Kind(), err)
				}
			}
		})
	}
}
