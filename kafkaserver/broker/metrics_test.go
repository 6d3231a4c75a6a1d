package broker

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// scrape reads a broker's /metrics and returns each sample's value by name and labels ("name" or
// "name{label=value,...}", labels sorted by name, as the parser gives them).
func scrape(t *testing.T, b *Broker) map[string]float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/metrics", b.MetricsAddr()))
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			key := name
			var labels string
			for _, l := range m.Label {
				if l.GetValue() == "" {
					continue // an empty label is no label, as Prometheus reads it
				}
				if labels != "" {
					labels += ","
				}
				labels += l.GetName() + "=" + l.GetValue()
			}
			if sm := m.Summary; sm != nil {
				// A summary as name_count{labels}, name_sum{labels} and name{labels,quantile=q}.
				out[withLabels(name+"_count", labels)] = float64(sm.GetSampleCount())
				out[withLabels(name+"_sum", labels)] = sm.GetSampleSum()
				for _, q := range sm.Quantile {
					out[withLabels(name, strings.TrimPrefix(labels+",quantile="+fmt.Sprint(q.GetQuantile()), ","))] = q.GetValue()
				}
				continue
			}
			out[withLabels(key, labels)] = value(m)
		}
	}
	return out
}

func withLabels(name, labels string) string {
	if labels == "" {
		return name
	}
	return name + "{" + labels + "}"
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// Two brokers serving /metrics (zkafka.metrics.address): a replicated topic is written and read, and each broker
// reports what it did under the JMX exporter's names for Kafka's beans: the leader the messages and bytes in (per
// topic and in all), the bytes out to the consumer and to its follower, the follower the bytes it replicated; the
// controller alone reports itself active and counts the cluster's topics; the replica gauges follow the ISR when
// the follower leaves.
func TestBrokerMetrics(t *testing.T) {
	c := newCluster(t)
	const m = "zkafka.metrics.address=127.0.0.1:0"
	b0, b1, cl := twoBrokers(t, c, []string{m}, []string{m})
	ctx := ctxT(t)
	createAssigned(t, ctx, cl, "metered", []int32{0, 1})
	c.waitFor("both replicas in the ISR", func() bool {
		p, err := b0.Replicas().Partition("metered", 0)
		return err == nil && len(p.Info().ISR) == 2
	})
	produceN(t, cl, "metered", 0, 0, 50)
	consumeN(t, c, "metered", 0, 50)
	// A request's metrics are recorded once its response is sent: the consumer can have its records first.
	c.waitFor("the consumer's fetch in the request metrics", func() bool {
		return scrape(t, b0)[`kafka_network_requestmetrics_totaltimems_count{request=FetchConsumer}`] >= 1
	})

	s0 := scrape(t, b0)
	in := s0[`kafka_server_brokertopicmetrics_bytesin_total{topic=metered}`]
	for _, check := range []struct {
		name string
		ok   bool
	}{
		{"messages in for the topic", s0[`kafka_server_brokertopicmetrics_messagesin_total{topic=metered}`] == 50},
		{"messages in over all topics", s0[`kafka_server_brokertopicmetrics_messagesin_total`] >= 50},
		{"bytes in for the topic", in > float64(50*len("value-00"))},
		{"bytes in over all topics", s0[`kafka_server_brokertopicmetrics_bytesin_total`] >= in},
		{"produce requests", s0[`kafka_server_brokertopicmetrics_totalproducerequests_total{topic=metered}`] >= 1},
		{"no failed produce", s0[`kafka_server_brokertopicmetrics_failedproducerequests_total{topic=metered}`] == 0},
		{"bytes out to the consumer", s0[`kafka_server_brokertopicmetrics_bytesout_total{topic=metered}`] >= in},
		{"bytes out to the follower", s0[`kafka_server_brokertopicmetrics_replicationbytesout_total`] >= in},
		{"fetch requests", s0[`kafka_server_brokertopicmetrics_totalfetchrequests_total{topic=metered}`] >= 1},
		{"leader counts its partition", s0[`kafka_server_replicamanager_leadercount`] >= 1},
		{"no under-replicated partition", s0[`kafka_server_replicamanager_underreplicatedpartitions`] == 0},
		{"active controller", s0[`kafka_controller_kafkacontroller_activecontrollercount`] == 1},
		{"global topics", s0[`kafka_controller_kafkacontroller_globaltopiccount`] >= 1},
		{"no offline partition", s0[`kafka_controller_kafkacontroller_offlinepartitionscount`] == 0},
		{"produce requests received", s0[`kafka_network_requestmetrics_requests_total{api_key=0,listener=PLAINTEXT,request=Produce}`] >= 1},
		{"produce request times", s0[`kafka_network_requestmetrics_totaltimems_count{request=Produce}`] >= 1 &&
			s0[`kafka_network_requestmetrics_remotetimems_count{request=Produce}`] >= 1},
		{"produce request sizes", s0[`kafka_network_requestmetrics_requestbytes{request=Produce,quantile=0.5}`] > 0},
		{"produce errors, NONE included", s0[`kafka_network_requestmetrics_errors_total{error=NONE,request=Produce}`] >= 1},
		{"fetch errors under Fetch only", s0[`kafka_network_requestmetrics_errors_total{error=NONE,request=Fetch}`] >= 1 &&
			s0[`kafka_network_requestmetrics_errors_total{error=NONE,request=FetchConsumer}`] == 0},
		{"consumer and follower fetches apart", s0[`kafka_network_requestmetrics_totaltimems_count{request=FetchConsumer}`] >= 1 &&
			s0[`kafka_network_requestmetrics_totaltimems_count{request=FetchFollower}`] >= 1 &&
			s0[`kafka_network_requestmetrics_totaltimems_count{request=Fetch}`] >= 2},
		{"Go runtime", s0[`go_goroutines`] > 0},
	} {
		if !check.ok {
			t.Errorf("broker 0: %s: not as expected in\n%v", check.name, s0)
		}
	}
	c.waitFor("the follower's replicated bytes", func() bool {
		s1 := scrape(t, b1)
		return s1[`kafka_server_brokertopicmetrics_replicationbytesin_total`] >= in
	})
	s1 := scrape(t, b1)
	// The controller's requests, under Kafka's names for them.
	if s1[`kafka_network_requestmetrics_localtimems_count{request=LeaderAndIsr}`] < 1 ||
		s1[`kafka_network_requestmetrics_requests_total{api_key=4,listener=PLAINTEXT,request=LeaderAndIsr}`] < 1 {
		t.Errorf("broker 1: no LeaderAndIsr request metrics in\n%v", s1)
	}
	if s1[`kafka_controller_kafkacontroller_activecontrollercount`] != 0 || s1[`kafka_controller_kafkacontroller_globaltopiccount`] != 0 {
		t.Errorf("broker 1 reports controller gauges though it is not the controller")
	}
	if s1[`kafka_server_replicamanager_partitioncount`] < 1 || s1[`kafka_server_brokertopicmetrics_messagesin_total{topic=metered}`] != 0 {
		t.Errorf("broker 1: partition count %v, messages in %v: it follows the partition and took no produce",
			s1[`kafka_server_replicamanager_partitioncount`], s1[`kafka_server_brokertopicmetrics_messagesin_total{topic=metered}`])
	}

	// The follower leaves (a controlled shutdown takes it out of the ISR): the leader's partition is under-replicated
	// and at min.insync.replicas (1).
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the leader's partition under-replicated", func() bool {
		s := scrape(t, b0)
		return s[`kafka_server_replicamanager_underreplicatedpartitions`] == 1 && s[`kafka_server_replicamanager_atminisrpartitioncount`] >= 1
	})
}

