package connthrottle

import (
	"slices"
	"testing"
)

func never() float64 { return 0.99999 }

func TestOffByDefault(t *testing.T) {
	th := New(Defaults(), 0, never)
	for range 1000 {
		if !th.Allow(1, 0) {
			t.Fatal("the default throttle refused a connection")
		}
	}
	if d := th.Deficit(); d != 0 {
		t.Fatalf("deficit %d", d)
	}
}

func TestBucketRefill(t *testing.T) {
	cfg := Defaults()
	cfg.Tokens, cfg.FillTime, cfg.FillCount = 3, 100, 2
	th := New(cfg, 1000, never)
	var got []bool
	for range 4 {
		got = append(got, th.Allow(1, 1000))
	}
	if want := []bool{true, true, true, false}; !slices.Equal(got, want) {
		t.Fatalf("full bucket of 3: %v, want %v", got, want)
	}
	if d := th.Deficit(); d != 3 {
		t.Fatalf("deficit %d, want 3", d)
	}
	// Not more than FillTime later: nothing back.
	if th.Allow(1, 1100) {
		t.Fatal("refilled after exactly FillTime")
	}
	// 150 ms after the last refill: 150*2/100 = 3 tokens, capped at the bucket.
	if !th.Allow(1, 1150) || th.Deficit() != 1 {
		t.Fatalf("after 150 ms: deficit %d, want 1", th.Deficit())
	}
	// The refill clock restarted at 1150: 101 ms later two tokens come back, capped at 3.
	if !th.Allow(1, 1251) || th.Deficit() != 1 {
		t.Fatalf("after a second refill: deficit %d, want 1", th.Deficit())
	}
}

func TestWeights(t *testing.T) {
	cfg := Defaults()
	cfg.Tokens, cfg.FillTime, cfg.Weighted = 2, 1<<30, true
	th := New(cfg, 0, never)
	if n := [3]int{th.Need(0, false), th.Need(0, true), th.Need(7, false)}; n != [3]int{3, 1, 2} {
		t.Fatalf("weights global, local, renew: %v", n)
	}
	// 2 global sessions' worth: 6 tokens.
	if !th.Allow(th.Need(0, false), 0) || !th.Allow(th.Need(5, false), 0) || !th.Allow(th.Need(0, true), 0) {
		t.Fatal("refused within 6 tokens")
	}
	if th.Deficit() != 6 || th.Allow(1, 0) {
		t.Fatalf("deficit %d, want 6 and a refusal", th.Deficit())
	}
	cfg.Weighted = false
	if n := New(cfg, 0, never).Need(0, false); n != 1 {
		t.Fatalf("unweighted need %d", n)
	}
}

func TestZeroFillTimeRefuses(t *testing.T) {
	cfg := Defaults()
	cfg.Tokens, cfg.FillTime = 5, 0
	th := New(cfg, 0, never)
	if !th.Allow(1, 0) {
		t.Fatal("refused at the same millisecond")
	}
	if th.Allow(1, 1) {
		t.Fatal("a later connect passed Apache's division by zero")
	}
}

func TestBlue(t *testing.T) {
	cfg := Defaults()
	cfg.Tokens, cfg.FillTime, cfg.FillCount = 1, 1<<30, 1
	cfg.FreezeTime, cfg.DropIncrease, cfg.DropDecrease, cfg.DecreaseRatio = 10, 0.25, 0.1, 0.5
	draw := 0.5
	th := New(cfg, 0, func() float64 { return draw })
	if !th.Allow(1, 0) {
		t.Fatal("first connect refused")
	}
	// Empty bucket: each freeze period past raises the drop chance by 0.25.
	for i, now := range []int64{11, 22, 33} {
		th.Allow(1, now)
		if want := 0.25 * float64(i+1); th.DropChance() != want {
			t.Fatalf("at %d ms: drop %v, want %v", now, th.DropChance(), want)
		}
	}
	// Within the freeze time nothing moves.
	th.Allow(1, 40)
	if th.DropChance() != 0.75 {
		t.Fatalf("moved within the freeze time: %v", th.DropChance())
	}
	// A full bucket (used 0 <= round(1*0.5) = 1) lowers the chance by 0.1 per freeze period past; the draw
	// (0.5) under the chance drops the connection even with a token in the bucket.
	cfg2 := cfg
	cfg2.FillTime = 1
	th2 := New(cfg2, 0, func() float64 { return draw })
	th2.drop = 0.75
	if th2.Allow(1, 100) {
		t.Fatal("BLUE let a draw under the drop chance through")
	}
	for _, want := range []float64{0.55, 0.45} {
		th2.Allow(1, th2.lastFreeze+11)
		if got := th2.DropChance(); got < want-1e-9 || got > want+1e-9 {
			t.Fatalf("drop %v, want %v", got, want)
		}
	}
	if !th2.Allow(1, th2.lastFreeze+11) || th2.DropChance() > 0.351 {
		t.Fatalf("a draw over the chance (%v) was refused", th2.DropChance())
	}
}
