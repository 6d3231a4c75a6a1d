package kbench

import (
	"context"
	"testing"
	"time"
)

func TestLoopback(t *testing.T) {
	bps, err := Loopback(context.Background(), 64<<10, 50*time.Millisecond)
	if err != nil || bps <= 0 {
		t.Fatalf("Loopback: %v B/s, %v", bps, err)
	}
	if _, err := Loopback(context.Background(), 3, time.Millisecond); err == nil {
		t.Fatal("a 3-byte response accepted")
	}
}
