package watch

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zkafka/zkafka/jute"
)

type rec struct{ evs []string }

func (r *rec) Process(ev jute.WatcherEvent, acl []jute.ACL) {
	r.evs = append(r.evs, fmt.Sprintf("%d %s", ev.Type, ev.Path))
}

func (r *rec) take() []string { e := r.evs; r.evs = nil; return e }

func TestOneShot(t *testing.T) {
	m := NewManager()
	a := &rec{}
	m.AddData("/x", a)
	m.AddData("/x", a) // twice: still one event
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	if got := a.take(); !slices.Equal(got, []string{"3 /x"}) {
		t.Fatalf("events %v", got)
	}
	if m.Count() != 0 {
		t.Fatalf("count %d", m.Count())
	}
	// Child watches only see NodeChildrenChanged and NodeDeleted.
	m.AddChild("/x", a)
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	m.Trigger("/x", jute.EventNodeCreated, nil)
	if len(a.take()) != 0 || !m.Contains("/x", a, jute.WatcherChildren) {
		t.Fatal("child watch fired on data event")
	}
	m.Trigger("/x", jute.EventNodeChildrenChanged, nil)
	if got := a.take(); !slices.Equal(got, []string{"4 /x"}) {
		t.Fatalf("events %v", got)
	}
}

func TestDeleteDedup(t *testing.T) {
	m := NewManager()
	a, b := &rec{}, &rec{}
	m.AddData("/x", a)
	m.AddChild("/x", a)
	m.AddChild("/x", b)
	m.Trigger("/x", jute.EventNodeDeleted, nil)
	if got := a.take(); !slices.Equal(got, []string{"2 /x"}) {
		t.Fatalf("a %v", got)
	}
	if got := b.take(); !slices.Equal(got, []string{"2 /x"}) {
		t.Fatalf("b %v", got)
	}
	if m.Count() != 0 {
		t.Fatalf("left %d", m.Count())
	}
}

func TestPersistent(t *testing.T) {
	m := NewManager()
	p := &rec{}
	m.AddPersistent("/x", p, false)
	if m.Count() != 2 || !m.Contains("/x", p, jute.WatcherData) || !m.Contains("/x", p, jute.WatcherChildren) {
		t.Fatalf("persistent registration: count %d", m.Count())
	}
	for _, ev := range []int32{jute.EventNodeCreated, jute.EventNodeDataChanged, jute.EventNodeChildrenChanged, jute.EventNodeDeleted} {
		m.Trigger("/x", ev, nil)
	}
	m.Trigger("/x/child", jute.EventNodeCreated, nil) // not recursive
	if got := p.take(); !slices.Equal(got, []string{"1 /x", "3 /x", "4 /x", "2 /x"}) {
		t.Fatalf("events %v", got)
	}
	if m.Count() != 2 {
		t.Fatal("persistent watch removed by firing")
	}
	// A one-shot registration on the same path replaces the mode (Apache's
	// WatcherModeManager): the data side becomes one-shot.
	m.AddData("/x", p)
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	if got := p.take(); !slices.Equal(got, []string{"3 /x"}) {
		t.Fatalf("after override %v", got)
	}
	if !m.Remove("/x", p, jute.WatcherAny) || m.Remove("/x", p, jute.WatcherAny) || m.Count() != 0 {
		t.Fatal("remove")
	}
}

func TestRecursive(t *testing.T) {
	m := NewManager()
	r, root := &rec{}, &rec{}
	m.AddPersistent("/a", r, true)
	m.AddPersistent("/", root, true)
	m.Trigger("/a/b/c", jute.EventNodeCreated, nil)
	m.Trigger("/a/b", jute.EventNodeChildrenChanged, nil)
	m.Trigger("/a", jute.EventNodeDataChanged, nil)
	m.Trigger("/ab", jute.EventNodeDataChanged, nil) // not below /a
	m.Trigger("/a", jute.EventNodeChildrenChanged, nil)
	if got := r.take(); !slices.Equal(got, []string{"1 /a/b/c", "3 /a"}) {
		t.Fatalf("recursive %v", got)
	}
	if got := root.take(); !slices.Equal(got, []string{"1 /a/b/c", "3 /a", "3 /ab"}) {
		t.Fatalf("root recursive %v", got)
	}
	// Persistent (non-recursive) and one-shot watches on ancestors don't fire.
	o := &rec{}
	m.AddData("/a", o)
	m.Trigger("/a/b", jute.EventNodeDataChanged, nil)
	if len(o.take()) != 0 {
		t.Fatal("one-shot ancestor fired")
	}
	m.RemoveWatcher(r)
	m.RemoveWatcher(root)
	m.RemoveWatcher(o)
	if m.Count() != 0 || m.RecursiveCount() != 0 {
		t.Fatalf("left %d recursive %d", m.Count(), m.RecursiveCount())
	}
}

