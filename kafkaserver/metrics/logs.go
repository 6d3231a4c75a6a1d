package metrics

import (
	"math"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Log is one partition log's gauges (kafka.log:type=Log,name=<X>,topic=<T>,partition=<P>).
type Log struct {
	Topic          string
	Partition      int32
	Size           int64 // bytes of all its segments
	NumLogSegments int
	LogStartOffset int64
	LogEndOffset   int64
}

// LogDir is one of log.dirs as LogManager reports it (LogDirectoryOffline, OfflineLogDirectoryCount).
type LogDir struct {
	Path    string // absolute, as Kafka's logDirectory tag
	Offline bool
}

// Cleaner is the state behind LogCleaner's and LogCleanerManager's gauges, which Kafka only has when
// log.cleaner.enable is set.
type Cleaner struct {
	Threads []CleanerThread
	// DeadThreadCount counts cleaner threads that died of an unexpected error.
	DeadThreadCount int
	// MaxDirtyRatio is the highest cleanable ratio (cleanable bytes over all bytes) among the compacted logs at the
	// cleaner's last look for a log to clean.
	MaxDirtyRatio      float64
	TimeSinceLastRunMs int64
	Dirs               []CleanerDir // one per log dir
	// IoBytes counts the bytes the threads read and wrote, as the meter of LogCleaner's throttler
	// (kafka.utils:type=Throttler,name=cleaner-io) counts them.
	IoBytes int64
}

// CleanerThread is one cleaner thread's last cleaning (CleanerStats) and last choice of a log (PreCleanStats).
type CleanerThread struct {
	BytesRead, BytesWritten int64
	BufferUtilization       float64 // share of the offset map's slots used, 0 to 1
	CleanTimeMs             int64
	MaxCompactionDelayMs    int64
}

// CleanerDir is one log dir's partitions marked uncleanable after a failed cleaning, and their cleanable bytes.
type CleanerDir struct {
	Path                  string // absolute, as Kafka's logDirectory tag
	UncleanablePartitions int
	UncleanableBytes      int64
}

// Timer is what a Yammer timer reports: how many times something ran, its total time and the quantiles
// (kwire/hist.Quantiles) of its recent times, all in ms.
type Timer struct {
	Count       uint64
	SumMs       float64
	QuantilesMs map[float64]float64
}

var descLogFlushes = logDesc("logflushstats", "logflushrateandtimems", "Segment flushes and their time in ms.")

// collectLogFlushes reports LogFlushRateAndTimeMs once a segment was flushed: Kafka's LogFlushStats registers its
// timer at the first flush.
func collectLogFlushes(ch chan<- prometheus.Metric, read func() Timer) {
	if read == nil {
		return
	}
	if t := read(); t.Count > 0 {
		ch <- prometheus.MustNewConstSummary(descLogFlushes, t.Count, t.SumMs, t.QuantilesMs)
	}
}

// logName is the name the JMX exporter gives a gauge of kafka.log:type=<typ>,name=<name>: kafka_log_<typ>_<name>,
// lower case, with what is not a letter, digit or underscore (the dashes of the cleaner's names) turned into
// underscores.
func logName(typ, name string) string { return sanitize("kafka_log_" + typ + "_" + name) }

func logDesc(typ, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(logName(typ, name), help, labels, nil)
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// logField is one of a log's gauges: its desc for a current log and, with the is_future label, for a future log.
type logField struct {
	desc, future *prometheus.Desc
	get          func(*Log) int64
}

func newLogField(name, help string, get func(*Log) int64) logField {
	return logField{logDesc("Log", name, help, "topic", "partition"),
		logDesc("Log", name, help, "topic", "partition", "is_future"), get}
}

var logFields = []logField{
	newLogField("Size", "Bytes of a partition log's segments.", func(l *Log) int64 { return l.Size }),
	newLogField("NumLogSegments", "Segments of a partition log.", func(l *Log) int64 { return int64(l.NumLogSegments) }),
	newLogField("LogStartOffset", "First offset of a partition log.", func(l *Log) int64 { return l.LogStartOffset }),
	newLogField("LogEndOffset", "Offset the next record of a partition log gets.", func(l *Log) int64 { return l.LogEndOffset }),
}

// FutureLogs reports the gauges of the future logs of moves between log dirs, which Kafka tags is-future=true
// (the exporter's label is_future, its dash made an underscore). Their series share the current logs' names
// with one label more, which a registry allows only from a collector that describes nothing (unchecked), so
// they are not in Sources.
type FutureLogs func() []Log

// Describe implements prometheus.Collector: nothing, see FutureLogs.
func (FutureLogs) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (f FutureLogs) Collect(ch chan<- prometheus.Metric) {
	if f == nil {
		return
	}
	for _, l := range f() {
		p := strconv.Itoa(int(l.Partition))
		for _, fd := range logFields {
			ch <- prometheus.MustNewConstMetric(fd.future, prometheus.GaugeValue, float64(fd.get(&l)), l.Topic, p, "true")
		}
	}
}

var (
	descOfflineLogDirs = logDesc("LogManager", "OfflineLogDirectoryCount", "Log dirs offline.")
	descLogDirOffline  = logDesc("LogManager", "LogDirectoryOffline", "1 when the log dir is offline, else 0.", "logDirectory")
	descUncleanable    = logDesc("LogCleanerManager", "uncleanable-partitions-count",
		"Partitions of the log dir whose cleaning failed.", "logDirectory")
	descUncleanableBytes = logDesc("LogCleanerManager", "uncleanable-bytes",
		"Cleanable bytes of the log dir's partitions whose cleaning failed.", "logDirectory")
)

// cleanerFields are LogCleaner's and LogCleanerManager's gauges without tags, computed as Kafka 2.8 computes them:
// Scala Ints where Kafka has them, truncated.
var cleanerFields = []field[Cleaner]{
	gauge(logName("LogCleaner", "max-buffer-utilization-percent"),
		"Largest share of the offset map used by the threads' last cleanings, made 0 or 1 before scaling to percent, as Kafka 2.8 does.",
		func(c *Cleaner) float64 {
			// maxOverCleanerThreads makes the fraction an Int before the * 100: 0 unless a map was full.
			return maxOverThreads(c.Threads, func(t *CleanerThread) float64 { return t.BufferUtilization }) * 100
		}),
	gauge(logName("LogCleaner", "cleaner-recopy-percent"),
		"Bytes written over bytes read by the threads' last cleanings, in percent.", recopyPercent),
	gauge(logName("LogCleaner", "max-clean-time-secs"), "Longest of the threads' last cleanings, in whole seconds.",
		func(c *Cleaner) float64 {
			return maxOverThreads(c.Threads, func(t *CleanerThread) float64 { return float64(t.CleanTimeMs) / 1000 })
		}),
	gauge(logName("LogCleaner", "max-compaction-delay-secs"),
		"Longest time a log had been due for cleaning by max.compaction.lag.ms at the threads' last choices, in whole seconds.",
		func(c *Cleaner) float64 {
			ms := maxOverThreads(c.Threads, func(t *CleanerThread) float64 { return float64(t.MaxCompactionDelayMs) })
			return math.Trunc(ms / 1000) // an Int divided by 1000
		}),
	gauge(logName("LogCleaner", "DeadThreadCount"), "Cleaner threads that died.",
		func(c *Cleaner) float64 { return float64(c.DeadThreadCount) }),
	gauge(logName("LogCleanerManager", "max-dirty-percent"),
		"Cleanable share of the dirtiest compacted log at the last look for a log to clean, in percent.",
		func(c *Cleaner) float64 { return math.Trunc(100 * c.MaxDirtyRatio) }),
	gauge(logName("LogCleanerManager", "time-since-last-run-ms"), "Time since the cleaner last looked for a log to clean, in ms.",
		func(c *Cleaner) float64 { return float64(c.TimeSinceLastRunMs) }),
	counter("kafka_utils_throttler_cleaner_io_total", "Bytes the log cleaner read and wrote (its throttler's meter).",
		func(c *Cleaner) float64 { return float64(c.IoBytes) }),
}

// maxOverThreads is LogCleaner.maxOverCleanerThreads: the largest value, at least 0, truncated to an Int.
func maxOverThreads(ts []CleanerThread, f func(*CleanerThread) float64) float64 {
	m := 0.0
	for i := range ts {
		m = max(m, f(&ts[i]))
	}
	return math.Trunc(m)
}

// recopyPercent is cleaner-recopy-percent: the threads' last cleanings' bytes written over their bytes read.
func recopyPercent(c *Cleaner) float64 {
	var read, written int64
	for _, t := range c.Threads {
		read += t.BytesRead
		written += t.BytesWritten
	}
	return math.Trunc(100 * float64(written) / float64(max(read, 1)))
}

func describeLogs(ch chan<- *prometheus.Desc) {
	for _, f := range logFields {
		ch <- f.desc
	}
	ch <- descOfflineLogDirs
	ch <- descLogDirOffline
	describe(ch, cleanerFields)
	ch <- descUncleanable
	ch <- descUncleanableBytes
	ch <- descLogFlushes
}

func collectLogs(ch chan<- prometheus.Metric, read func() []Log) {
	if read == nil {
		return
	}
	for _, l := range read() {
		p := strconv.Itoa(int(l.Partition))
		for _, f := range logFields {
			ch <- prometheus.MustNewConstMetric(f.desc, prometheus.GaugeValue, float64(f.get(&l)), l.Topic, p)
		}
	}
}

func collectLogDirs(ch chan<- prometheus.Metric, read func() []LogDir) {
	if read == nil {
		return
	}
	offline := 0
	for _, d := range read() {
		v := 0.0
		if d.Offline {
			offline++
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descLogDirOffline, prometheus.GaugeValue, v, d.Path)
	}
	ch <- prometheus.MustNewConstMetric(descOfflineLogDirs, prometheus.GaugeValue, float64(offline))
}

// collectCleaner reports the cleaner's gauges, none when there is no cleaner.
func collectCleaner(ch chan<- prometheus.Metric, read func() Cleaner) {
	if read == nil {
		return
	}
	c := read()
	for _, f := range cleanerFields {
		ch <- prometheus.MustNewConstMetric(f.desc, f.kind, f.get(&c))
	}
	for _, d := range c.Dirs {
		ch <- prometheus.MustNewConstMetric(descUncleanable, prometheus.GaugeValue, float64(d.UncleanablePartitions), d.Path)
		ch <- prometheus.MustNewConstMetric(descUncleanableBytes, prometheus.GaugeValue, float64(d.UncleanableBytes), d.Path)
	}
}
