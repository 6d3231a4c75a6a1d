package zkserver

import (
	"fmt"
	"sync"
	"testing"

	"github.com/go-zookeeper/zk"
)

// BenchmarkSetData32 measures setData of 1 KiB values from 32 concurrent
// sessions, fsync on, the same shape as `zkafka bench zk --op set`.
func BenchmarkSetData32(b *testing.B) { benchWrite(b, false) }

// BenchmarkGetData32 is the read twin.
func BenchmarkGetData32(b *testing.B) { benchWrite(b, true) }

// BenchmarkCreate32 creates 1 KiB znodes under one parent from 32 sessions.
func BenchmarkCreate32(b *testing.B) { benchOp(b, "create") }

func benchWrite(b *testing.B, read bool) {
	if read {
		benchOp(b, "get")
	} else {
		benchOp(b, "set")
	}
}

func benchOp(b *testing.B, op string) {
	s, err := Start(Config{
		ClientAddr: "127.0.0.1:0", TickTime: 2000, MinSessionTimeout: 4000, MaxSessionTimeout: 40000,
		DataDir: b.TempDir(), DataLogDir: b.TempDir(), SnapCount: 100000, PreAllocSize: 64 << 20, ForceSync: true,
		DigestEnabled: true, JuteMaxBuffer: 0xfffff,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const clients = 32
	conns := make([]*zk.Conn, clients)
	for i := range conns {
		c, _, err := zk.Connect([]string{s.Addr().String()}, 10e9, zk.WithLogInfo(false))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
		if _, err := c.Create(fmt.Sprintf("/n%d", i), make([]byte, 1024), 0, zk.WorldACL(zk.PermAll)); err != nil {
			b.Fatal(err)
		}
	}
	data := make([]byte, 1024)
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/clients + 1
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *zk.Conn) {
			defer wg.Done()
			p := fmt.Sprintf("/n%d", i)
			for j := 0; j < per; j++ {
				var err error
				switch op {
				case "get":
					_, _, err = c.Get(p)
				case "set":
					_, err = c.Set(p, data, -1)
				default:
					_, err = c.Create(fmt.Sprintf("%s/c%d", p, j), data, 0, zk.WorldACL(zk.PermAll))
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}(i, c)
	}
	wg.Wait()
	if f := s.proc.Stats.FsyncTime.Snapshot().Count; f > 0 && op != "get" {
		b.ReportMetric(float64(per*clients)/float64(f), "writes/fsync")
	}
}
