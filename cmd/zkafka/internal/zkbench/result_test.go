package zkbench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleResult() Result {
	h := NewHistogram()
	for range 98 {
		h.Record(100 * time.Microsecond) // in the bucket [99.84µs, 100.35µs]
	}
	h.Record(2 * time.Millisecond) // reported as its bucket's top, 2.009ms
	h.Record(3 * time.Millisecond)
	return NewResult(OpMixed, 32, 1024, 2*time.Second, h, 3, []string{"get /bench/data/n0000001: zk: node does not exist"})
}

func TestNewResult(t *testing.T) {
	r := sampleResult()
	if r.Op != "mixed" || r.Clients != 32 || r.Size != 1024 || r.Ops != 100 || r.Errors != 3 {
		t.Fatalf("result %+v", r)
	}
	if r.ElapsedSec != 2 || r.OpsPerSec != 50 {
		t.Errorf("elapsed %v s, %v ops/s; want 2 and 50", r.ElapsedSec, r.OpsPerSec)
	}
	if r.P50Micros < 100 || r.P50Micros > 100.8 {
		t.Errorf("p50 %vµs, want 100µs within a bucket", r.P50Micros)
	}
	if r.P99Micros < 2000 || r.P99Micros > 2016 {
		t.Errorf("p99 %vµs, want 2ms within a bucket", r.P99Micros)
	}
	if r.P999Micros != 3000 || r.MaxMicros != 3000 { // the top bucket is capped at the largest sample
		t.Errorf("p999 %vµs max %vµs, want 3000", r.P999Micros, r.MaxMicros)
	}
	if r.MeanMicros != 148 {
		t.Errorf("mean %vµs, want 148", r.MeanMicros)
	}
	if empty := NewResult(OpGet, 1, 0, 0, NewHistogram(), 0, nil); empty.OpsPerSec != 0 || empty.P99Micros != 0 {
		t.Errorf("empty run %+v", empty)
	}
}

func TestResultJSONIsOneFlatLine(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("want one line, got %q", out)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	// The keys .ci/bench-zk reads.
	want := map[string]any{"op": "mixed", "clients": 32.0, "size": 1024.0, "ops": 100.0, "errors": 3.0,
		"ops_per_sec": 50.0, "p999_us": 3000.0, "max_us": 3000.0, "mean_us": 148.0, "elapsed_s": 2.0}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for _, k := range []string{"p50_us", "p99_us", "first_errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, out)
		}
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.P99Micros != sampleResult().P99Micros {
		t.Errorf("round trip: %+v, %v", back, err)
	}

	buf.Reset()
	if err := NewResult(OpGet, 1, 0, time.Second, NewHistogram(), 0, nil).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "first_errors") {
		t.Errorf("first_errors shown without errors: %s", buf.String())
	}
}

func TestResultText(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleResult().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"op mixed, 32 clients, 1024-byte values, 2.0s measured\n",
		"ops       100 (50.0 ops/s)\n",
		"errors    3\n",
		"latency   p50 100µs  p99 2.01ms  p999 3ms  mean 148µs  max 3ms\n",
		"error     get /bench/data/n0000001: zk: node does not exist\n",
	}
	if got := buf.String(); got != strings.Join(want, "") {
		t.Errorf("text:\n%s\nwant:\n%s", got, strings.Join(want, ""))
	}
}

func TestRoundDur(t *testing.T) {
	cases := []struct {
		us   float64
		want time.Duration
	}{
		{0, 0},
		{518.4, 518 * time.Microsecond},
		{2594.3, 2590 * time.Microsecond},
		{115343.4, 115 * time.Millisecond},
	}
	for _, c := range cases {
		if got := roundDur(c.us); got != c.want {
			t.Errorf("roundDur(%v) = %v, want %v", c.us, got, c.want)
		}
	}
}

func TestLoadResultFormats(t *testing.T) {
	r := LoadResult{Znodes: 10, Created: 7, Existing: 3, Size: 1024, ElapsedSec: 0.25}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), `{"znodes":10,"created":7,"existing":3,"size":1024,"elapsed_s":0.25,"errors":0}`+"\n"; got != want {
		t.Errorf("json %q, want %q", got, want)
	}
	buf.Reset()
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "znodes    10 of 1024 bytes under /bench/load: 7 created, 3 already there, 0 errors in 0.2s\n"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}

func TestParseOp(t *testing.T) {
	for _, s := range []string{"create", "set", "get", "mixed"} {
		if op, err := ParseOp(s); err != nil || string(op) != s {
			t.Errorf("ParseOp(%q) = %q, %v", s, op, err)
		}
	}
	if _, err := ParseOp("delete"); err == nil {
		t.Error("ParseOp(delete) gave no error")
	}
}
