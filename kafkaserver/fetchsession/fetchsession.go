// Package fetchsession keeps incremental fetch sessions (KIP-227) as Kafka 2.8's FetchSessionCache, FetchSession
// and FetchManager do: a Fetch request (v7+) opens a session with a full fetch, later requests name only the
// partitions whose fetch parameters changed, and responses carry only the partitions that have something new.
//
// The cache is a deterministic core: time comes in as milliseconds on every call and session ids come from a
// seeded generator, so tests drive eviction and ids exactly.
package fetchsession

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Session ids and epochs of FetchMetadata.
const (
	InvalidSessionID int32 = 0  // no session
	InitialEpoch     int32 = 0  // a full fetch that asks for a new session
	FinalEpoch       int32 = -1 // a full fetch that wants no session (and every fetch before v7)
)

// DefaultEvictionMs is KafkaServer.MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS: a session unused this long may be
// evicted by anyone, and a session older than this is no longer protected by being privileged.
const DefaultEvictionMs = 120_000

// NextEpoch is FetchMetadata.nextEpoch.
func NextEpoch(prev int32) int32 {
	switch {
	case prev < 0:
		return FinalEpoch
	case prev == math.MaxInt32:
		return 1
	}
	return prev + 1
}

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// PartitionRequest is one partition's fetch parameters (FetchRequest.PartitionData).
type PartitionRequest struct {
	TopicPartition
	FetchOffset        int64
	LogStartOffset     int64 // the follower's; -1 from consumers
	MaxBytes           int32
	CurrentLeaderEpoch int32
	LastFetchedEpoch   int32
}

// PartitionResult is what the read of one partition found: enough to decide whether an incremental response must
// carry it.
type PartitionResult struct {
	RecordBytes          int
	HighWatermark        int64
	LastStableOffset     int64
	LogStartOffset       int64
	ErrorCode            int16
	PreferredReadReplica int32 // -1 when none
	DivergingEpoch       bool
}

// cachedPartition is CachedPartition: the last request parameters and the last response values sent.
type cachedPartition struct {
	req        PartitionRequest
	hw         int64
	lso        int64
	logStart   int64
	prev, next *cachedPartition
}

// mustRespond is CachedPartition.maybeUpdateResponseData; with update it also records what is being sent. Kafka
// 2.8 does not compare the last stable offset; we do, so that read_committed consumers hear of an LSO that moves
// without the high watermark.
func (cp *cachedPartition) mustRespond(r *PartitionResult, update bool) bool {
	must := r.RecordBytes > 0 || r.PreferredReadReplica >= 0 || r.DivergingEpoch
	if cp.hw != r.HighWatermark {
		must = true
		if update {
			cp.hw = r.HighWatermark
		}
	}
	if cp.lso != r.LastStableOffset {
		must = true
		if update {
			cp.lso = r.LastStableOffset
		}
	}
	if cp.logStart != r.LogStartOffset {
		must = true
		if update {
			cp.logStart = r.LogStartOffset
		}
	}
	if r.ErrorCode != 0 {
		// The cached high watermark becomes invalid so that the partition is sent again once the error is gone.
		if update {
			cp.hw = -1
		}
		must = true
	}
	return must
}

// partitionMap is an insertion-ordered set of cached partitions (Kafka's ImplicitLinkedHashCollection):
// incremental fetches read in this order and move partitions that answered to the back, so that partitions
// starved by the response size limit come first next time.
type partitionMap struct {
	byTP       map[TopicPartition]*cachedPartition
	head, tail *cachedPartition
}

func newPartitionMap(n int) partitionMap {
	return partitionMap{byTP: make(map[TopicPartition]*cachedPartition, n)}
}

func (m *partitionMap) len() int { return len(m.byTP) }

func (m *partitionMap) pushBack(cp *cachedPartition) {
	cp.prev, cp.next = m.tail, nil
	if m.tail != nil {
		m.tail.next = cp
	} else {
		m.head = cp
	}
	m.tail = cp
}

func (m *partitionMap) unlink(cp *cachedPartition) {
	if cp.prev != nil {
		cp.prev.next = cp.next
	} else {
		m.head = cp.next
	}
	if cp.next != nil {
		cp.next.prev = cp.prev
	} else {
		m.tail = cp.prev
	}
	cp.prev, cp.next = nil, nil
}

func (m *partitionMap) add(cp *cachedPartition) {
	m.byTP[cp.req.TopicPartition] = cp
	m.pushBack(cp)
}

