package zkserver

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/zkafka/zkafka/zkserver/acl"
	"github.com/zkafka/zkafka/zkserver/quorum/election"
	"github.com/zkafka/zkafka/zkserver/quorum/electionnet"
	"github.com/zkafka/zkafka/zkserver/storage"
)

// Serving, the leader and its follower answer a looking server with a vote carrying the epoch they serve in, as
// Apache's members do after QuorumPeer.updateElectionVote: a server that joins later finds their answers agree
// (ZOOKEEPER-1732), where the epoch the election proposed would differ from an Apache member's.
func TestServingMembersAdvertiseTheirEpoch(t *testing.T) {
	members := map[int64]Member{}
	peers := map[int64]string{}
	for id := int64(1); id <= 3; id++ {
		members[id] = Member{QuorumAddr: freeAddr(t), ElectionAddr: freeAddr(t)}
		peers[id] = members[id].ElectionAddr
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	servers := map[int64]*Server{}
	for _, id := range []int64{1, 2} {
		dir := t.TempDir()
		s, err := Start(Config{
			ClientAddr: "127.0.0.1:0", TickTime: 200, MinSessionTimeout: 400, MaxSessionTimeout: 40000,
			DataDir: dir, DataLogDir: filepath.Join(dir, "log"), SnapCount: 100000, PreAllocSize: 1 << 20,
			ForceSync: true, JuteMaxBuffer: 0xfffff, ACL: acl.DefaultConfig(),
			Quorum: &QuorumConfig{MyID: id, Members: members, ElectionListen: members[id].ElectionAddr,
				QuorumListen: members[id].QuorumAddr, InitLimit: 10, SyncLimit: 5, ConnectLimit: 10,
				ConnectRetryDelay: 100 * time.Millisecond, Verifier: election.NewMajority([]int64{1, 2, 3}),
				Voters: map[int64]bool{1: true, 2: true, 3: true}},
			Logger: logger,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		servers[id] = s
	}
	// Server 3 only looks.
	mgr, err := electionnet.Listen(electionnet.Config{MyID: 3, ListenAddr: members[3].ElectionAddr, Peers: peers,
		Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	looking := election.Notification{State: election.Looking, Leader: 3, ElectionEpoch: 1}.Marshal()

	deadline := time.Now().Add(30 * time.Second)
	for {
		err := func() error {
			for id, s := range servers {
				if !s.proc.Serving() {
					return fmt.Errorf("server %d not serving", id)
				}
			}
			want := map[int64]int64{}
			for id, s := range servers {
				epoch, ok, err := storage.ReadEpoch(filepath.Join(s.cfg.DataDir, "version-2"), storage.CurrentEpochFile)
				if err != nil || !ok || epoch < 1 {
					return fmt.Errorf("server %d's current epoch %d (%v, %v)", id, epoch, ok, err)
				}
				want[id] = epoch
				mgr.Send(id, looking)
			}
			got := map[int64]election.Notification{}
			timeout := time.After(2 * time.Second)
			for len(got) < len(servers) {
				select {
				case msg := <-mgr.Recv():
					n, err := election.Unmarshal(msg.Payload)
					if err == nil && n.State != election.Looking {
						got[msg.From] = n
					}
				case <-timeout:
					return fmt.Errorf("answers %+v", got)
				}
			}
			for id, n := range got {
				if n.Leader != 2 || n.PeerEpoch != want[id] {
					return fmt.Errorf("server %d answers %+v, want leader 2, peer epoch %d", id, n, want[id])
				}
			}
			return nil
		}()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
