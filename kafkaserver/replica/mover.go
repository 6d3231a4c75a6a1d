package replica

import (
	"encoding/binary"
	"errors"
	"fmt"

	klog "github.com/zkafka/zkafka/kafkaserver/log"
)

// moveStep is one round of ReplicaAlterLogDirsThread for a partition: the future log is first made consistent
// with the current one (cut back where the current log was truncated or diverged, restarted at the current log
// start when it fell below it), then up to maxBytes of the current log's batches are appended to it unchanged,
// and it takes the current high watermark and log start. copied counts the record bytes appended; caughtUp is
// true when both logs end at the same offset (the swap may be tried).
func moveStep(cur, fut *klog.Log, maxBytes int32) (copied int, caughtUp bool, err error) {
	if err := reconcileFuture(cur, fut); err != nil {
		return 0, false, err
	}
	res, err := cur.Read(fut.LogEndOffset(), maxBytes, -1, true)
	if errors.Is(err, klog.ErrOffsetOutOfRange) {
		// Retention or DeleteRecords passed the future log end between the two calls: the next round restarts it.
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read current log: %w", err)
	}
	if len(res.Records) > 0 {
		_, err := fut.AppendAsFollower(res.Records)
		if errors.Is(err, klog.ErrUnexpectedAppendOffset) && len(res.Records) >= 8 {
			// The log start is inside the first batch: the future log restarts at the batch, as
			// Partition.appendRecordsToFollowerOrFutureReplica does on UnexpectedAppendOffsetException.
			base := int64(binary.BigEndian.Uint64(res.Records))
			if err = fut.TruncateFullyAndStartAt(base); err == nil {
				_, err = fut.AppendAsFollower(res.Records)
			}
		}
		if err != nil {
			return 0, false, fmt.Errorf("append to future log: %w", err)
		}
		copied = len(res.Records)
	}
	fut.SetHighWatermark(res.HighWatermark) // clamped to the future log's end
	if res.LogStartOffset > fut.LogStartOffset() {
		if err := fut.DeleteRecordsBefore(min(res.LogStartOffset, fut.HighWatermark())); err != nil {
			return copied, false, fmt.Errorf("future log start: %w", err)
		}
	}
	return copied, fut.LogEndOffset() == cur.LogEndOffset(), nil
}

// reconcileFuture truncates the future log as a follower truncates to its leader (the current log plays the
// leader): to the end of its latest epoch in the current log, never past the current log end; a future log
// ending below the current log start restarts empty there.
func reconcileFuture(cur, fut *klog.Log) error {
	end, start := fut.LogEndOffset(), cur.LogStartOffset()
	if end < start {
		if err := fut.TruncateFullyAndStartAt(start); err != nil {
			return fmt.Errorf("restart future log at %d: %w", start, err)
		}
		return nil
	}
	target := min(end, cur.LogEndOffset())
	if e := fut.LatestEpoch(); e >= 0 {
		ce, co := cur.EndOffsetForEpoch(e)
		switch {
		case co < 0:
			// e is newer than any epoch of the current log, which was truncated: the logs agree up to the end
			// of the current log's latest epoch in the future log.
			if cl := cur.LatestEpoch(); cl >= 0 {
				if _, fo := fut.EndOffsetForEpoch(cl); fo >= 0 {
					target = min(target, fo)
				}
			}
		case ce == e:
			target = min(target, co)
		default:
			// The current log's last epoch before e: the future log agrees only up to its own end of that epoch.
			_, fo := fut.EndOffsetForEpoch(ce)
			target = min(target, co)
			if fo >= 0 {
				target = min(target, fo)
			}
		}
	}
	if target < end {
		if err := fut.TruncateTo(target); err != nil {
			return fmt.Errorf("truncate future log to %d: %w", target, err)
		}
	}
	return nil
}
