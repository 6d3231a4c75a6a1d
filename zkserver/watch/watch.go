// Package watch is the server-side watch manager: one-shot data and child
// watches, persistent and persistent-recursive watches (addWatch), and the
// fan-out rules of Apache ZooKeeper 3.8's default WatchManager. Like Apache it
// keeps two tables, one for data watches (getData/exists) and one for child
// watches (getChildren); a persistent watch sits in both.
package watch

import (
	"sort"
	"strings"
	"sync"

	"github.com/zkafka/zkafka/jute"
	"github.com/zkafka/zkafka/zkserver/metrics"
)

// Watcher receives events. Implementations are connections: pointer types,
// comparable, usable as map keys. acl is the ACL of the node the event is
// about at fire time so the receiver can drop it without READ (Apache's
// ServerWatcher filtering); nil means "do not filter" (SetWatches replays).
type Watcher interface {
	Process(ev jute.WatcherEvent, acl []jute.ACL)
}

// mode is Apache's WatcherMode.
type mode uint8

const (
	standard mode = iota
	persistent
	recursive
)

// table is one of Apache's two WatchManager instances.
type table struct {
	byPath    map[string]map[Watcher]mode
	byWatcher map[Watcher]map[string]struct{}
	// recursive counts (watcher, path) pairs in recursive mode; while zero a
	// trigger looks only at the exact path, as Apache's PathParentIterator.
	recursive int
}

func newTable() table {
	return table{byPath: map[string]map[Watcher]mode{}, byWatcher: map[Watcher]map[string]struct{}{}}
}

func (t *table) add(path string, w Watcher, md mode) {
	ws := t.byPath[path]
	if ws == nil {
		ws = make(map[Watcher]mode, 1)
		t.byPath[path] = ws
	}
	// A later registration replaces the mode, so a getData watch on a path
	// with a persistent watch turns it one-shot: Apache's WatcherModeManager.
	if old, ok := ws[w]; ok && old == recursive {
		t.recursive--
	}
	if md == recursive {
		t.recursive++
	}
	ws[w] = md
	ps := t.byWatcher[w]
	if ps == nil {
		ps = map[string]struct{}{}
		t.byWatcher[w] = ps
	}
	ps[path] = struct{}{}
}

func (t *table) remove(path string, w Watcher) bool {
	ps := t.byWatcher[w]
	if _, ok := ps[path]; !ok {
		return false
	}
	delete(ps, path)
	if len(ps) == 0 {
		delete(t.byWatcher, w)
	}
	ws := t.byPath[path]
	md, ok := ws[w]
	if !ok {
		return false
	}
	if md == recursive {
		t.recursive--
	}
	delete(ws, w)
	if len(ws) == 0 {
		delete(t.byPath, path)
	}
	return true
}

func (t *table) removeWatcher(w Watcher) {
	for p := range t.byWatcher[w] {
		ws := t.byPath[p]
		if ws[w] == recursive {
			t.recursive--
		}
		delete(ws, w)
		if len(ws) == 0 {
			delete(t.byPath, p)
		}
	}
	delete(t.byWatcher, w)
}

// collect returns the watchers an event on path reaches and removes the
// one-shot ones, following Apache's WatchManager.triggerWatch: at the path
// itself every mode fires (recursive ones except for NodeChildrenChanged); at
// ancestors only recursive watches fire, again never for NodeChildrenChanged.
func (t *table) collect(path string, evType int32, out []Watcher) []Watcher {
	// seen holds the watchers this table reached so far, once ancestors are visited too: a watch at the path
	// and one on an ancestor reach their watcher once. (One path holds a watcher once.)
	var seen map[Watcher]struct{}
	n := len(out)
	visit := func(p string, atPath bool) {
		ws := t.byPath[p]
		for w, md := range ws {
			if md == recursive {
				if evType == jute.EventNodeChildrenChanged {
					continue
				}
			} else if !atPath {
				continue
			} else if md == standard {
				delete(ws, w)
				if ps := t.byWatcher[w]; ps != nil {
					delete(ps, p)
					if len(ps) == 0 {
						delete(t.byWatcher, w)
					}
				}
			}
			if seen == nil {
				out = append(out, w)
			} else if _, dup := seen[w]; !dup {
				seen[w] = struct{}{}
				out = append(out, w)
			}
		}
		if ws != nil && len(ws) == 0 {
			delete(t.byPath, p)
		}
	}
	visit(path, true)
	if t.recursive > 0 {
		seen = make(map[Watcher]struct{}, len(out)-n)
		for _, w := range out[n:] {
			seen[w] = struct{}{}
		}
		for p := path; p != "/" && p != ""; {
			i := strings.LastIndexByte(p, '/')
			if i <= 0 {
				p = "/"
			} else {
				p = p[:i]
			}
			visit(p, false)
		}
	}
	return out
}

