package lincheck

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// op builds a history entry by hand.
func op(call, ret int64, in Input, out Output) porcupine.Operation {
	if out.Unknown {
		ret = math.MaxInt64
	}
	return porcupine.Operation{Input: in, Call: call, Output: out, Return: ret}
}

func check(t *testing.T, ops ...porcupine.Operation) porcupine.CheckResult {
	t.Helper()
	h := NewHistory()
	h.ops = ops
	return h.Check(10 * time.Second).Linearizable
}

func TestLinearizableHistories(t *testing.T) {
	w := func(val string) Input { return Input{Kind: Write, Val: val} }
	cas := func(exp int32, val string) Input { return Input{Kind: CAS, Expect: exp, Val: val} }
	read := Input{Kind: Read}
	ok := func(v int32) Output { return Output{OK: true, Version: v} }
	got := func(v int32, val string) Output { return Output{Version: v, Val: val} }
	unknown := Output{Unknown: true}
	seq := Input{Kind: SeqCreate, Key: 9}
	for _, tc := range []struct {
		name string
		want porcupine.CheckResult
		ops  []porcupine.Operation
	}{
		{"sequential writes", porcupine.Ok, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, w("b"), ok(2)), op(4, 5, read, got(2, "b"))}},
		{"concurrent writes in either order", porcupine.Ok, []porcupine.Operation{
			op(0, 3, w("a"), ok(2)), op(1, 2, w("b"), ok(1)), op(4, 5, read, got(2, "a"))}},
		{"an acknowledged write lost", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, w("b"), ok(2)), op(4, 5, read, got(1, "a"))}},
		{"a version handed out twice", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, w("b"), ok(1))}},
		{"a write ordered before one that finished earlier", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(2)), op(2, 3, w("b"), ok(1))}},
		{"an unknown write that happened", porcupine.Ok, []porcupine.Operation{
			op(0, 0, w("a"), unknown), op(2, 3, w("b"), ok(2)), op(4, 5, read, got(2, "b"))}},
		{"an unknown write that did not", porcupine.Ok, []porcupine.Operation{
			op(0, 0, w("a"), unknown), op(2, 3, w("b"), ok(1)), op(4, 5, read, got(1, "b"))}},
		{"an unknown write that happened after a later one", porcupine.Ok, []porcupine.Operation{
			op(0, 0, w("a"), unknown), op(2, 3, w("b"), ok(1)), op(4, 5, read, got(2, "a"))}},
		{"one unknown write cannot account for two versions", porcupine.Illegal, []porcupine.Operation{
			op(0, 0, w("a"), unknown), op(2, 3, w("b"), ok(3))}},
		{"an unknown write seen before its call", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("b"), ok(1)), op(2, 3, read, got(2, "a")), op(4, 0, w("a"), unknown)}},
		{"cas on the right version", porcupine.Ok, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, cas(1, "b"), ok(2)), op(4, 5, cas(1, "c"), Output{}),
			op(6, 7, read, got(2, "b"))}},
		{"cas succeeding on a stale version", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, cas(0, "b"), ok(1))}},
		{"cas refused on the right version", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, cas(1, "b"), Output{})}},
		{"check", porcupine.Ok, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, Input{Kind: Check, Expect: 1}, Output{OK: true}),
			op(4, 5, Input{Kind: Check, Expect: 0}, Output{})}},
		{"check of a stale version", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, w("a"), ok(1)), op(2, 3, Input{Kind: Check, Expect: 0}, Output{OK: true})}},
		{"sequence numbers in order", porcupine.Ok, []porcupine.Operation{
			op(0, 1, seq, ok(0)), op(2, 0, seq, unknown), op(3, 4, seq, ok(2)), op(5, 6, seq, ok(3))}},
		{"a sequence number handed out twice", porcupine.Illegal, []porcupine.Operation{
			op(0, 1, seq, ok(0)), op(2, 3, seq, ok(1)), op(4, 5, seq, ok(1))}},
		{"keys are independent", porcupine.Ok, []porcupine.Operation{
			op(0, 1, Input{Kind: Write, Key: 1, Val: "x"}, ok(1)), op(2, 3, w("a"), ok(1))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := check(t, tc.ops...); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSessionReads(t *testing.T) {
	h := NewHistory()
	h.ops = []porcupine.Operation{
		op(0, 1, Input{Kind: Write, Val: "a"}, Output{Version: 1}),
		op(2, 3, Input{Kind: Write, Val: "b"}, Output{Version: 2}),
		op(4, 0, Input{Kind: Write, Val: "c"}, Output{Unknown: true}),
	}
	h.Saw(1, 7, 0, 0, Init)
	h.Saw(1, 7, 0, 2, "b")
	h.Saw(1, 7, 0, 3, "c")
	h.Saw(2, 8, 0, 1, "a")
	if p := h.Check(time.Second).Problems; len(p) != 0 {
		t.Fatalf("problems in a good history: %v", p)
	}

	h.Saw(1, 7, 0, 1, "a")  // back in time
	h.Saw(2, 8, 0, 2, "z")  // not what was written at 2
	h.Saw(2, 8, 0, 4, "d")  // written by nobody
	h.Saw(3, 9, 0, 0, Init) // another session
	h.Add(3, 9, 5, Input{Kind: Write, Val: "e"}, Output{Version: 5})
	h.Saw(3, 9, 0, 4, "c") // older than its own write
	p := strings.Join(h.Check(time.Second).Problems, "\n")
	for _, want := range []string{
		"client 1 session 0x7 key 0: read version 1 after it read version 3",
		`client 2 key 0: read "z" at version 2, written "b"`,
		`client 2 key 0: read "d" at version 4, which no write wrote`,
		"client 3 session 0x9 key 0: read version 4 after it wrote version 5",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("problems lack %q:\n%s", want, p)
		}
	}
}
