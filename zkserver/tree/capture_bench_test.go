package tree

import (
	"fmt"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

// BenchmarkCapture200k is the core time a snapshot capture costs (spread over steps) with
// 200k 1 KiB znodes under one parent (the benchmark's shape).
func BenchmarkCapture200k(b *testing.B) {
	t := New(nil)
	data := make([]byte, 1024)
	t.Apply(&jute.TxnHeader{Zxid: 1, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/b", ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
	for i := 0; i < 200000; i++ {
		t.Apply(&jute.TxnHeader{Zxid: int64(i + 2), Type: jute.OpCreate},
			&jute.CreateTxn{Path: fmt.Sprintf("/b/n%07d", i), Data: data, ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := t.StartCapture(false)
		steps := 0
		for !j.Step(5000) {
			steps++
		}
		if c := j.Finish(); len(c.nodes) < 200000 || steps < 10 {
			b.Fatal("short capture")
		}
	}
}
