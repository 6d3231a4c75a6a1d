package election

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestNotificationRoundTrip(t *testing.T) {
	n := Notification{State: Following, Leader: 3, Zxid: 0x500000007, ElectionEpoch: 9, PeerEpoch: 5,
		Version: 2, Config: []byte("server.1=127.0.0.1:2888:3888:participant\nversion=0")}
	b := n.Marshal()
	if len(b) != 44+len(n.Config) {
		t.Fatalf("size %d", len(b))
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != n.State || got.Leader != n.Leader || got.Zxid != n.Zxid || got.ElectionEpoch != n.ElectionEpoch ||
		got.PeerEpoch != n.PeerEpoch || got.Version != 2 || string(got.Config) != string(n.Config) {
		t.Fatalf("got %+v", got)
	}
	if v, ok := got.ConfigVersion(); !ok || v != 0 {
		t.Fatalf("config version %d %v", v, ok)
	}
}

// The two older formats Apache still reads: 28 bytes (peer epoch from the zxid) and 40 (no version).
func TestNotificationOldFormats(t *testing.T) {
	full := Notification{State: Leading, Leader: 2, Zxid: 0x300000001, ElectionEpoch: 4, PeerEpoch: 7}.Marshal()
	n, err := Unmarshal(full[:28])
	if err != nil || n.PeerEpoch != 3 || n.Version != 0 || n.Leader != 2 || n.ElectionEpoch != 4 {
		t.Fatalf("28 bytes: %+v %v", n, err)
	}
	n, err = Unmarshal(full[:40])
	if err != nil || n.PeerEpoch != 7 || n.Version != 0 || n.Config != nil {
		t.Fatalf("40 bytes: %+v %v", n, err)
	}
	// Version 1 carries no config; trailing bytes are ignored.
	v1 := append([]byte{}, full[:36]...)
	v1 = binary.BigEndian.AppendUint32(v1, 1)
	n, err = Unmarshal(append(v1, 1, 2, 3))
	if err != nil || n.Version != 1 || n.Config != nil {
		t.Fatalf("version 1: %+v %v", n, err)
	}
}

func TestNotificationMalformed(t *testing.T) {
	good := Notification{State: Looking, Leader: 1, Config: []byte("version=0")}.Marshal()
	badState := append([]byte{}, good...)
	binary.BigEndian.PutUint32(badState, 4)
	longConfig := append([]byte{}, good...)
	binary.BigEndian.PutUint32(longConfig[40:], 100)
	negConfig := append([]byte{}, good...)
	binary.BigEndian.PutUint32(negConfig[40:], 0xffffffff)
	for name, b := range map[string][]byte{
		"empty": nil, "27 bytes": good[:27], "36 bytes": good[:36], "43 bytes": good[:43],
		"state 4": badState, "config past the end": longConfig, "negative config": negConfig,
	} {
		if _, err := Unmarshal(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestConfigTextVersion(t *testing.T) {
	for text, want := range map[string]int64{"server.1=a:1:2:participant\nversion=1a": 0x1a, "version=0": 0} {
		if v, ok := ConfigTextVersion(text); !ok || v != want {
			t.Errorf("%q: %d %v", text, v, ok)
		}
	}
	if _, ok := ConfigTextVersion("server.1=a:1:2:participant"); ok {
		t.Error("no version line")
	}
}

func TestVerifiers(t *testing.T) {
	m := NewMajority([]int64{3, 1, 2, 2})
	if !m.ContainsQuorum(map[int64]bool{1: true, 3: true}) || m.ContainsQuorum(map[int64]bool{1: true, 9: true}) {
		t.Error("majority of 3")
	}
	// Two groups of two, server 4 weightless: a quorum needs a weight majority in both groups (2 groups: > 1).
	h := NewHierarchical(map[int64][]int64{1: {1, 2}, 2: {3, 4}}, map[int64]int64{4: 0})
	if h.IsVoter(4) || !h.IsVoter(3) {
		t.Error("weights")
	}
	if h.ContainsQuorum(map[int64]bool{1: true, 2: true}) {
		t.Error("one group is not a quorum of two")
	}
	if h.ContainsQuorum(map[int64]bool{2: true, 3: true}) {
		t.Error("server 2 has half of group 1's weight: not more than half")
	}
	if !h.ContainsQuorum(map[int64]bool{1: true, 2: true, 3: true}) {
		t.Error("both groups")
	}
}