func (m *partitionMap) remove(tp TopicPartition) bool {
	cp := m.byTP[tp]
	if cp == nil {
		return false
	}
	delete(m.byTP, tp)
	m.unlink(cp)
	return true
}

func (m *partitionMap) moveToBack(cp *cachedPartition) {
	if m.tail == cp {
		return
	}
	m.unlink(cp)
	m.pushBack(cp)
}

// session is FetchSession.
type session struct {
	id         int32
	privileged bool // created by a follower
	partitions partitionMap
	creationMs int64
	lastUsedMs int64
	epoch      int32

	// What the cache last recorded at touch: the size and in which evictable sets the session sits. Kafka keeps
	// these in sorted sets updated only on touch; we keep the flags and scan, which gives the same choices.
	cachedSize      int // -1 when not in the cache
	evictableByPriv bool
	evictableByAll  bool
}

// evictableLess orders sessions as EvictableKey: unprivileged before privileged, then fewer partitions, then id.
func evictableLess(aPriv bool, aSize int, aID int32, bPriv bool, bSize int, bID int32) bool {
	if aPriv != bPriv {
		return !aPriv
	}
	if aSize != bSize {
		return aSize < bSize
	}
	return aID < bID
}

// Cache is FetchSessionCache together with FetchManager.newContext. It is safe for concurrent use.
type Cache struct {
	maxEntries int
	evictionMs int64

	mu            sync.Mutex
	rnd           *rand.Rand
	sessions      map[int32]*session
	numPartitions int
	evictions     int64
}

// NewCache returns a cache of at most maxEntries sessions (max.incremental.fetch.session.cache.slots); ids are
// drawn from a generator seeded with seed.
func NewCache(maxEntries int, evictionMs int64, seed uint64) *Cache {
	return &Cache{
		maxEntries: max(maxEntries, 0), evictionMs: evictionMs,
		rnd: rand.New(rand.NewPCG(seed, 0x6b69702d323237)), sessions: map[int32]*session{},
	}
}

// Len is the number of sessions (NumIncrementalFetchSessions).
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// NumPartitions is the number of cached partitions over all sessions (NumIncrementalFetchPartitionsCached).
func (c *Cache) NumPartitions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.numPartitions
}

// Evictions counts sessions evicted to make room (IncrementalFetchSessionEvictionsPerSec's total).
func (c *Cache) Evictions() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evictions
}

// Epoch returns a session's next expected epoch, and whether the session exists.
func (c *Cache) Epoch(id int32) (int32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[id]
	if s == nil {
		return 0, false
	}
	return s.epoch, true
}

func (c *Cache) newSessionIDLocked() int32 {
	for {
		id := c.rnd.Int32N(math.MaxInt32-1) + 1
		if _, ok := c.sessions[id]; !ok {
			return id
		}
	}
}

// touchLocked is FetchSessionCache.touch: it refreshes the session's last use, size and evictability.
func (c *Cache) touchLocked(s *session, now int64) {
	s.lastUsedMs = now
	if s.cachedSize != -1 {
		c.numPartitions -= s.cachedSize
	}
	s.cachedSize = s.partitions.len()
	old := now-s.creationMs > c.evictionMs
	s.evictableByPriv = !s.privileged || old
	s.evictableByAll = old
	c.numPartitions += s.cachedSize
}

func (c *Cache) removeLocked(s *session) {
	if c.sessions[s.id] != s {
		return
	}
	delete(c.sessions, s.id)
	if s.cachedSize != -1 {
		c.numPartitions -= s.cachedSize
	}
	s.cachedSize = -1
}

// Remove drops a session; it reports whether there was one.
func (c *Cache) Remove(id int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[id]
	if s == nil {
		return false
	}
	c.removeLocked(s)
	return true
}

