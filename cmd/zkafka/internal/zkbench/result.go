package zkbench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Result is the outcome of one benchmark run. Its JSON form is one flat object per run, the shape .ci/bench-zk
// reads; latencies are in microseconds.
type Result struct {
	Op          string   `json:"op"`
	Clients     int      `json:"clients"`
	Size        int      `json:"size"`
	ElapsedSec  float64  `json:"elapsed_s"`
	Ops         uint64   `json:"ops"`
	Errors      uint64   `json:"errors"`
	OpsPerSec   float64  `json:"ops_per_sec"`
	P50Micros   float64  `json:"p50_us"`
	P99Micros   float64  `json:"p99_us"`
	P999Micros  float64  `json:"p999_us"`
	MeanMicros  float64  `json:"mean_us"`
	MaxMicros   float64  `json:"max_us"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

// NewResult summarises a run: lat holds the latencies of the successful operations, which are the ones counted
// as ops; errors counts the failed ones.
func NewResult(op Op, clients, size int, elapsed time.Duration, lat *Histogram, errors uint64, firstErrors []string) Result {
	r := Result{
		Op:          string(op),
		Clients:     clients,
		Size:        size,
		ElapsedSec:  elapsed.Seconds(),
		Ops:         lat.Count(),
		Errors:      errors,
		P50Micros:   micros(lat.Quantile(0.50)),
		P99Micros:   micros(lat.Quantile(0.99)),
		P999Micros:  micros(lat.Quantile(0.999)),
		MeanMicros:  micros(lat.Mean()),
		MaxMicros:   micros(lat.Max()),
		FirstErrors: firstErrors,
	}
	if elapsed > 0 {
		r.OpsPerSec = float64(r.Ops) / elapsed.Seconds()
	}
	return r
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func fromMicros(us float64) time.Duration { return time.Duration(us * float64(time.Microsecond)) }

// WriteJSON writes the result as one line of JSON.
func (r Result) WriteJSON(w io.Writer) error {
	return writeJSONLine(w, r)
}

// WriteText writes the result for a person to read.
func (r Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "op %s, %d clients, %d-byte values, %.1fs measured\n", r.Op, r.Clients, r.Size, r.ElapsedSec)
	fmt.Fprintf(&b, "ops       %d (%.1f ops/s)\n", r.Ops, r.OpsPerSec)
	fmt.Fprintf(&b, "errors    %d\n", r.Errors)
	fmt.Fprintf(&b, "latency   p50 %v  p99 %v  p999 %v  mean %v  max %v\n",
		roundDur(r.P50Micros), roundDur(r.P99Micros), roundDur(r.P999Micros), roundDur(r.MeanMicros),
		roundDur(r.MaxMicros))
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "error     %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// roundDur keeps three significant figures or so, enough for a latency read by eye.
func roundDur(us float64) time.Duration {
	d := fromMicros(us)
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// LoadResult is the outcome of a zk-load run.
type LoadResult struct {
	Znodes      int      `json:"znodes"`
	Created     uint64   `json:"created"`
	Existing    uint64   `json:"existing"`
	Size        int      `json:"size"`
	ElapsedSec  float64  `json:"elapsed_s"`
	Errors      uint64   `json:"errors"`
	FirstErrors []string `json:"first_errors,omitempty"`
}

// WriteJSON writes the result as one line of JSON.
func (r LoadResult) WriteJSON(w io.Writer) error {
	return writeJSONLine(w, r)
}

// WriteText writes the result for a person to read.
func (r LoadResult) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "znodes    %d of %d bytes under %s: %d created, %d already there, %d errors in %.1fs\n",
		r.Znodes, r.Size, LoadParent, r.Created, r.Existing, r.Errors, r.ElapsedSec)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "error     %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSONLine(w io.Writer, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}
