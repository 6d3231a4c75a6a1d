package pipeline

import "testing"

func TestLargeRequests(t *testing.T) {
	var off *LargeRequests
	if !off.Receiving(1<<30) || off.Rejected() != 0 {
		t.Fatal("a nil throttle rejects")
	}
	if held, ok := off.Admit(1 << 30); !ok || held != 0 {
		t.Fatal("a nil throttle holds")
	}
	l := NewLargeRequests(100, 1000)
	// At the threshold a request is not large; above it, it is held until released.
	if held, ok := l.Admit(100); !ok || held != 0 {
		t.Fatalf("at the threshold: %d %v", held, ok)
	}
	h1, ok1 := l.Admit(600)
	h2, ok2 := l.Admit(400)
	if !ok1 || !ok2 || l.Bytes() != 1000 {
		t.Fatalf("two fitting: %v %v %d", ok1, ok2, l.Bytes())
	}
	// Full: a large frame is refused before its body is read, a small one is not.
	if l.Receiving(101) || !l.Receiving(100) || l.Rejected() != 1 {
		t.Fatalf("full: rejected %d", l.Rejected())
	}
	if _, ok := l.Admit(101); ok || l.Bytes() != 1000 || l.Rejected() != 2 {
		t.Fatalf("admitted past the budget: %d", l.Bytes())
	}
	l.Release(h1)
	if !l.Receiving(600) || l.Receiving(601) {
		t.Fatal("released bytes not given back")
	}
	l.Release(h2)
	if l.Bytes() != 0 {
		t.Fatalf("left %d", l.Bytes())
	}
	l.ResetRejected()
	if l.Rejected() != 0 {
		t.Fatal("srst did not reset")
	}
}