// tryEvictLocked is FetchSessionCache.tryEvict: first a session unused for longer than the eviction time, else the
// least valuable evictable session if it is worth less than the one proposed (privileged, size).
func (c *Cache) tryEvictLocked(privileged bool, size int, now int64) bool {
	var lru *session
	for _, s := range c.sessions {
		if lru == nil || s.lastUsedMs < lru.lastUsedMs || (s.lastUsedMs == lru.lastUsedMs && s.id < lru.id) {
			lru = s
		}
	}
	if lru == nil {
		return false
	}
	if now-lru.lastUsedMs > c.evictionMs {
		c.removeLocked(lru)
		c.evictions++
		return true
	}
	var victim *session
	for _, s := range c.sessions {
		if privileged && !s.evictableByPriv || !privileged && !s.evictableByAll {
			continue
		}
		if victim == nil || evictableLess(s.privileged, s.cachedSize, s.id, victim.privileged, victim.cachedSize, victim.id) {
			victim = s
		}
	}
	if victim == nil {
		return false
	}
	// The proposed key has id 0, below every real id: it loses only to a strictly smaller (privileged, size).
	if evictableLess(privileged, size, 0, victim.privileged, victim.cachedSize, victim.id) {
		return false
	}
	c.removeLocked(victim)
	c.evictions++
	return true
}

// maybeCreateLocked is FetchSessionCache.maybeCreateSession: a new session when there is room or an entry can be
// evicted, else InvalidSessionID.
func (c *Cache) maybeCreateLocked(now int64, privileged bool, parts partitionMap) int32 {
	if len(c.sessions) >= c.maxEntries && !c.tryEvictLocked(privileged, parts.len(), now) {
		return InvalidSessionID
	}
	s := &session{
		id: c.newSessionIDLocked(), privileged: privileged, partitions: parts, creationMs: now,
		epoch: NextEpoch(InitialEpoch), cachedSize: -1,
	}
	c.touchLocked(s, now)
	c.sessions[s.id] = s
	return s.id
}

// Kind tells the contexts apart.
type Kind int

// The contexts FetchManager.newContext makes.
const (
	Sessionless  Kind = iota // epoch -1 or Fetch v0-6: no session
	Full                     // epoch 0: every partition listed; a session is created when the response is made
	Incremental              // epoch > 0 on a known session
	SessionError             // the session is unknown or the epoch is wrong: an error response with no partitions
)

func (k Kind) String() string {
	switch k {
	case Sessionless:
		return "sessionless"
	case Full:
		return "full"
	case Incremental:
		return "incremental"
	case SessionError:
		return "session error"
	}
	return "unknown"
}

// Context is one Fetch request's view of its session (FetchContext).
type Context struct {
	kind      Kind
	errorCode int16
	parts     []PartitionRequest
	cache     *Cache
	follower  bool
	session   *session // Incremental
	expect    int32    // Incremental: the session epoch the response must still find
	cachedRef []*cachedPartition
}

// Kind is the context's kind.
func (x *Context) Kind() Kind { return x.kind }

// ErrorCode is the session error (FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH) of a SessionError
// context, else 0.
func (x *Context) ErrorCode() int16 { return x.errorCode }

// Partitions are the partitions to read, in order: the request's (duplicates folded, as in Kafka's map) for full
// and sessionless fetches, the session's for incremental ones.
func (x *Context) Partitions() []PartitionRequest { return x.parts }

// Response is how the response must look.
type Response struct {
	ErrorCode int16
	SessionID int32
	// Include[i] tells whether Partitions()[i] goes into the response; nil means all of them.
	Include []bool
}

// Respond is FetchContext.updateAndGenerateResponseData: results[i] is what the read of Partitions()[i] found.
// A full context creates its session here; an incremental one records what is sent and leaves out partitions
// with nothing new.
func (x *Context) Respond(now int64, results []PartitionResult) Response {
	switch x.kind {
	case SessionError:
		return Response{ErrorCode: x.errorCode}
	case Sessionless:
		return Response{}
	case Full:
		pm := newPartitionMap(len(x.parts))
		for i, p := range x.parts {
			r := &results[i]
			pm.add(&cachedPartition{req: p, hw: r.HighWatermark, lso: r.LastStableOffset, logStart: r.LogStartOffset})
		}
		x.cache.mu.Lock()
		id := x.cache.maybeCreateLocked(now, x.follower, pm)
		x.cache.mu.Unlock()
		return Response{SessionID: id}
	}
	c := x.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	s := x.session
	if s.epoch != x.expect {
		// Another request of this session came in between.
		return Response{ErrorCode: kerr.InvalidFetchSessionEpoch.Code, SessionID: s.id}
	}
	include := make([]bool, len(x.parts))
	for i, cp := range x.cachedRef {
		if s.partitions.byTP[cp.req.TopicPartition] != cp {
			continue // forgotten by a request that raced this one; cannot happen with a matching epoch
		}
		if cp.mustRespond(&results[i], true) {
			include[i] = true
			s.partitions.moveToBack(cp)
		}
	}
	return Response{SessionID: s.id, Include: include}
}