// A client at Kafka 0.9's request versions against a topic in the default (v2) format: its magic 0 messages are
// up-converted on append and down-converted per fetch, and the broker counts both as Kafka does, per topic
// (Produce/FetchMessageConversionsPerSec) and per request (MessageConversionsTimeMs, TemporaryMemoryBytes, which
// only Produce and Fetch have); a current client's requests convert nothing.
func TestConversionMetrics(t *testing.T) {
	c := newCluster(t)
	c.start("zkafka.metrics.address=127.0.0.1:0")
	ctx := ctxT(t)
	createTopic(t, kadm.NewClient(c.client()), "conv", 1, nil)
	pin := kgo.MaxVersions(kversion.V0_9_0())
	const n = 200
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "conv", Value: []byte(fmt.Sprintf("value-%03d", i))})
	}
	prod := c.client(pin, kgo.RequiredAcks(kgo.LeaderAck()))
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons := c.client(pin, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"conv": {0: kgo.NewOffset().AtStart()}}))
	for got := 0; got < n; {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d: %v", got, err)
		}
		got += fs.NumRecords()
	}
	cons.Close()
	var s map[string]float64
	c.waitFor("conversion metrics", func() bool {
		s = scrape(t, c.b)
		return s[`kafka_network_requestmetrics_temporarymemorybytes_count{request=Fetch}`] >= 1
	})
	for _, check := range []struct {
		name string
		ok   bool
	}{
		{"produced records converted", s[`kafka_server_brokertopicmetrics_producemessageconversions_total{topic=conv}`] == n},
		{"over all topics", s[`kafka_server_brokertopicmetrics_producemessageconversions_total`] >= n},
		{"fetched records converted", s[`kafka_server_brokertopicmetrics_fetchmessageconversions_total{topic=conv}`] >= n},
		{"produce conversion memory", s[`kafka_network_requestmetrics_temporarymemorybytes_sum{request=Produce}`] >= float64(n*len("value-000"))},
		{"fetch conversion memory", s[`kafka_network_requestmetrics_temporarymemorybytes_sum{request=Fetch}`] >= float64(2*n*len("value-000"))},
		{"conversion times kept", s[`kafka_network_requestmetrics_messageconversionstimems_count{request=Produce}`] >= 1},
		{"only Produce and Fetch have them", s[`kafka_network_requestmetrics_messageconversionstimems_count{request=FetchConsumer}`] == 0 &&
			s[`kafka_network_requestmetrics_temporarymemorybytes_count{request=Metadata}`] == 0},
	} {
		if !check.ok {
			t.Errorf("%s: not as expected in\n%v", check.name, s)
		}
	}
	// A current client converts nothing.
	before := s[`kafka_server_brokertopicmetrics_producemessageconversions_total{topic=conv}`]
	produceN(t, c.client(), "conv", 0, 0, 10)
	s = scrape(t, c.b)
	if got := s[`kafka_server_brokertopicmetrics_producemessageconversions_total{topic=conv}`]; got != before {
		t.Errorf("a v2 produce counted %v conversions", got-before)
	}
}

