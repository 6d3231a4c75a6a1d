package pipeline

import "sync/atomic"

// DefaultLargeRequestMaxBytes is zookeeper.largeRequestMaxBytes's default, 100 MiB.
const DefaultLargeRequestMaxBytes = 100 * 1024 * 1024

// LargeRequests is ZooKeeperServer's large request throttle (zookeeper.largeRequestThreshold, off by default, and
// zookeeper.largeRequestMaxBytes): requests larger than the threshold may hold at most the max bytes between their
// read and their processing; one that would pass it is rejected and its connection closed. A nil *LargeRequests
// never rejects.
type LargeRequests struct {
	threshold int // -1: off
	maxBytes  int
	bytes     atomic.Int64
	rejected  atomic.Int64
}

// NewLargeRequests is the throttle for a threshold (-1 turns it off) and a byte budget, both already checked as
// ZooKeeperServer's setters check them.
func NewLargeRequests(threshold, maxBytes int) *LargeRequests {
	return &LargeRequests{threshold: threshold, maxBytes: maxBytes}
}

func (l *LargeRequests) large(n int) bool { return l != nil && l.threshold != -1 && n > l.threshold }

// Receiving is checkRequestSizeWhenReceivingMessage, asked for every frame's length before its body is read: false
// when a large frame would not fit in what the large requests in process leave (the connection is then closed).
func (l *LargeRequests) Receiving(n int) bool {
	if !l.large(n) || l.bytes.Load()+int64(n) <= int64(l.maxBytes) {
		return true
	}
	l.rejected.Add(1)
	return false
}

// Admit is checkRequestSizeWhenMessageReceived for a request's body of n bytes (the frame less its header): a large
// one is counted until Release(held); ok false rejects it.
func (l *LargeRequests) Admit(n int) (held int32, ok bool) {
	if !l.large(n) {
		return 0, true
	}
	if l.bytes.Add(int64(n)) > int64(l.maxBytes) {
		l.bytes.Add(-int64(n))
		l.rejected.Add(1)
		return 0, false
	}
	return int32(n), true
}

// Release is requestFinished: what Admit held goes back.
func (l *LargeRequests) Release(held int32) {
	if l != nil && held > 0 {
		l.bytes.Add(-int64(held))
	}
}

// Rejected counts the large requests refused (mntr's large_requests_rejected).
func (l *LargeRequests) Rejected() int64 {
	if l == nil {
		return 0
	}
	return l.rejected.Load()
}

// Bytes is what large requests in process hold (ZooKeeperServerBean's LargeRequestBytes).
func (l *LargeRequests) Bytes() int64 {
	if l == nil {
		return 0
	}
	return l.bytes.Load()
}

// ResetRejected zeroes the rejected count (srst: ServerMetrics.resetAll).
func (l *LargeRequests) ResetRejected() {
	if l != nil {
		l.rejected.Store(0)
	}
}
