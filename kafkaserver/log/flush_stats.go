package log

import (
	"time"

	"github.com/zkafka/zkafka/kwire/hist"
)

// FlushStats is Kafka's LogFlushStats (kafka.log:type=LogFlushStats,name=LogFlushRateAndTimeMs): every segment
// flush of a manager's logs and how long it took, as LogSegment.flush times itself. Durations are kept in
// microseconds: a Yammer timer reports fractions of a millisecond.
type FlushStats struct {
	micros hist.Decaying
}

// observe records one segment flush that began at start; a nil FlushStats (a log without a manager) records
// nothing.
func (f *FlushStats) observe(start time.Time) {
	if f == nil {
		return
	}
	now := time.Now()
	f.micros.Observe(uint64(max(now.Sub(start), 0).Microseconds()), now.Unix()/60)
}

// Snapshot returns the count of segment flushes, their total time in ms and the quantiles (hist.Quantiles) of the
// last minutes' flush times in ms.
func (f *FlushStats) Snapshot(now time.Time) (count uint64, sumMs float64, quantilesMs map[float64]float64) {
	count, sum, qs := f.micros.Snapshot(now.Unix() / 60)
	for q, v := range qs {
		qs[q] = v / 1000
	}
	return count, sum / 1000, qs
}
