package kbench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zkafka/zkafka/cmd/zkafka/internal/zkbench"
)

// Result is the outcome of one run, one flat JSON object as .ci/bench-kafka reads it. Latencies are in
// microseconds: for produce the time from Produce to acknowledgement of each record, for consume the time each
// poll waited for records. MB is 10^6 bytes of record values.
type Result struct {
	Op            string   `json:"op"`
	Topic         string   `json:"topic"`
	Acks          string   `json:"acks,omitempty"`
	Size          int      `json:"size"`
	Partitions    int      `json:"partitions"`
	ElapsedSec    float64  `json:"elapsed_s"`
	Records       uint64   `json:"records"`
	Expected      uint64   `json:"expected,omitempty"` // consume: records the topic held at the start
	Bytes         uint64   `json:"bytes"`
	Errors        uint64   `json:"errors"`
	RecordsPerSec float64  `json:"records_per_sec"`
	MBPerSec      float64  `json:"mb_per_sec"`
	P50Micros     float64  `json:"p50_us"`
	P99Micros     float64  `json:"p99_us"`
	MaxMicros     float64  `json:"max_us"`
	FirstErrors   []string `json:"first_errors,omitempty"`
}

func newResult(cfg Config, elapsed time.Duration, records, bytes uint64, lat *zkbench.Histogram, errs *errorLog) *Result {
	r := &Result{
		Op:          string(cfg.Op),
		Topic:       cfg.Topic,
		Size:        cfg.Size,
		Partitions:  cfg.Partitions,
		ElapsedSec:  elapsed.Seconds(),
		Records:     records,
		Bytes:       bytes,
		Errors:      errs.count,
		P50Micros:   micros(lat.Quantile(0.50)),
		P99Micros:   micros(lat.Quantile(0.99)),
		MaxMicros:   micros(lat.Max()),
		FirstErrors: errs.first,
	}
	if cfg.Op == OpProduce {
		r.Acks = cfg.Acks
	}
	if s := elapsed.Seconds(); s > 0 {
		r.RecordsPerSec = float64(records) / s
		r.MBPerSec = float64(bytes) / 1e6 / s
	}
	return r
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// WriteJSON writes the result as one line of JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// WriteText writes the result for a person to read.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "op %s on %s, %d partitions, %d-byte records", r.Op, r.Topic, r.Partitions, r.Size)
	if r.Acks != "" {
		fmt.Fprintf(&b, ", acks %s", r.Acks)
	}
	fmt.Fprintf(&b, ", %.1fs\n", r.ElapsedSec)
	fmt.Fprintf(&b, "records   %d (%.1f records/s, %.2f MB/s)\n", r.Records, r.RecordsPerSec, r.MBPerSec)
	if r.Expected > 0 {
		fmt.Fprintf(&b, "expected  %d\n", r.Expected)
	}
	fmt.Fprintf(&b, "errors    %d\n", r.Errors)
	what := "produce latency"
	if r.Op == string(OpConsume) {
		what = "poll wait"
	}
	fmt.Fprintf(&b, "%s  p50 %v  p99 %v  max %v\n", what, dur(r.P50Micros), dur(r.P99Micros), dur(r.MaxMicros))
	for _, e := range r.FirstErrors {
		fmt.Fprintf(&b, "error     %s\n", e)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dur(us float64) time.Duration {
	return time.Duration(us * float64(time.Microsecond)).Round(time.Microsecond)
}