// TestContainsAnyWatcher: as Apache 3.8.0's containsWatcher, checkWatches
// succeeds on a path another session watches, and only for the table (data
// or child) that watch is in; it fails again once that watch is gone.
func TestContainsAnyWatcher(t *testing.T) {
	m := NewManager()
	a, b := &rec{}, &rec{}
	m.AddChild("/x", a)
	if !m.Contains("/x", b, jute.WatcherChildren) || !m.Contains("/x", b, jute.WatcherAny) {
		t.Fatal("another session's child watch not seen")
	}
	if m.Contains("/x", b, jute.WatcherData) {
		t.Fatal("child watch seen as a data watch")
	}
	if m.Remove("/x", b, jute.WatcherChildren) {
		t.Fatal("removed another session's watch")
	}
	m.Trigger("/x", jute.EventNodeChildrenChanged, nil)
	if m.Contains("/x", b, jute.WatcherChildren) {
		t.Fatal("fired one-shot watch still seen")
	}
}

func TestContainsRemove(t *testing.T) {
	m := NewManager()
	a, b := &rec{}, &rec{}
	m.AddData("/x", a)
	if m.Contains("/x", a, jute.WatcherChildren) ||
		!m.Contains("/x", a, jute.WatcherAny) || m.Contains("/y", a, jute.WatcherAny) {
		t.Fatal("contains")
	}
	if m.Remove("/x", a, jute.WatcherChildren) || m.Remove("/x", b, jute.WatcherData) {
		t.Fatal("removed what was not there")
	}
	if !m.Remove("/x", a, jute.WatcherData) || m.Count() != 0 {
		t.Fatal("remove data")
	}
	// Removing only the data half of a persistent watch keeps the child half.
	m.AddPersistent("/p", a, false)
	m.Remove("/p", a, jute.WatcherData)
	m.Trigger("/p", jute.EventNodeDataChanged, nil)
	m.Trigger("/p", jute.EventNodeChildrenChanged, nil)
	if got := a.take(); !slices.Equal(got, []string{"4 /p"}) {
		t.Fatalf("events %v", got)
	}
}

func TestReports(t *testing.T) {
	m := NewManager()
	a, b := &rec{}, &rec{}
	m.AddData("/x", a)
	m.AddData("/y", a)
	m.AddData("/x", b)
	m.AddChild("/z", b) // child watches are not in wchs/wchc/wchp (as Apache)
	c, p, n := m.Summary()
	if c != 2 || p != 2 || n != 3 || m.Count() != 4 {
		t.Fatalf("summary %d %d %d count %d", c, p, n, m.Count())
	}
	if got := m.ByWatcher()[a]; !slices.Equal(got, []string{"/x", "/y"}) {
		t.Fatalf("by watcher %v", got)
	}
	if got := m.ByPath()["/x"]; len(got) != 2 {
		t.Fatalf("by path %v", got)
	}
	d, ch := m.WatchesOf(b)
	if !slices.Equal(d, []string{"/x"}) || !slices.Equal(ch, []string{"/z"}) {
		t.Fatalf("watches of %v %v", d, ch)
	}
}

// Watchers may call back into the manager from Process.
func TestReentrant(t *testing.T) {
	m := NewManager()
	w := &reentrant{m: m}
	m.AddData("/x", w)
	m.Trigger("/x", jute.EventNodeDataChanged, nil)
	if !m.Contains("/x", w, jute.WatcherData) {
		t.Fatal("re-registration from Process lost")
	}
}

type reentrant struct{ m *Manager }

func (r *reentrant) Process(ev jute.WatcherEvent, acl []jute.ACL) { r.m.AddData(ev.Path, r) }

// The node_*_watch_count summaries: one value per table a trigger reached watchers in, counting each watcher once
// per table (a recursive watch on an ancestor and a watch at the path by the same watcher are one), a NodeDeleted's
// child table counting the watchers the data table already notified.
func TestTriggeredSummaries(t *testing.T) {
	m := NewManager()
	a, b := &rec{}, &rec{}
	m.AddData("/x", a)
	m.AddChild("/x", a)
	m.AddChild("/x", b)
	m.Trigger("/x", jute.EventNodeDeleted, nil) // data table: a; child table: a and b
	if d := m.Triggered.Deleted.Snapshot(); d.Count != 2 || d.Sum != 3 || d.Min != 1 || d.Max != 2 {
		t.Fatalf("deleted %+v", d)
	}
	m.Trigger("/x", jute.EventNodeCreated, nil) // no watcher: nothing added
	m.AddPersistent("/", a, true)
	m.AddData("/y", a)
	m.AddData("/y", b)
	m.Trigger("/y", jute.EventNodeCreated, nil)
	m.Trigger("/", jute.EventNodeChildrenChanged, nil) // a recursive watch never sees NodeChildrenChanged
	m.AddPersistent("/p", b, false)
	m.Trigger("/p", jute.EventNodeChildrenChanged, nil) // the persistent watch in the child table
	m.Trigger("/y", jute.EventNodeDataChanged, nil)     // only a's recursive watch is left
	if c := m.Triggered.Created.Snapshot(); c.Count != 1 || c.Sum != 2 {
		t.Fatalf("created %+v", c)
	}
	if c := m.Triggered.Children.Snapshot(); c.Count != 1 || c.Sum != 1 {
		t.Fatalf("children %+v", c)
	}
	if c := m.Triggered.Changed.Snapshot(); c.Count != 1 || c.Sum != 1 {
		t.Fatalf("changed %+v", c)
	}
	m.Triggered.Named().Reset()
	if c := m.Triggered.Created.Snapshot(); c.Count != 0 {
		t.Fatalf("reset %+v", c)
	}
}