// watched reports whether any watcher has a watch on exactly path.
func (t *table) watched(path string) bool { return len(t.byPath[path]) > 0 }

func (t *table) size() int {
	n := 0
	for _, ws := range t.byPath {
		n += len(ws)
	}
	return n
}

// Manager holds both watch tables. All methods are safe for concurrent use;
// Process is called after the lock is released so a watcher may call back in.
type Manager struct {
	mu    sync.Mutex
	data  table
	child table
	// Triggered are ServerMetrics' node_*_watch_count summaries: how many watchers each table's trigger reached.
	Triggered Triggered
}

// Triggered holds one summary per event type. As Apache's WatchManager.triggerWatch, a trigger of one table adds
// the watchers it reached there (a NodeDeleted's child table counts those the data table already notified), and a
// trigger that reached none adds nothing.
type Triggered struct {
	Created, Deleted, Changed, Children metrics.SummaryCounter
}

// Named lists the summaries under Apache's names.
func (t *Triggered) Named() metrics.Named {
	return metrics.Named{Summaries: map[string]*metrics.SummaryCounter{"node_created_watch_count": &t.Created,
		"node_deleted_watch_count": &t.Deleted, "node_changed_watch_count": &t.Changed,
		"node_children_watch_count": &t.Children}}
}

// add records a trigger that reached n watchers of one table.
func (t *Triggered) add(evType int32, n int) {
	if n == 0 {
		return
	}
	switch evType {
	case jute.EventNodeCreated:
		t.Created.Add(int64(n))
	case jute.EventNodeDeleted:
		t.Deleted.Add(int64(n))
	case jute.EventNodeDataChanged:
		t.Changed.Add(int64(n))
	case jute.EventNodeChildrenChanged:
		t.Children.Add(int64(n))
	}
}

// NewManager returns an empty manager.
func NewManager() *Manager {
	return &Manager{data: newTable(), child: newTable()}
}

// AddData registers a one-shot data watch (getData, exists).
func (m *Manager) AddData(path string, w Watcher) {
	m.mu.Lock()
	m.data.add(path, w, standard)
	m.mu.Unlock()
}

// AddChild registers a one-shot child watch (getChildren).
func (m *Manager) AddChild(path string, w Watcher) {
	m.mu.Lock()
	m.child.add(path, w, standard)
	m.mu.Unlock()
}

// AddPersistent registers an addWatch watch (mode 0, or 1 when recursive) in
// both tables, as DataTree.addWatch does.
func (m *Manager) AddPersistent(path string, w Watcher, recursiveMode bool) {
	md := persistent
	if recursiveMode {
		md = recursive
	}
	m.mu.Lock()
	m.data.add(path, w, md)
	m.child.add(path, w, md)
	m.mu.Unlock()
}

// Trigger fires an event the way DataTree does:
//   - NodeCreated, NodeDataChanged: data table at path;
//   - NodeChildrenChanged: child table at path (the parent of the change);
//   - NodeDeleted: data table, then child table at path, skipping watchers
//     the data table already notified.
//
// Each watcher gets at most one event per call.
func (m *Manager) Trigger(path string, evType int32, acl []jute.ACL) {
	var fire []Watcher
	firstTable := 0
	m.mu.Lock()
	for i, t := range m.tablesFor(evType) {
		n := len(fire)
		fire = t.collect(path, evType, fire)
		m.Triggered.add(evType, len(fire)-n)
		if i == 0 {
			firstTable = len(fire)
		}
	}
	m.mu.Unlock()
	fire = dedup(fire, firstTable)
	ev := jute.WatcherEvent{Type: evType, State: jute.StateSyncConnected, Path: path}
	for _, w := range fire {
		w.Process(ev, acl)
	}
}

