package election

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/zoocfg"
)

const fuzzConfigText = "server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181\n" +
	"server.2=127.0.0.1:2889:3889:participant;127.0.0.1:2182\n" +
	"server.3=127.0.0.1:2890:3890:participant;127.0.0.1:2183\nversion=100000000"

// fuzzMessages frames notifications as the fuzz target splits them: the sender's sid in one byte, a one-byte
// length, the payload.
func fuzzMessages(msgs ...[]byte) []byte {
	var b []byte
	for i, m := range msgs {
		b = append(b, byte(2+i%2), byte(len(m)))
		b = append(b, m...)
	}
	return b
}

// FuzzNotifications (make fuzz) decodes election messages from peers and runs them through a looking server's
// election, whose config adoption parses the config text a notification carries, as the server does. A message
// that decodes must re-encode to the same notification.
func FuzzNotifications(f *testing.F) {
	looking := Notification{State: Looking, Leader: 3, Zxid: 0x100000005, ElectionEpoch: 1, PeerEpoch: 1,
		Config: []byte("version=0")}
	following := Notification{State: Following, Leader: 3, Zxid: 0x100000005, ElectionEpoch: 1, PeerEpoch: 1,
		Config: []byte(fuzzConfigText)}
	leading := Notification{State: Leading, Leader: 3, Zxid: 0x100000005, ElectionEpoch: 1, PeerEpoch: 1,
		Config: []byte(fuzzConfigText)}
	f.Add(fuzzMessages(looking.Marshal(), looking.Marshal()))
	f.Add(fuzzMessages(following.Marshal(), leading.Marshal()))
	f.Add(fuzzMessages(looking.Marshal()[:28], looking.Marshal()[:40])) // the old formats
	f.Add(fuzzMessages(looking.Marshal()[:43], []byte{0, 0, 0, 9}))
	f.Fuzz(func(t *testing.T, stream []byte) {
		now := time.Unix(0, 0)
		discard := slog.New(slog.DiscardHandler)
		e := New(Config{MyID: 1, Verifier: NewMajority([]int64{1, 2, 3}), ConfigText: []byte("version=0"),
			AdoptConfig: func(text []byte) bool {
				_, err := zoocfg.ParseConfigText(string(text), true, true, discard)
				return err == nil
			}})
		e.Look(0, 0, now)
		for len(stream) >= 2 {
			from, n := int64(stream[0]), int(stream[1])
			stream = stream[2:]
			if n > len(stream) {
				return
			}
			b := stream[:n]
			stream = stream[n:]
			notif, err := Unmarshal(b)
			if err != nil {
				continue
			}
			checkNotificationRoundTrip(t, notif)
			notif.ConfigVersion()
			e.Receive(from, notif, now)
			now = now.Add(DefaultFinalizeWait)
			e.Tick(now)
		}
	})
}

// checkNotificationRoundTrip: Marshal writes the current format, which reads back with the same fields.
func checkNotificationRoundTrip(t *testing.T, n Notification) {
	t.Helper()
	got, err := Unmarshal(n.Marshal())
	if err != nil {
		t.Fatalf("re-read %+v: %v", n, err)
	}
	if got.State != n.State || got.Leader != n.Leader || got.Zxid != n.Zxid || got.ElectionEpoch != n.ElectionEpoch ||
		got.PeerEpoch != n.PeerEpoch || !bytes.Equal(got.Config, n.Config) {
		t.Fatalf("round trip: %+v became %+v", n, got)
	}
}
