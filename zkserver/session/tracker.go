package session

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zkafka/zkafka/jute"
)

// InitialSessionID is SessionTrackerImpl.initializeNextSessionId: the server
// id in the top byte, the low 40 bits of the millisecond clock below it and a
// 16-bit counter starting at 0. Long.MIN_VALUE marks containers, so it is
// stepped over.
func InitialSessionID(serverID int64, nowMs int64) int64 {
	id := int64(uint64(nowMs<<24)>>8) | serverID<<56
	if id == math.MinInt64 {
		id++
	}
	return id
}

type entry struct {
	timeout int32
	expiry  int64 // bucket the session sits in; 0 once taken by Expired
	closing bool
	owner   any
}

// Tracker is SessionTrackerImpl with ExpiryQueue: sessions grouped into
// tickTime buckets. Time is always an argument (Unix milliseconds), so tests
// and simulations drive it. It is safe for concurrent use.
type Tracker struct {
	mu       sync.Mutex
	tick     int64
	next     int64
	sessions map[int64]*entry
	// buckets maps an expiry time to its sessions. Like Apache's ExpiryQueue,
	// a bucket emptied by a touch stays until its time comes, so dumps show it.
	buckets map[int64]map[int64]struct{}
	// touched, once RecordTouches is called, holds the sessions touched since the last TakeTouched: a follower
	// reports them to its leader in PING replies, since only the leader expires sessions.
	touched map[int64]int32
}

// NewTracker returns an empty tracker for server serverID whose ids start
// from InitialSessionID(serverID, nowMs).
func NewTracker(serverID int64, tickTimeMs int, nowMs int64) *Tracker {
	if tickTimeMs <= 0 {
		tickTimeMs = 1
	}
	return &Tracker{
		tick:     int64(tickTimeMs),
		next:     InitialSessionID(serverID, nowMs),
		sessions: make(map[int64]*entry),
		buckets:  make(map[int64]map[int64]struct{}),
	}
}

// roundToNextInterval rounds to the tracker's tick.
func (t *Tracker) roundToNextInterval(ms int64) int64 { return RoundToNextInterval(ms, t.tick) }

// RoundToNextInterval is ExpiryQueue.roundToNextInterval: the first multiple of interval after ms. Apache's
// session and connection expiry queues both group by it.
func RoundToNextInterval(ms, interval int64) int64 {
	return (ms/interval + 1) * interval
}

// Create allocates the next session id and tracks it.
func (t *Tracker) Create(timeoutMs int32, nowMs int64) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.newID()
	t.track(id, timeoutMs, nowMs)
	return id
}

// NewID allocates the next session id without tracking it: a follower's new session is tracked once the leader
// commits it (LearnerSessionTracker.createSession).
func (t *Tracker) NewID() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.newID()
}

func (t *Tracker) newID() int64 {
	id := t.next
	// 0 means "no session" and MinInt64 marks containers; an id still in use
	// (a restored session from an earlier run) must not be handed out twice.
	for id == 0 || id == math.MinInt64 || t.sessions[id] != nil {
		id++
	}
	t.next = id + 1
	return id
}

// Add tracks a session restored from a snapshot or created by a replayed txn
// (trackSession). An already tracked session keeps its timeout but its expiry
// is renewed with timeoutMs, as in Apache.
func (t *Tracker) Add(id int64, timeoutMs int32, nowMs int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.track(id, timeoutMs, nowMs)
}

func (t *Tracker) track(id int64, timeoutMs int32, nowMs int64) {
	e := t.sessions[id]
	if e == nil {
		e = &entry{timeout: timeoutMs}
		t.sessions[id] = e
	}
	t.update(id, e, timeoutMs, nowMs)
}

// update is ExpiryQueue.update: move id to the bucket for now+timeout.
func (t *Tracker) update(id int64, e *entry, timeoutMs int32, nowMs int64) {
	exp := t.roundToNextInterval(nowMs + int64(timeoutMs))
	if exp == e.expiry {
		return
	}
	b := t.buckets[exp]
	if b == nil {
		b = make(map[int64]struct{})
		t.buckets[exp] = b
	}
	b[id] = struct{}{}
	if old := t.buckets[e.expiry]; old != nil {
		delete(old, id)
	}
	e.expiry = exp
}

// Touch renews a session's expiry; false if it is unknown or closing.
func (t *Tracker) Touch(id int64, nowMs int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	if e == nil || e.closing {
		return false
	}
	t.update(id, e, e.timeout, nowMs)
	if t.touched != nil {
		t.touched[id] = e.timeout
	}
	return true
}

// RecordTouches makes the tracker remember the sessions touched, for TakeTouched (a follower), or stop (a leader).
func (t *Tracker) RecordTouches(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case !on:
		t.touched = nil
	case t.touched == nil:
		t.touched = map[int64]int32{}
	}
}

// TakeTouched returns the sessions touched (with their timeouts) since the last call, as a follower's
// getTouchSnapshot.
func (t *Tracker) TakeTouched() map[int64]int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.touched
	if out != nil {
		t.touched = map[int64]int32{}
	}
	return out
}

