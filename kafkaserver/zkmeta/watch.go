package zkmeta

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/go-zookeeper/zk"
)

// WatchEventType says why a watch delivered an event.
type WatchEventType int

const (
	// WatchInitial is the first event: the state when the watch was set.
	WatchInitial WatchEventType = iota
	// WatchCreated: the znode was created (ZNodeChangeHandler.handleCreation).
	WatchCreated
	// WatchDeleted: the znode was deleted (handleDeletion).
	WatchDeleted
	// WatchDataChanged: the znode's data changed (handleDataChange).
	WatchDataChanged
	// WatchChildrenChanged: the children changed (ZNodeChildChangeHandler.handleChildChange).
	WatchChildrenChanged
	// WatchResync: the session was replaced and the watch set again; changes may have been missed, so treat the
	// carried state as authoritative.
	WatchResync
)

func (t WatchEventType) String() string {
	return [...]string{"initial", "created", "deleted", "data-changed", "children-changed", "resync"}[t]
}

// WatchEvent carries the znode's state as read when the watch was set again after the change, so no change
// between the notification and the re-arm is lost (Kafka's handlers re-read the same way).
type WatchEvent struct {
	Type     WatchEventType
	Path     string // chroot-relative
	Exists   bool
	Data     []byte   // WatchData only
	Stat     *zk.Stat // nil when the znode does not exist
	Children []string // WatchChildren only, sorted
}

type armFunc func() (WatchEvent, <-chan zk.Event, error)

// WatchData watches a znode's existence and data: the first event is WatchInitial, then one event per change,
// re-armed each time. The channel closes when ctx ends or the client closes.
func (c *Client) WatchData(ctx context.Context, path string) (<-chan WatchEvent, error) {
	full := c.full(path)
	arm := func() (WatchEvent, <-chan zk.Event, error) {
		for {
			data, st, ch, err := c.conn.GetW(full)
			if err == nil {
				return WatchEvent{Path: path, Exists: true, Data: data, Stat: st}, ch, nil
			}
			if !errors.Is(err, zk.ErrNoNode) {
				return WatchEvent{}, nil, err
			}
			ok, st, ch, err := c.conn.ExistsW(full)
			if err != nil {
				return WatchEvent{}, nil, err
			}
			if ok {
				// Created between the two calls: the exists watch also fires on data change and deletion, so it
				// serves as the data watch; read the data without another watch.
				data, st2, err := c.conn.Get(full)
				if errors.Is(err, zk.ErrNoNode) {
					return WatchEvent{Path: path}, ch, nil
				}
				if err != nil {
					return WatchEvent{}, nil, err
				}
				_ = st
				return WatchEvent{Path: path, Exists: true, Data: data, Stat: st2}, ch, nil
			}
			return WatchEvent{Path: path}, ch, nil
		}
	}
	return c.watch(ctx, path, arm)
}

// WatchChildren watches a znode's children (and its creation or deletion): the first event is WatchInitial, then
// one event per change, re-armed each time. The channel closes when ctx ends or the client closes.
func (c *Client) WatchChildren(ctx context.Context, path string) (<-chan WatchEvent, error) {
	full := c.full(path)
	arm := func() (WatchEvent, <-chan zk.Event, error) {
		for {
			children, st, ch, err := c.conn.ChildrenW(full)
			if err == nil {
				sort.Strings(children)
				return WatchEvent{Path: path, Exists: true, Children: children, Stat: st}, ch, nil
			}
			if !errors.Is(err, zk.ErrNoNode) {
				return WatchEvent{}, nil, err
			}
			ok, _, ch, err := c.conn.ExistsW(full)
			if err != nil {
				return WatchEvent{}, nil, err
			}
			if ok {
				// Created between the two calls: set the child watch again. The stray exists watch's channel is
				// buffered by the zk client, so leaving it is harmless.
				continue
			}
			return WatchEvent{Path: path}, ch, nil
		}
	}
	return c.watch(ctx, path, arm)
}

// armRetry sets the watch, waiting out connection loss and session replacement.
func (c *Client) armRetry(ctx context.Context, arm armFunc) (WatchEvent, <-chan zk.Event, error) {
	for {
		ev, ch, err := arm()
		if err == nil {
			return ev, ch, nil
		}
		if !errors.Is(err, zk.ErrConnectionClosed) && !errors.Is(err, zk.ErrSessionExpired) && !errors.Is(err, zk.ErrNoServer) {
			return ev, nil, err
		}
		select {
		case <-ctx.Done():
			return ev, nil, ctx.Err()
		case <-c.done:
			return ev, nil, zk.ErrClosing
		case <-c.connectedCh():
		}
	}
}

func (c *Client) watch(ctx context.Context, path string, arm armFunc) (<-chan WatchEvent, error) {
	first, zch, err := c.armRetry(ctx, arm)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", path, err)
	}
	out := make(chan WatchEvent, 1)
	out <- first
	go func() {
		defer close(out)
		for {
			var zev zk.Event
			select {
			case <-ctx.Done():
				return
			case <-c.done:
				return
			case zev = <-zch:
			}
			typ := WatchResync
			switch zev.Type {
			case zk.EventNodeCreated:
				typ = WatchCreated
			case zk.EventNodeDeleted:
				typ = WatchDeleted
			case zk.EventNodeDataChanged:
				typ = WatchDataChanged
			case zk.EventNodeChildrenChanged:
				typ = WatchChildrenChanged
			case zk.EventNotWatching:
				if errors.Is(zev.Err, zk.ErrClosing) {
					return
				}
			}
			ev, ch, err := c.armRetry(ctx, arm)
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, zk.ErrClosing) {
					c.log.Error("watch ended", "path", path, "err", err)
				}
				return
			}
			zch = ch
			ev.Type = typ
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-c.done:
				return
			}
		}
	}()
	return out, nil
}
