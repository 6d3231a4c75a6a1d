package quota

import "testing"

// The rate is Kafka's Rate over 11 one-second windows: bytes over the time the windows span, counted as at least
// ten windows, so a first burst of ten seconds' worth passes and one byte more exceeds the bound.
func TestRate(t *testing.T) {
	q := NewReplication(11, 1000)
	q.Record(1<<30, 0)
	if q.Exceeded(0) {
		t.Fatal("an unbounded quota exceeded")
	}
	q = NewReplication(11, 1000)
	q.SetBound(1000)
	q.Record(10_000, 0)
	if r := q.Rate(0); r != 1000 || q.Exceeded(0) {
		t.Fatalf("rate %v after 10000 bytes at once", r)
	}
	q.Record(1, 0)
	if !q.Exceeded(0) {
		t.Fatal("10001 bytes at once not over 1000 B/s")
	}
	// 5.5 s on: still counted over ten and a half windows.
	if r := q.Rate(5500); r != 10_001/10.5 || q.Exceeded(5500) {
		t.Fatalf("rate %v at 5.5 s", r)
	}
	// New windows as time goes on; the first one expires 11 s after it began.
	for s := int64(1); s <= 10; s++ {
		q.Record(500, s*1000)
	}
	if r := q.Rate(10_500); r != 15_001/10.5 || !q.Exceeded(10_500) {
		t.Fatalf("rate %v at 10.5 s", r)
	}
	if r := q.Rate(11_000); r != 5000/10.0 || q.Exceeded(11_000) {
		t.Fatalf("rate %v at 11 s, after the first window expired", r)
	}
	// Long idle: every window expires.
	if r := q.Rate(60_000); r != 0 {
		t.Fatalf("rate %v after a minute idle", r)
	}
}

func TestThrottled(t *testing.T) {
	q := NewReplication(11, 1000)
	q.SetThrottled("a", "0:1, 1:2,2:1", 1)
	q.SetThrottled("b", "*", 1)
	q.SetThrottled("c", "0:2", 1)
	for _, c := range []struct {
		topic string
		p     int32
		want  bool
	}{{"a", 0, true}, {"a", 1, false}, {"a", 2, true}, {"b", 7, true}, {"c", 0, false}, {"d", 0, false}} {
		if got := q.Throttled(c.topic, c.p); got != c.want {
			t.Errorf("%s-%d throttled %v", c.topic, c.p, got)
		}
	}
	q.SetThrottled("b", "", 1)
	if q.Throttled("b", 7) {
		t.Error("throttle not removed")
	}
}

func TestBound(t *testing.T) {
	q := NewReplication(11, 1000)
	if q.Bound() != Unbounded {
		t.Fatalf("new quota bound %d", q.Bound())
	}
	q.SetBound(5)
	if q.Bound() != 5 {
		t.Fatalf("bound %d", q.Bound())
	}
}