// The log gauges under the JMX exporter's names for Kafka's kafka.log beans: a partition log's size is the bytes of
// its segment files, its end offset the records produced, its segment count that of its files as it rolls; the log
// dir is online; a compacted topic's cleaning shows in the cleaner's gauges; a deleted topic's series go; a broker
// without a cleaner (log.cleaner.enable=false) has no cleaner gauges.
func TestLogMetrics(t *testing.T) {
	c := newCluster(t)
	const m = "zkafka.metrics.address=127.0.0.1:0"
	c.start(m, "log.cleaner.backoff.ms=20")
	cl := c.client()
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "logged", 1, map[string]*string{"segment.bytes": kadm.StringPtr("1024")})
	logged := func(name string) string { return name + "{partition=0,topic=logged}" }
	produceBatches(t, cl, "logged", 0, 1)
	const flushes = "kafka_log_logflushstats_logflushrateandtimems"
	if s := scrape(t, c.b); s[logged("kafka_log_log_numlogsegments")] != 1 || s[logged("kafka_log_log_logendoffset")] != 1 {
		t.Fatalf("after one record: %v segments, end offset %v", s[logged("kafka_log_log_numlogsegments")], s[logged("kafka_log_log_logendoffset")])
	} else if _, ok := s[flushes+"_count"]; ok {
		t.Fatalf("LogFlushRateAndTimeMs before any flush (Kafka registers it at the first): %v", s)
	}
	produceBatches(t, cl, "logged", 1, 19)
	files, bytes := segmentFiles(t, filepath.Join(c.logDir, "logged-0"))
	// Each roll flushes the segments before it in the background (Log.roll's flush), each flush timed.
	c.waitFor("the rolled segments' flushes", func() bool { return scrape(t, c.b)[flushes+"_count"] >= float64(len(files)-1) })
	s := scrape(t, c.b)
	if q := s[flushes+"{quantile=0.99}"]; !(q >= 0) || s[flushes+"_sum"] < 0 {
		t.Errorf("flush times: 99th percentile %v ms, sum %v ms", q, s[flushes+"_sum"])
	}
	dir, err := filepath.Abs(c.logDir)
	if err != nil {
		t.Fatal(err)
	}
	_, dirOnline := s[`kafka_log_logmanager_logdirectoryoffline{logDirectory=`+dir+`}`]
	for _, check := range []struct {
		name string
		ok   bool
	}{
		{"size is the segment files' bytes", s[logged("kafka_log_log_size")] == float64(bytes)},
		{"rolled: a segment count of its files", len(files) > 1 && s[logged("kafka_log_log_numlogsegments")] == float64(len(files))},
		{"end offset is the records produced", s[logged("kafka_log_log_logendoffset")] == 20},
		{"start offset", s[logged("kafka_log_log_logstartoffset")] == 0},
		{"no offline log dir", s[`kafka_log_logmanager_offlinelogdirectorycount`] == 0 && dirOnline &&
			s[`kafka_log_logmanager_logdirectoryoffline{logDirectory=`+dir+`}`] == 0},
	} {
		if !check.ok {
			t.Errorf("%s: not as expected (%d files of %d bytes) in\n%v", check.name, len(files), bytes, s)
		}
	}

	// A compacted topic with a few keys rewritten: its cleaning writes back less than it reads.
	createTopic(t, adm, "squashed", 1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"),
		"segment.bytes": kadm.StringPtr("1024"), "min.cleanable.dirty.ratio": kadm.StringPtr("0.1")})
	for r := range 30 {
		var recs []*kgo.Record
		for k := range 8 {
			recs = append(recs, &kgo.Record{Topic: "squashed", Key: []byte(fmt.Sprint("key-", k)), Value: []byte(fmt.Sprint("round-", r))})
		}
		if err := cl.ProduceSync(ctxT(t), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	c.waitFor("a cleaning", func() bool {
		o, ok := c.b.logs.Cleaner().FirstDirtyOffset(klog.TopicPartition{Topic: "squashed"})
		return ok && o > 0
	})
	s = scrape(t, c.b)
	if r := s[`kafka_log_logcleaner_cleaner_recopy_percent`]; r <= 0 || r >= 100 {
		t.Errorf("recopy percent %v, want some but not all", r)
	}
	if io := s[`kafka_utils_throttler_cleaner_io_total`]; io <= 0 {
		t.Errorf("cleaner io %v bytes after a cleaning", io)
	}
	if s[`kafka_log_logcleanermanager_time_since_last_run_ms`] > 10_000 || s[`kafka_log_logcleaner_deadthreadcount`] != 0 ||
		s[`kafka_log_logcleanermanager_uncleanable_partitions_count{logDirectory=`+dir+`}`] != 0 {
		t.Errorf("cleaner gauges not as expected in\n%v", s)
	}

	// A deleted topic's series go; the others stay.
	if _, err := adm.DeleteTopics(ctxT(t), "logged"); err != nil {
		t.Fatal(err)
	}
	c.waitFor("the deleted topic's log gauges gone", func() bool {
		_, ok := scrape(t, c.b)[logged("kafka_log_log_size")]
		return !ok
	})
	if _, ok := scrape(t, c.b)[`kafka_log_log_size{partition=0,topic=squashed}`]; !ok {
		t.Error("the remaining topic's log gauges went too")
	}

	// Without a cleaner: the logs' and log dirs' gauges, none of the cleaner's.
	if err := c.b.Close(); err != nil {
		t.Fatal(err)
	}
	c.start(m, "log.cleaner.enable=false")
	s = scrape(t, c.b)
	for name := range s {
		if strings.HasPrefix(name, "kafka_log_logcleaner") || strings.HasPrefix(name, "kafka_utils_throttler") {
			t.Errorf("%s without a cleaner", name)
		}
	}
	_, loaded := s[`kafka_log_log_size{partition=0,topic=squashed}`]
	_, dirOnline = s[`kafka_log_logmanager_logdirectoryoffline{logDirectory=`+dir+`}`]
	if !loaded || !dirOnline {
		t.Errorf("no gauges of the loaded log or its dir in\n%v", s)
	}
}
