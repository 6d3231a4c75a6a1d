package handler

import (
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/zkafka/zkafka/compat/serverprops"
	"github.com/zkafka/zkafka/kafkaserver/assign"
	klog "github.com/zkafka/zkafka/kafkaserver/log"
	"github.com/zkafka/zkafka/kafkaserver/metrics"
	"github.com/zkafka/zkafka/kafkaserver/zkmeta"
)

// errorMap is the one place Go errors become Kafka error codes (Errors.forException).
var errorMap = []struct {
	err  error
	code *kerr.Error
}{
	{klog.ErrInvalidRecord, kerr.InvalidRecord},
	{klog.ErrRecordTooLarge, kerr.MessageTooLarge},
	{klog.ErrInvalidTimestamp, kerr.InvalidTimestamp},
	{klog.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{klog.ErrUnsupportedCompression, kerr.UnsupportedCompressionType},
	{klog.ErrCorrupt, kerr.CorruptMessage},
	{klog.ErrUnsupportedForMessageFormat, kerr.UnsupportedForMessageFormat},
	{klog.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{klog.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{klog.ErrInvalidTxnState, kerr.InvalidTxnState},
	{klog.ErrTransactionCoordinatorFenced, kerr.TransactionCoordinatorFenced},
	{zkmeta.ErrTopicExists, kerr.TopicAlreadyExists},
	{zkmeta.ErrInvalidTopic, kerr.InvalidTopicException},
	{zkmeta.ErrInvalidReplicaAssignment, kerr.InvalidReplicaAssignment},
	{zkmeta.ErrAssignmentTooLarge, kerr.InvalidPartitions},
	{assign.ErrInvalidPartitions, kerr.InvalidPartitions},
	{assign.ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
}

// errCode returns the Kafka error code for err (0 for nil, UNKNOWN_SERVER_ERROR when unmapped).
func errCode(err error) int16 {
	code, _ := apiError(err)
	return code
}

// apiError returns the Kafka code and the message a Java broker would send (the exception's message).
func apiError(err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	var me *messageError
	if errors.As(err, &me) {
		return me.kind.Code, &me.msg
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code, nil
	}
	var ice *serverprops.InvalidConfigError
	if errors.As(err, &ice) {
		return ice.ErrorCode(), &ice.Message
	}
	var ae *assign.Error
	if errors.As(err, &ae) {
		msg := ae.Error()
		for _, m := range errorMap {
			if errors.Is(ae.Kind, m.err) {
				return m.code.Code, &msg
			}
		}
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			msg := err.Error()
			if i := strings.Index(msg, m.err.Error()+": "); i >= 0 {
				msg = msg[i+len(m.err.Error())+2:]
			}
			return m.code.Code, &msg
		}
	}
	msg := err.Error()
	return kerr.UnknownServerError.Code, &msg
}

// messageError is a Kafka error with the message a Java broker sends with it.
type messageError struct {
	kind *kerr.Error
	msg  string
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.kind }

// outcome classes a partition's error for the request meters: the errors Kafka's ReplicaManager leaves out of its
// failed-request counts (appendToLocalLog, readFromLocalLog) are the client's doing.
func outcome(err error) metrics.Outcome {
	switch {
	case err == nil:
		return metrics.OK
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.TopicAuthorizationFailed):
		// Neither reaches the replica manager in Kafka: KafkaApis answers them itself.
		return metrics.Unknown
	case errors.Is(err, kerr.NotLeaderForPartition),
		errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.CorruptMessage),
		errors.Is(err, kerr.KafkaStorageError), errors.Is(err, kerr.UnknownLeaderEpoch), errors.Is(err, kerr.FencedLeaderEpoch),
		errors.Is(err, kerr.ReplicaNotAvailable), errors.Is(err, kerr.OffsetOutOfRange),
		// Refused before any append: an internal topic, or acks Kafka does not know.
		errors.Is(err, kerr.InvalidTopicException), errors.Is(err, kerr.InvalidRequiredAcks):
		return metrics.Refused
	}
	return metrics.Failed
}
