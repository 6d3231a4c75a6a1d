package javaclient

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// waitGonePrefix starts a script line that holds the feeding until the server has deleted a node (container or
// TTL reaping): a fixed pause was too short when the server's reaper ran late under load.
const waitGonePrefix = "#waitgone "

// needsWatcher reports whether the script has a #waitgone line, which needs a connection of its own.
func needsWatcher(script []string) bool {
	for _, l := range script {
		if strings.HasPrefix(l, waitGonePrefix) {
			return true
		}
	}
	return false
}

// watcher is a go-zookeeper session beside zkCli.sh's that follows nodes for #waitgone.
type watcher struct{ conn *zk.Conn }

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// dialWatcher connects to addr and waits until the session is established, so that its createSession txn lands
// before the scenario's first one (zkCli.sh's zxids compared with Apache's stay the same).
func dialWatcher(ctx context.Context, addr string) (*watcher, error) {
	conn, _, err := zk.Connect([]string{addr}, 20*time.Second, zk.WithLogger(quietLogger{}))
	if err != nil {
		return nil, fmt.Errorf("javaclient: watcher connect %s: %w", addr, err)
	}
	// Exists is answered only once the session is up.
	done := make(chan error, 1)
	go func() { _, _, err := conn.Exists("/"); done <- err }()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("javaclient: watcher session %s: %w", addr, err)
	}
	return &watcher{conn: conn}, nil
}

// waitGone returns once path has existed and then been deleted. The node may not exist yet (zkCli.sh runs the
// lines fed before this one at its own pace) and may be created and reaped between two checks: exists watches,
// set atomically with each check, see both without polling.
func (w *watcher) waitGone(ctx context.Context, path string) error {
	seen := false
	for {
		ok, _, ev, err := w.conn.ExistsW(path)
		if err != nil {
			return fmt.Errorf("javaclient: exists %s: %w", path, err)
		}
		if !ok && seen {
			return nil
		}
		seen = seen || ok
		select {
		case e := <-ev:
			seen = seen || e.Type == zk.EventNodeCreated
		case <-ctx.Done():
			return fmt.Errorf("javaclient: waiting for the server to delete %s (seen: %t): %w", path, seen, ctx.Err())
		}
	}
}

func (w *watcher) close() { w.conn.Close() }