// Replace drops every session and tracks sessions instead (a follower loading its leader's snapshot).
func (t *Tracker) Replace(sessions map[int64]int32, nowMs int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions = make(map[int64]*entry, len(sessions))
	t.buckets = make(map[int64]map[int64]struct{})
	for id, to := range sessions {
		t.track(id, to, nowMs)
	}
}

// Check is checkSession without the owner test: UnknownSession for an unknown
// id, SessionExpired for a closing one.
func (t *Tracker) Check(id int64) jute.Err {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	switch {
	case e == nil:
		return jute.ErrUnknownSession
	case e.closing:
		return jute.ErrSessionExpired
	}
	return jute.ErrOK
}

// CheckOwner is checkSession with the owner test: the first owner to check
// claims the session; another owner gets SessionMoved. owner must be
// comparable (a connection or learner-handler pointer).
func (t *Tracker) CheckOwner(id int64, owner any) jute.Err {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	switch {
	case e == nil:
		return jute.ErrUnknownSession
	case e.closing:
		return jute.ErrSessionExpired
	case e.owner == nil:
		e.owner = owner
	case e.owner != owner:
		return jute.ErrSessionMoved
	}
	return jute.ErrOK
}

// SetOwner is setOwner: it moves the session to owner (revalidation after a
// reconnect); SessionExpired if the session is unknown or closing.
func (t *Tracker) SetOwner(id int64, owner any) jute.Err {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	if e == nil || e.closing {
		return jute.ErrSessionExpired
	}
	e.owner = owner
	return jute.ErrOK
}

// SetClosing marks a session closing (closeSession seen, or expired); false if
// it is unknown.
func (t *Tracker) SetClosing(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	if e == nil {
		return false
	}
	e.closing = true
	return true
}

// IsClosing reports whether a tracked session is closing.
func (t *Tracker) IsClosing(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	return e != nil && e.closing
}

// Remove forgets a session (its closeSession txn was applied).
func (t *Tracker) Remove(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	if e == nil {
		return
	}
	if b := t.buckets[e.expiry]; b != nil {
		delete(b, id)
	}
	delete(t.sessions, id)
}

// Timeout returns a tracked session's timeout.
func (t *Tracker) Timeout(id int64) (int32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.sessions[id]
	if e == nil {
		return 0, false
	}
	return e.timeout, true
}

// Expired takes every bucket due at nowMs and returns its sessions, sorted,
// marked closing. The caller submits a closeSession for each; the sessions
// stay tracked until Remove.
func (t *Tracker) Expired(nowMs int64) []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []int64
	for exp, b := range t.buckets {
		if exp > nowMs {
			continue
		}
		for id := range b {
			if e := t.sessions[id]; e != nil {
				e.closing = true
				e.expiry = 0
				out = append(out, id)
			}
		}
		delete(t.buckets, exp)
	}
	slices.Sort(out)
	return out
}

// NextExpiry returns the time of the earliest bucket, empty ones included (as
// Apache polls each tick), or 0 if there is none.
func (t *Tracker) NextExpiry() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first int64
	for exp := range t.buckets {
		if first == 0 || exp < first {
			first = exp
		}
	}
	return first
}

// Sessions returns id -> timeout of every tracked session, closing ones
// included, for snapshots (sessionsWithTimeout).
func (t *Tracker) Sessions() map[int64]int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int64]int32, len(t.sessions))
	for id, e := range t.sessions {
		out[id] = e.timeout
	}
	return out
}

// Count returns the number of tracked sessions.
func (t *Tracker) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions)
}

// ExpiryBuckets returns expiry time -> sorted session ids, empty buckets
// included, for the admin "dump" command's expiry_time_to_session_ids.
func (t *Tracker) ExpiryBuckets() map[int64][]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.expiryBucketsLocked()
}

func (t *Tracker) expiryBucketsLocked() map[int64][]int64 {
	out := make(map[int64][]int64, len(t.buckets))
	for exp, b := range t.buckets {
		ids := make([]int64, 0, len(b))
		for id := range b {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		out[exp] = ids
	}
	return out
}

// javaDateLayout is java.util.Date.toString's format.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// Dump is the session part of the "dump" four-letter word
// (SessionTrackerImpl.dumpSessions), times in the local zone.
func (t *Tracker) Dump() string {
	return t.DumpIn(time.Local)
}

// DumpIn is Dump with times shown in loc.
func (t *Tracker) DumpIn(loc *time.Location) string {
	t.mu.Lock()
	buckets := t.expiryBucketsLocked()
	n := len(t.sessions)
	t.mu.Unlock()
	times := make([]int64, 0, len(buckets))
	for exp := range buckets {
		times = append(times, exp)
	}
	slices.Sort(times)
	var b strings.Builder
	fmt.Fprintf(&b, "Session Sets (%d)/(%d):\n", len(buckets), n)
	for _, exp := range times {
		ids := buckets[exp]
		fmt.Fprintf(&b, "%d expire at %s:\n", len(ids), time.UnixMilli(exp).In(loc).Format(javaDateLayout))
		for _, id := range ids {
			fmt.Fprintf(&b, "\t0x%x\n", uint64(id))
		}
	}
	return b.String()
}
