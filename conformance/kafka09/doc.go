// Package kafka09 runs Apache Kafka 0.9.0.1's own Java tools (kafka-topics.sh --zookeeper, the console producer and
// consumers, the verifiable producer and consumer) against our zkserver and kafkaserver, started as processes.
// Those tools speak only the oldest protocol versions (Produce v0-1, Fetch v0-1, Metadata v0, ListOffsets v0,
// groups v0, message format magic 0) and the old consumer's ZooKeeper layout under /consumers, all of which a Kafka
// 2.8 broker still serves. Scenarios that fail because of a known broker bug are listed in
// testdata/known-failures.txt: their failures are logged, not failed.
//
// TestWireAgainstKafka09 also runs Kafka 0.9.0.1's broker and sends it and ours the same requests at 0.9's
// versions, comparing the answers; where Kafka 2.8 answers differently from 0.9 by design,
// testdata/wire-differences.txt says why.
package kafka09
