package zkmeta

import "testing"

// A write that landed before a connection loss and was retried meets a version conflict; the block is still ours
// (ZkProducerIdManager's checker), so the broker does not skip to the block after it.
func TestClaimProducerIDBlockRetriedWrite(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *zkServer, chroot string) {
		c := connect(t, s, chroot)
		must(t, c.MakeSurePersistentPathExists(ProducerIDBlockPath))
		first, err := c.AllocateProducerIDBlock(1)
		must(t, err)
		_, st, err := c.GetDataAndStat(ProducerIDBlockPath)
		must(t, err)
		next := ProducerIDBlock{BrokerID: 1, BlockStart: first.BlockEnd + 1, BlockEnd: first.BlockEnd + ProducerIDBlockSize}
		// The first attempt is applied ...
		_, err = c.Set(ProducerIDBlockPath, next.Encode(), st.Version)
		must(t, err)
		// ... and its retry, at the old version, conflicts with it.
		ok, err := c.claimProducerIDBlock(next, st.Version)
		must(t, err)
		if !ok {
			t.Fatal("retried write of our own block not recognised")
		}
		// Another broker's block at that version is a real conflict.
		other := ProducerIDBlock{BrokerID: 2, BlockStart: next.BlockStart, BlockEnd: next.BlockEnd}
		if ok, err := c.claimProducerIDBlock(other, st.Version); err != nil || ok {
			t.Fatalf("conflicting block claimed: %v %v", ok, err)
		}
		// The allocation after it continues from next, not from a skipped block.
		b, err := c.AllocateProducerIDBlock(1)
		must(t, err)
		if b.BlockStart != next.BlockEnd+1 {
			t.Fatalf("next allocation %+v after %+v", b, next)
		}
	})
}
