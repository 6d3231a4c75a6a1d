package tree

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/watch"
)

func BenchmarkApplyCreate(b *testing.B) {
	tr := New(watch.NewManager())
	tr.Apply(&jute.TxnHeader{Zxid: 1, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/b", ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
	data := make([]byte, 1024)
	paths := make([]string, b.N)
	for i := range paths {
		paths[i] = "/b/n" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := tr.Apply(&jute.TxnHeader{Zxid: int64(i + 2), Type: jute.OpCreate},
			&jute.CreateTxn{Path: paths[i], Data: data, ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
		if r.Err != 0 {
			b.Fatal(r.Err)
		}
	}
}

func BenchmarkApplySetData(b *testing.B) {
	tr := New(watch.NewManager())
	tr.Apply(&jute.TxnHeader{Zxid: 1, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/b", ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
	data := make([]byte, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := tr.Apply(&jute.TxnHeader{Zxid: int64(i + 2), Type: jute.OpSetData},
			&jute.SetDataTxn{Path: "/b", Data: data, Version: int32(i + 1)})
		if r.Err != 0 {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkMemory100k reports the heap held by 100k znodes of 1 KiB under
// one parent, in the layout Apache's 700 MB RSS figure refers to.
func BenchmarkMemory100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tr := New(watch.NewManager())
		tr.Apply(&jute.TxnHeader{Zxid: 1, Type: jute.OpCreate}, &jute.CreateTxn{Path: "/b", ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
		for j := 0; j < 100000; j++ {
			tr.Apply(&jute.TxnHeader{Zxid: int64(j + 2), Type: jute.OpCreate},
				&jute.CreateTxn{Path: "/b/node-" + strconv.Itoa(j), Data: make([]byte, 1024), ACL: jute.OpenACLUnsafe, ParentCVersion: -1})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "MB-heap")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e5-1024, "B-overhead/node")
		runtime.KeepAlive(tr)
	}
}
