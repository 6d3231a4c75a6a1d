package zkclient

import (
	"testing"
)

func TestValidatePath(t *testing.T) {
	cases := []struct {
		path string
		seq  bool
		want string
	}{
		{"/", false, ""},
		{"/a/b", false, ""},
		{"/a/", true, ""},
		{"", false, "Path length must be > 0"},
		{"a", false, "Path must start with / character"},
		{"/a/", false, "Path must not end with / character"},
		{"/a//b", false, `Invalid path string "/a//b" caused by empty node name specified @3`},
		{"/a/./b", false, `Invalid path string "/a/./b" caused by relative paths not allowed @3`},
		{"/a/..", false, `Invalid path string "/a/.." caused by relative paths not allowed @4`},
		{"/a/..b", false, ""},
		{"/a\x01", false, "Invalid path string \"/a\x01\" caused by invalid character @2"},
		{"/a\x00", false, "Invalid path string \"/a\x00\" caused by null character not allowed @2"},
		{"/\U0001F600", false, `Invalid path string "/` + "\U0001F600" + `" caused by invalid character @1`},
	}
	for _, c := range cases {
		err := ValidatePath(c.path, c.seq)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("ValidatePath(%q,%v) = %q, want %q", c.path, c.seq, got, c.want)
		}
	}
}

func TestEventQueueOrder(t *testing.T) {
	q := newEventQueue()
	const n = 3 * eventBuffer
	for i := range n {
		q.push(Event{Zxid: int64(i)})
	}
	q.close()
	i := 0
	for ev := range q.out {
		if ev.Zxid != int64(i) {
			t.Fatalf("event %d came as %d", ev.Zxid, i)
		}
		i++
	}
	if i != n {
		t.Fatalf("got %d events, want %d", i, n)
	}
}

func TestSplitChroot(t *testing.T) {
	for _, c := range []struct{ in, hp, root string }{
		{"h:1", "h:1", ""}, {"h:1/", "h:1", ""}, {"h:1/a/b", "h:1", "/a/b"},
	} {
		hp, root, err := splitChroot(c.in)
		if err != nil || hp != c.hp || root != c.root {
			t.Errorf("splitChroot(%q) = %q %q %v", c.in, hp, root, err)
		}
	}
	if _, _, err := splitChroot("h:1/a/"); err == nil {
		t.Error("trailing slash chroot accepted")
	}
}
