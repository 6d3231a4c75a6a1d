package zkmeta

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"
)

// DefaultChangeExpiration is how long a change notification stays before a listener deletes it
// (ZkNodeChangeNotificationListener's changeExpirationMs).
const DefaultChangeExpiration = 15 * time.Minute

// NotificationListener is ZkNodeChangeNotificationListener: it watches a path of sequential notifications
// (Prefix followed by the sequence number), hands each one after the last it executed to Handle in sequence
// order, and deletes those older than Expiration. The config change (/config/changes) and ACL change
// (/kafka-acl-changes, /kafka-acl-extended-changes) listeners are its uses.
type NotificationListener struct {
	ZK     *Client
	Path   string
	Prefix string
	// Handle processes one notification's data; an error is logged and the listener goes on.
	Handle func(data []byte) error
	// Expiration is how old a notification gets before it is deleted; 0 is DefaultChangeExpiration.
	Expiration time.Duration
	// Now is the clock; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	lastExecuted atomic.Int64 // the sequence number plus one: the zero value is "none yet"
}

// LastExecuted is the sequence number of the last notification handled; -1 before the first.
func (l *NotificationListener) LastExecuted() int64 { return l.lastExecuted.Load() - 1 }

// Run creates the path if missing and processes the notifications at every change of its children, and again
// after a session change. It returns when ctx ends or the client closes.
func (l *NotificationListener) Run(ctx context.Context) error {
	if err := l.ZK.MakeSurePersistentPathExists(l.Path); err != nil {
		return fmt.Errorf("notification listener %s: %w", l.Path, err)
	}
	events, err := l.ZK.WatchChildren(ctx, l.Path)
	if err != nil {
		return fmt.Errorf("notification listener %s: %w", l.Path, err)
	}
	for ev := range events {
		l.Process(ev.Children)
	}
	return ctx.Err()
}

// Process handles one listing of the path's children.
func (l *NotificationListener) Process(children []string) {
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	expiration := cmp.Or(l.Expiration, DefaultChangeExpiration)
	type note struct {
		name string
		seq  int64
	}
	var notes []note
	for _, c := range children {
		s, ok := strings.CutPrefix(c, l.Prefix)
		seq, err := strconv.ParseInt(s, 10, 64)
		if !ok || err != nil {
			logger.Warn("unexpected znode among change notifications", "path", l.Path, "znode", c)
			continue
		}
		notes = append(notes, note{c, seq})
	}
	slices.SortFunc(notes, func(a, b note) int { return cmp.Compare(a.seq, b.seq) })
	for _, n := range notes {
		if n.seq <= l.LastExecuted() {
			continue
		}
		path := l.Path + "/" + n.name
		data, st, err := l.ZK.GetDataAndStat(path)
		switch {
		case err != nil:
			logger.Error("reading change notification failed", "znode", path, "err", err)
		case st == nil || data == nil:
			logger.Warn("read null data from change notification", "znode", path)
		default:
			if err := l.Handle(data); err != nil {
				logger.Error("error processing change notification", "znode", path, "data", string(data), "err", err)
			}
		}
		l.lastExecuted.Store(n.seq + 1)
	}
	for _, n := range notes {
		path := l.Path + "/" + n.name
		_, st, err := l.ZK.GetDataAndStat(path)
		if err != nil || st == nil {
			continue
		}
		if now().UnixMilli()-st.Ctime > expiration.Milliseconds() {
			if err := l.ZK.Delete(path, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
				logger.Warn("purging change notification failed", "znode", path, "err", err)
			}
		}
	}
}