// WouldInclude is which of Partitions() a response with results would carry, without recording anything
// (getResponseSize's view); nil means all of them.
func (x *Context) WouldInclude(results []PartitionResult) []bool {
	if x.kind != Incremental {
		return nil
	}
	x.cache.mu.Lock()
	defer x.cache.mu.Unlock()
	include := make([]bool, len(x.parts))
	for i, cp := range x.cachedRef {
		include[i] = cp.mustRespond(&results[i], false)
	}
	return include
}

// Throttled is getThrottledResponse: the empty response of a fetch over its client's quota. A full fetch creates
// no session; an incremental one keeps its session, which records nothing as sent.
func (x *Context) Throttled() Response {
	none := make([]bool, len(x.parts))
	if x.kind != Incremental {
		return Response{Include: none}
	}
	x.cache.mu.Lock()
	defer x.cache.mu.Unlock()
	if x.session.epoch != x.expect {
		return Response{ErrorCode: kerr.InvalidFetchSessionEpoch.Code, SessionID: x.session.id}
	}
	return Response{SessionID: x.session.id, Include: none}
}

// NewContext is FetchManager.newContext for a request with sessionID and epoch (pass FinalEpoch for Fetch v0-6),
// the listed partitions and the forgotten ones; follower marks a request from a replica (privileged sessions).
func (c *Cache) NewContext(now int64, sessionID, epoch int32, fetch []PartitionRequest, forget []TopicPartition, follower bool) *Context {
	fetch = dedupe(fetch)
	if epoch == InitialEpoch || epoch == FinalEpoch {
		if sessionID != InvalidSessionID {
			c.Remove(sessionID) // a full fetch closes the session it names
		}
		if epoch == FinalEpoch {
			return &Context{kind: Sessionless, parts: fetch}
		}
		return &Context{kind: Full, parts: fetch, cache: c, follower: follower}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[sessionID]
	if s == nil {
		return &Context{kind: SessionError, errorCode: kerr.FetchSessionIDNotFound.Code}
	}
	if s.epoch != epoch {
		return &Context{kind: SessionError, errorCode: kerr.InvalidFetchSessionEpoch.Code}
	}
	// FetchSession.update: listed partitions are added or get new parameters; forgotten ones go.
	for _, p := range fetch {
		if cp := s.partitions.byTP[p.TopicPartition]; cp != nil {
			cp.req = p
		} else {
			s.partitions.add(&cachedPartition{req: p, hw: -1, lso: -1, logStart: -1})
		}
	}
	for _, tp := range forget {
		s.partitions.remove(tp)
	}
	if s.partitions.len() == 0 {
		// Nothing left: the session closes and this fetch is answered without one.
		c.removeLocked(s)
		return &Context{kind: Sessionless, parts: fetch}
	}
	c.touchLocked(s, now)
	s.epoch = NextEpoch(s.epoch)
	x := &Context{kind: Incremental, cache: c, session: s, expect: s.epoch,
		parts: make([]PartitionRequest, 0, s.partitions.len()), cachedRef: make([]*cachedPartition, 0, s.partitions.len())}
	for cp := s.partitions.head; cp != nil; cp = cp.next {
		x.parts = append(x.parts, cp.req)
		x.cachedRef = append(x.cachedRef, cp)
	}
	return x
}

// dedupe folds repeated partitions as Kafka's LinkedHashMap does: the first position, the last parameters.
func dedupe(ps []PartitionRequest) []PartitionRequest {
	if len(ps) < 2 {
		return ps
	}
	var seen map[TopicPartition]int
	if len(ps) > 16 {
		seen = make(map[TopicPartition]int, len(ps))
	}
	var out []PartitionRequest
	for i, p := range ps {
		j := -1
		if seen != nil {
			if k, ok := seen[p.TopicPartition]; ok {
				j = k
			}
		} else {
			for k := range i {
				if ps[k].TopicPartition == p.TopicPartition {
					j = k
					break
				}
			}
		}
		if j < 0 {
			if seen != nil {
				seen[p.TopicPartition] = i
			}
			if out != nil {
				out = append(out, p)
			}
			continue
		}
		if out == nil {
			out = append(make([]PartitionRequest, 0, len(ps)), ps[:i]...)
		}
		for k := range out {
			if out[k].TopicPartition == p.TopicPartition {
				out[k] = p
				break
			}
		}
	}
	if out == nil {
		return ps
	}
	return out
}
