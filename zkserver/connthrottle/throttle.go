// Package connthrottle is ZooKeeperServer's connection throttle (Apache's BlueThrottle): a token bucket that
// each connect request draws from, refilled with time, and optionally BLUE's random early drop, whose
// probability grows while the bucket stays empty and shrinks while it stays full enough. It is off unless
// zookeeper.connection_throttle_tokens is set. Time comes in as an argument, so the throttle is deterministic
// given its random source.
package connthrottle

import (
	"math"
	"sync"
)

// Config is the throttle's zookeeper.connection_throttle_* settings, as read (see Defaults).
type Config struct {
	// Tokens is connection_throttle_tokens: the bucket's size, 0 for no throttle. With weights it counts
	// global sessions: the bucket holds Tokens×GlobalWeight.
	Tokens int
	// FillTime (ms) and FillCount: FillCount tokens come back every FillTime ms (FillCount×GlobalWeight with
	// weights).
	FillTime, FillCount int
	// FreezeTime (ms) is how often BLUE may move its drop probability; -1 turns BLUE off.
	FreezeTime int
	// DropIncrease and DropDecrease are BLUE's steps up (when the bucket is empty) and down (when at most
	// DecreaseRatio of it is used).
	DropIncrease, DropDecrease, DecreaseRatio float64
	// Weighted is connection_throttle_weight_enabled: a connect request draws GlobalWeight tokens for a new
	// global session, LocalWeight for a new local one and RenewWeight to resume a session; otherwise one.
	Weighted                               bool
	GlobalWeight, LocalWeight, RenewWeight int
}

// Defaults are BlueThrottle's defaults: no throttle.
func Defaults() Config {
	return Config{FillTime: 1, FillCount: 1, FreezeTime: -1, DropIncrease: 0.02, DropDecrease: 0.002,
		GlobalWeight: 3, LocalWeight: 1, RenewWeight: 2}
}

// Throttle is one server's connection throttle; safe for concurrent use (mntr reads the drop chance).
type Throttle struct {
	mu               sync.Mutex
	cfg              Config
	max, tokens      int
	fillCount        int
	last, lastFreeze int64 // ms
	drop             float64
	random           func() float64 // in [0, 1)
}

// New is a full bucket at now (ms on a monotonic clock); random draws BLUE's drops.
func New(cfg Config, now int64, random func() float64) *Throttle {
	t := &Throttle{cfg: cfg, max: cfg.Tokens, fillCount: cfg.FillCount, last: now, lastFreeze: now, random: random}
	if cfg.Weighted { // the configured counts are global sessions'
		t.max *= cfg.GlobalWeight
		t.fillCount *= cfg.GlobalWeight
	}
	t.tokens = t.max
	return t
}

// Need is the tokens a connect request for sessionID (0: a new session) draws; localSessions tells whether a
// new session would be a local one.
func (t *Throttle) Need(sessionID int64, localSessions bool) int {
	switch {
	case !t.cfg.Weighted:
		return 1
	case sessionID != 0:
		return t.cfg.RenewWeight
	case localSessions:
		return t.cfg.LocalWeight
	}
	return t.cfg.GlobalWeight
}

// Allow takes need tokens at now (ms) and reports whether the connect request may go on; false: the server
// closes the connection.
func (t *Throttle) Allow(need int, now int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.max == 0 {
		return true
	}
	if diff := now - t.last; diff > int64(t.cfg.FillTime) {
		if t.cfg.FillTime == 0 {
			return false // Apache's refill divides by zero and the connection closes on the exception
		}
		refill := int(diff * int64(t.fillCount) / int64(t.cfg.FillTime))
		t.tokens = min(t.tokens+refill, t.max)
		t.last = now
	}
	if t.cfg.FreezeTime != -1 && !t.blue(now) {
		return false
	}
	if t.tokens < need {
		return false
	}
	t.tokens -= need
	return true
}

// blue moves the drop probability at most once per FreezeTime (up while the bucket is empty, down while it is
// used no more than DecreaseRatio) and draws against it.
func (t *Throttle) blue(now int64) bool {
	used := t.max - t.tokens
	threshold := javaRound(float64(t.max) * t.cfg.DecreaseRatio)
	if now-t.lastFreeze > int64(t.cfg.FreezeTime) {
		if used == t.max && t.drop < 1 {
			t.drop = min(t.drop+t.cfg.DropIncrease, 1)
		} else if int64(used) <= threshold && t.drop > 0 {
			t.drop = max(t.drop-t.cfg.DropDecrease, 0)
		}
		t.lastFreeze = now
	}
	return !(t.random() < t.drop)
}

// Deficit is the tokens missing from a full bucket (connection_token_deficit's samples).
func (t *Throttle) Deficit() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.max - t.tokens
}

// DropChance is BLUE's drop probability (connection_drop_probability).
func (t *Throttle) DropChance() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.drop
}

// javaRound is Math.round(double): floor(x + 0.5).
func javaRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }
