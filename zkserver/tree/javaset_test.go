package tree

import (
	"reflect"
	"testing"
)

// Orders printed by Java 17 for the same operations on a new HashSet<String>
// (iteration of the set, and of set.clone()).
func TestJavaStringSetOrder(t *testing.T) {
	var s javaStringSet
	for _, p := range []string{"/a/e1", "/a/x/e2", "/a/x/s0000000001", "/b", "/zk/eph-0000000003"} {
		s.add(p)
	}
	if got := s.order(); !reflect.DeepEqual(got, javaOrder1) {
		t.Fatalf("order %q, want %q", got, javaOrder1)
	}
	if got := s.cloneOrder(); !reflect.DeepEqual(got, javaCloneOrder1) {
		t.Fatalf("clone order %q, want %q", got, javaCloneOrder1)
	}
}

var (
	javaOrder1      = []string{"/b", "/a/x/s0000000001", "/a/x/e2", "/a/e1", "/zk/eph-0000000003"}
	javaCloneOrder1 = []string{"/a/x/s0000000001", "/a/x/e2", "/a/e1", "/b", "/zk/eph-0000000003"}
)

func TestJavaStringSetResizeAndRemove(t *testing.T) {
	var s javaStringSet
	for i := 0; i < 40; i++ {
		s.add("/s/e" + itoa(i))
	}
	for i := 0; i < 30; i++ {
		s.remove("/s/e" + itoa(i*2%40))
	}
	want := []string{"/s/e15", "/s/e37", "/s/e13", "/s/e35", "/s/e11", "/s/e33", "/s/e31", "/s/e29", "/s/e27", "/s/e25", "/s/e23", "/s/e21", "/s/e5", "/s/e3", "/s/e9", "/s/e7", "/s/e1", "/s/e19", "/s/e17", "/s/e39"}
	wantClone := []string{"/s/e27", "/s/e15", "/s/e37", "/s/e25", "/s/e13", "/s/e35", "/s/e23", "/s/e11", "/s/e33", "/s/e21", "/s/e31", "/s/e5", "/s/e3", "/s/e9", "/s/e7", "/s/e1", "/s/e19", "/s/e29", "/s/e17", "/s/e39"}
	if got := s.order(); !reflect.DeepEqual(got, want) {
		t.Fatalf("order %q\nwant %q", got, want)
	}
	if got := s.cloneOrder(); !reflect.DeepEqual(got, wantClone) {
		t.Fatalf("clone order %q\nwant %q", got, wantClone)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
