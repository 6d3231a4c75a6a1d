// Package lincheck records what ZooKeeper clients were told while servers fail, and checks it against ZooKeeper's
// guarantees: writes linearizable (github.com/anishathalye/porcupine, a versioned register per znode and a
// counter for a sequential parent), and each session's reads in order (never older than what the session saw or
// wrote before) and holding a value some write wrote at that version.
//
// ZooKeeper's plain reads are served by whichever server the client is on and may be stale, even after a sync
// when that server is a leader that has not yet found out it lost its quorum; so only operations that go through
// the leader's pipeline enter the linearizability check (setData, a multi of one check, a sequential create), and
// reads only at the end, when every server is up and no write is in flight.
package lincheck

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Kind is an operation's kind.
type Kind uint8

const (
	// Write is setData with version -1: the output is the new version.
	Write Kind = iota
	// CAS is setData with Expect as version: OK when it matched, then Version is the new version.
	CAS
	// Check is a multi holding one check of version Expect: OK when it matched. A linearizable read of the
	// version, as a multi is a txn.
	Check
	// Read is a final read (sync, then getData) once nothing else runs: Version and Val read.
	Read
	// SeqCreate is a sequential create under a counter key's parent: Version is the sequence number.
	SeqCreate
)

func (k Kind) String() string {
	return [...]string{"write", "cas", "check", "read", "seqcreate"}[k]
}

// Input is what a client asked for. Key names the register (or counter); Val is unique per write.
type Input struct {
	Kind   Kind
	Key    int
	Val    string
	Expect int32
}

// Output is what it was told.
type Output struct {
	// Unknown: the client cannot tell whether the operation took effect (connection lost, session expired).
	Unknown bool
	OK      bool
	Version int32
	Val     string
}

// Init is every register's value at version 0.
const Init = "init"

// History collects the operations of concurrent clients. Times are nanoseconds since it was made, from the
// monotonic clock.
type History struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	reads map[sessionKey][]observation
}

type sessionKey struct {
	client  int
	session int64
	key     int
}

// observation is a version a session saw (a plain read) or made (its own acknowledged write), in its order.
type observation struct {
	version int32
	val     string
	read    bool
}

// NewHistory starts an empty history.
func NewHistory() *History {
	return &History{start: time.Now(), reads: map[sessionKey][]observation{}}
}

// Now is the time to pass as an operation's call time.
func (h *History) Now() int64 { return int64(time.Since(h.start)) }

