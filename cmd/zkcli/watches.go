package main

import (
	"slices"

	"github.com/zkafka/zkafka/jute"
)

// watchBook mirrors the Java client's ZKWatchManager for zkCli's single
// watcher: which watches the session holds, so removewatches can report the
// *WatchRemoved events the Java client makes itself, and a resumed session
// can re-register them with setWatches.
type watchBook struct {
	data, exist, child, persistent, recursive map[string]bool
}

func newWatchBook() *watchBook {
	return &watchBook{data: map[string]bool{}, exist: map[string]bool{}, child: map[string]bool{},
		persistent: map[string]bool{}, recursive: map[string]bool{}}
}

// fired drops the one-shot watches an event consumed (ZKWatchManager.materialize).
func (w *watchBook) fired(typ int32, path string) {
	switch typ {
	case jute.EventNodeDataChanged, jute.EventNodeCreated:
		delete(w.data, path)
		delete(w.exist, path)
	case jute.EventNodeChildrenChanged:
		delete(w.child, path)
	case jute.EventNodeDeleted:
		delete(w.data, path)
		delete(w.exist, path)
		delete(w.child, path)
	}
}

// has reports whether a watch of typ exists on path (containsWatcher).
func (w *watchBook) has(path string, typ int32) bool {
	switch typ {
	case jute.WatcherChildren:
		return w.child[path]
	case jute.WatcherData:
		return w.data[path] || w.exist[path]
	}
	return w.child[path] || w.data[path] || w.exist[path] || w.persistent[path] || w.recursive[path]
}

// remove drops the watches of typ on path and returns the event types the
// Java client then delivers, in a fixed order (Java's follows a HashMap).
func (w *watchBook) remove(path string, typ int32) []int32 {
	var evs []int32
	if typ != jute.WatcherData && w.child[path] {
		delete(w.child, path)
		evs = append(evs, jute.EventChildWatchRemoved)
	}
	if typ != jute.WatcherChildren && (w.data[path] || w.exist[path]) {
		delete(w.data, path)
		delete(w.exist, path)
		evs = append(evs, jute.EventDataWatchRemoved)
	}
	if typ == jute.WatcherAny && (w.persistent[path] || w.recursive[path]) {
		delete(w.persistent, path)
		delete(w.recursive, path)
		evs = append(evs, jute.EventPersistentWatchRemoved)
	}
	return evs
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
