package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func connect(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogInfo(false), zk.WithLogger(quietLogger{}))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.State() != zk.StateHasSession {
		if time.Now().After(deadline) {
			t.Fatalf("no session with %s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return c
}

// TestKill9KeepsAcknowledgedWrites creates znodes from several clients,
// SIGKILLs the server at a random moment, restarts it on the same dataDir and
// checks that every create and setData the server acknowledged is there.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	for round := 0; round < 3; round++ {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) { kill9Round(t) })
	}
}

func kill9Round(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := writeZooCfg(t, dir, filepath.Join(dir, "data"), port, "snapCount=300")
	logf := filepath.Join(dir, "zkserver.log")
	p := startZkserver(t, cfg, addr, logf)

	setup := connect(t, addr)
	if _, err := setup.Create("/d", nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	setup.Close()

	var mu sync.Mutex
	acked := map[string][]byte{} // path -> last acknowledged data
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c, _, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogInfo(false), zk.WithLogger(quietLogger{}), zk.WithMaxConnBufferSize(1<<20))
			if err != nil {
				return
			}
			defer c.Close()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/d/w%d-%d", w, i)
				data := bytes.Repeat([]byte{byte('a' + w)}, 100+i%500)
				if _, err := c.Create(path, data, 0, zk.WorldACL(zk.PermAll)); err != nil {
					if errors.Is(err, zk.ErrNoServer) || errors.Is(err, zk.ErrConnectionClosed) || errors.Is(err, zk.ErrClosing) || errors.Is(err, zk.ErrSessionExpired) {
						return
					}
					continue
				}
				mu.Lock()
				acked[path] = data
				mu.Unlock()
				if i%3 == 0 {
					nd := append([]byte("v2-"), data[:10]...)
					if _, err := c.Set(path, nd, 0); err == nil {
						mu.Lock()
						acked[path] = nd
						mu.Unlock()
					}
				}
			}
		}(w)
	}
	time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
	p.kill()
	close(stop)
	wg.Wait()

	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n == 0 {
		t.Fatalf("no write was acknowledged before the kill\n%s", tail(logf))
	}
	startZkserver(t, cfg, addr, logf)
	c := connect(t, addr)
	defer c.Close()
	children, _, err := c.Children("/d")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, ch := range children {
		have["/d/"+ch] = true
	}
	var missing []string
	for path, want := range acked {
		if !have[path] {
			missing = append(missing, path)
			continue
		}
		got, _, err := c.Get(path)
		if err != nil || !bytes.Equal(got, want) {
			// The last write may have been applied but not acknowledged;
			// an acknowledged value must never be older than what we saw.
			if err != nil || !(bytes.HasPrefix(got, []byte("v2-")) && !bytes.HasPrefix(want, []byte("v2-"))) {
				t.Errorf("%s: got %q (%v), want %q", path, got, err, want)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged creates lost after kill -9, e.g. %v", len(missing), n, missing[:min(5, len(missing))])
	}
	t.Logf("%d acknowledged znodes all present after kill -9", n)
}