// Add records one linearizable operation of client, called at call and answered now. An Unknown output never
// returns: the operation may take effect at any time after its call. Session, when not 0, is the client's
// session throughout the call; its acknowledged writes then count as what the session saw.
func (h *History) Add(client int, session int64, call int64, in Input, out Output) {
	ret := h.Now()
	if out.Unknown {
		ret = math.MaxInt64
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	if session != 0 && !out.Unknown && (in.Kind == Write || in.Kind == CAS && out.OK) {
		h.observe(sessionKey{client, session, in.Key}, observation{version: out.Version, val: in.Val})
	}
}

// Saw records a plain read by client in session (unchanged through the read) of key: version and value.
func (h *History) Saw(client int, session int64, key int, version int32, val string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.observe(sessionKey{client, session, key}, observation{version: version, val: val, read: true})
}

func (h *History) observe(k sessionKey, o observation) {
	h.reads[k] = append(h.reads[k], o)
}

// Counts returns how many operations of each kind were acknowledged and how many ended unknown.
func (h *History) Counts() (acked, unknown map[Kind]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	acked, unknown = map[Kind]int{}, map[Kind]int{}
	for _, op := range h.ops {
		if op.Output.(Output).Unknown {
			unknown[op.Input.(Input).Kind]++
		} else {
			acked[op.Input.(Input).Kind]++
		}
	}
	return acked, unknown
}

// reg is a register's state: its version and value (a counter's next sequence number in ver).
type reg struct {
	ver int32
	val string
}

// step returns the states an operation can lead to. One whose outcome is unknown may or may not have taken
// effect: both states follow, so the checker can place it at its call without guessing (porcupine's
// nondeterministic model), which keeps the search short however many outcomes are unknown.
func step(state, input, output any) []any {
	s, in, out := state.(reg), input.(Input), output.(Output)
	next := reg{s.ver + 1, in.Val}
	either := func(ok bool, st reg) []any {
		if ok {
			return []any{st}
		}
		return nil
	}
	switch in.Kind {
	case Write:
		if out.Unknown {
			return []any{s, next}
		}
		return either(out.Version == next.ver, next)
	case CAS:
		match := s.ver == in.Expect
		switch {
		case out.Unknown && match:
			return []any{s, next}
		case out.Unknown:
			return []any{s}
		case out.OK:
			return either(match && out.Version == next.ver, next)
		default:
			return either(!match, s)
		}
	case Check:
		return either(out.Unknown || out.OK == (s.ver == in.Expect), s)
	case Read:
		return either(out.Version == s.ver && out.Val == s.val, s)
	case SeqCreate:
		counted := reg{ver: s.ver + 1}
		if out.Unknown {
			return []any{s, counted}
		}
		return either(out.Version == s.ver, counted)
	}
	return nil
}

// Model is the registers' model, one partition per key. Counters start at 0 and registers at version 0 holding
// Init; a counter's state is its next sequence number.
var Model = nondeterministic.ToModel()

var nondeterministic = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		var keys []int
		for _, op := range history {
			k := op.Input.(Input).Key
			if byKey[k] == nil {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		sort.Ints(keys)
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init:  func() []any { return []any{reg{val: Init}} },
	Step:  step,
	Equal: func(a, b any) bool { return a.(reg) == b.(reg) },
	DescribeOperation: func(input, output any) string {
		in, out := input.(Input), output.(Output)
		var res string
		switch {
		case out.Unknown:
			res = "?"
		case in.Kind == Write || in.Kind == SeqCreate:
			res = fmt.Sprint(out.Version)
		case in.Kind == Read:
			res = fmt.Sprintf("%d %q", out.Version, out.Val)
		default:
			res = fmt.Sprint(out.OK)
		}
		switch in.Kind {
		case Write:
			return fmt.Sprintf("k%d write %q -> %s", in.Key, in.Val, res)
		case CAS, Check:
			return fmt.Sprintf("k%d %s@%d %q -> %s", in.Key, in.Kind, in.Expect, in.Val, res)
		}
		return fmt.Sprintf("k%d %s -> %s", in.Key, in.Kind, res)
	},
	DescribeState: func(state any) string { return fmt.Sprintf("%d %q", state.(reg).ver, state.(reg).val) },
}

// Result is a check's outcome.
type Result struct {
	Linearizable porcupine.CheckResult
	Info         porcupine.LinearizationInfo
	// Problems are the session guarantees broken.
	Problems []string
}

// Check checks the history: linearizability within timeout, then the sessions' reads.
func (h *History) Check(timeout time.Duration) Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	var r Result
	r.Linearizable, r.Info = porcupine.CheckOperationsVerbose(Model, h.ops, timeout)
	r.Problems = h.sessionProblems()
	return r
}

// sessionProblems checks each session's observations of each key: versions never go back (ZooKeeper serves a
// session from a server at least as recent as the last zxid it saw), and a read's value is the one written at
// that version (by an acknowledged write, or possibly by one whose outcome is unknown).
func (h *History) sessionProblems() []string {
	acked := map[[2]int32]string{} // key, version -> value
	maybe := map[int]map[string]bool{}
	for _, op := range h.ops {
		in, out := op.Input.(Input), op.Output.(Output)
		if in.Kind != Write && in.Kind != CAS {
			continue
		}
		switch {
		case out.Unknown:
			if maybe[in.Key] == nil {
				maybe[in.Key] = map[string]bool{}
			}
			maybe[in.Key][in.Val] = true
		case in.Kind == Write || out.OK:
			acked[[2]int32{int32(in.Key), out.Version}] = in.Val
		}
	}
	var problems []string
	keys := make([]sessionKey, 0, len(h.reads))
	for k := range h.reads {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.client != b.client {
			return a.client < b.client
		}
		if a.session != b.session {
			return a.session < b.session
		}
		return a.key < b.key
	})
	for _, k := range keys {
		var last observation
		for i, o := range h.reads[k] {
			if i > 0 && o.version < last.version {
				what := "read"
				if !last.read {
					what = "wrote"
				}
				problems = append(problems, fmt.Sprintf("client %d session %#x key %d: read version %d after it %s version %d",
					k.client, k.session, k.key, o.version, what, last.version))
			}
			if o.read {
				want, ok := acked[[2]int32{int32(k.key), o.version}]
				switch {
				case ok && want != o.val:
					problems = append(problems, fmt.Sprintf("client %d key %d: read %q at version %d, written %q",
						k.client, k.key, o.val, o.version, want))
				case !ok && !(o.version == 0 && o.val == Init) && !maybe[k.key][o.val]:
					problems = append(problems, fmt.Sprintf("client %d key %d: read %q at version %d, which no write wrote",
						k.client, k.key, o.val, o.version))
				}
			}
			last = o
		}
	}
	return problems
}

// Summary is one line of acknowledged and unknown counts per kind.
func (h *History) Summary() string {
	acked, unknown := h.Counts()
	var parts []string
	for k := Write; k <= SeqCreate; k++ {
		if acked[k]+unknown[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d (%d unknown)", k, acked[k], unknown[k]))
		}
	}
	h.mu.Lock()
	n := 0
	for _, os := range h.reads {
		for _, o := range os {
			if o.read {
				n++
			}
		}
	}
	h.mu.Unlock()
	parts = append(parts, fmt.Sprintf("session reads %d", n))
	return strings.Join(parts, ", ")
}