// tablesFor are the tables an event fires, in order.
func (m *Manager) tablesFor(evType int32) []*table {
	switch evType {
	case jute.EventNodeCreated, jute.EventNodeDataChanged:
		return []*table{&m.data}
	case jute.EventNodeChildrenChanged:
		return []*table{&m.child}
	case jute.EventNodeDeleted:
		return []*table{&m.data, &m.child}
	}
	return nil
}

// dedup drops from fire[n:] the watchers fire[:n] already holds: a NodeDeleted notifies each watcher once.
func dedup(fire []Watcher, n int) []Watcher {
	if n == 0 || n == len(fire) {
		return fire
	}
	first := make(map[Watcher]struct{}, n)
	for _, w := range fire[:n] {
		first[w] = struct{}{}
	}
	out := fire[:n]
	for _, w := range fire[n:] {
		if _, dup := first[w]; !dup {
			out = append(out, w)
		}
	}
	return out
}

// Contains answers checkWatches: whether a watch of kind typ
// (jute.WatcherChildren, WatcherData, WatcherAny) is on exactly path;
// persistent watches count, being in both tables. As Apache 3.8.0's
// WatchManager.containsWatcher it does not look at which watcher holds it,
// so w's check also succeeds on another session's watch (3.9 checks the
// watcher); 3.8 clients see that answer, so w is not compared.
func (m *Manager) Contains(path string, w Watcher, typ int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case jute.WatcherChildren:
		return m.child.watched(path)
	case jute.WatcherData:
		return m.data.watched(path)
	case jute.WatcherAny:
		return m.child.watched(path) || m.data.watched(path)
	}
	return false
}

// Remove deletes w's watch of kind typ on path (removeWatches), whatever its
// mode; false when nothing matched.
func (m *Manager) Remove(path string, w Watcher, typ int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch typ {
	case jute.WatcherChildren:
		return m.child.remove(path, w)
	case jute.WatcherData:
		return m.data.remove(path, w)
	case jute.WatcherAny:
		c := m.child.remove(path, w)
		d := m.data.remove(path, w)
		return c || d
	}
	return false
}

// RemoveWatcher drops every watch of w (connection closed).
func (m *Manager) RemoveWatcher(w Watcher) {
	m.mu.Lock()
	m.data.removeWatcher(w)
	m.child.removeWatcher(w)
	m.mu.Unlock()
}

// Count is DataTree.getWatchCount (mntr zk_watch_count): registrations in
// both tables.
func (m *Manager) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data.size() + m.child.size()
}

// RecursiveCount is the number of persistent-recursive registrations
// (counted once per (watcher, path), from the data table).
func (m *Manager) RecursiveCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.data.recursive
}

// Summary is what wchs prints: connections, paths and total watches. Like
// Apache (DataTree.dumpWatchesSummary) it covers the data table only.
func (m *Manager) Summary() (connections, paths, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ps := range m.data.byWatcher {
		total += len(ps)
	}
	return len(m.data.byWatcher), len(m.data.byPath), total
}

// ByWatcher is wchc: paths per watcher, sorted, data table only (as Apache).
func (m *Manager) ByWatcher() map[Watcher][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Watcher][]string, len(m.data.byWatcher))
	for w, ps := range m.data.byWatcher {
		l := make([]string, 0, len(ps))
		for p := range ps {
			l = append(l, p)
		}
		sort.Strings(l)
		out[w] = l
	}
	return out
}

// ByPath is wchp: watchers per path, data table only (as Apache).
func (m *Manager) ByPath() map[string][]Watcher {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]Watcher, len(m.data.byPath))
	for p, ws := range m.data.byPath {
		l := make([]Watcher, 0, len(ws))
		for w := range ws {
			l = append(l, w)
		}
		out[p] = l
	}
	return out
}

// WatchesOf lists w's registrations for SetWatches-style bookkeeping: data
// and child paths (one-shot or persistent) per table.
func (m *Manager) WatchesOf(w Watcher) (data, child []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.data.byWatcher[w] {
		data = append(data, p)
	}
	for p := range m.child.byWatcher[w] {
		child = append(child, p)
	}
	sort.Strings(data)
	sort.Strings(child)
	return data, child
}
