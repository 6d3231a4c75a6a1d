package log

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Checkpoint file names inside each log dir and partition dir, as Kafka 2.8 names them.
const (
	RecoveryPointCheckpointFile  = "recovery-point-offset-checkpoint"
	ReplicationCheckpointFile    = "replication-offset-checkpoint"
	LogStartOffsetCheckpointFile = "log-start-offset-checkpoint"
	CleanerCheckpointFile        = "cleaner-offset-checkpoint"
	LeaderEpochCheckpointFile    = "leader-epoch-checkpoint"
	PartitionMetadataFileName    = "partition.metadata"
	MetaPropertiesFile           = "meta.properties"
	CleanShutdownFile            = ".kafka_cleanshutdown"
	LockFile                     = ".lock"
)

// TopicPartition names one partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }

// writeCheckpoint writes Kafka's CheckpointFile text format: version 0, entry count, one line per
// entry; through a .tmp file, fsync and rename so a crash leaves the old or the new file.
func writeCheckpoint(path string, lines []string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(lines))
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return atomicWrite(path, b.Bytes())
}

func atomicWrite(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// readCheckpoint parses a CheckpointFile; a missing file is an empty list. Each entry is split into
// its space-separated fields and must have exactly want of them.
func readCheckpoint(path string, want int) ([][]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		return sc.Text(), true
	}
	v, ok := next()
	if !ok {
		return nil, nil // an empty file is an empty checkpoint (Kafka 0.9 creates them so)
	}
	if strings.TrimSpace(v) != "0" {
		return nil, fmt.Errorf("%s: unrecognized checkpoint version %q", path, v)
	}
	c, ok := next()
	n, err := strconv.Atoi(strings.TrimSpace(c))
	if !ok || err != nil || n < 0 {
		return nil, fmt.Errorf("%s: malformed entry count %q", path, c)
	}
	out := make([][]string, 0, n)
	for {
		l, ok := next()
		if !ok {
			break
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if len(f) != want {
			return nil, fmt.Errorf("%s: malformed line %q", path, l)
		}
		out = append(out, f)
	}
	if len(out) != n {
		return nil, fmt.Errorf("%s: expected %d entries, found %d", path, n, len(out))
	}
	return out, nil
}

// WriteOffsetCheckpoint writes "<topic> <partition> <offset>" entries, sorted for stable files.
func WriteOffsetCheckpoint(path string, offsets map[TopicPartition]int64) error {
	lines := make([]string, 0, len(offsets))
	for tp, off := range offsets {
		lines = append(lines, fmt.Sprintf("%s %d %d", tp.Topic, tp.Partition, off))
	}
	slices.Sort(lines)
	return writeCheckpoint(path, lines)
}

// ReadOffsetCheckpoint reads an offset checkpoint file; a missing file yields an empty map.
func ReadOffsetCheckpoint(path string) (map[TopicPartition]int64, error) {
	entries, err := readCheckpoint(path, 3)
	if err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]int64, len(entries))
	for _, e := range entries {
		p, err1 := strconv.ParseInt(e[1], 10, 32)
		off, err2 := strconv.ParseInt(e[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: malformed entry %q", path, strings.Join(e, " "))
		}
		out[TopicPartition{e[0], int32(p)}] = off
	}
	return out, nil
}

// writePartitionMetadata writes partition.metadata: "version: 0" and the topic id in Kafka's
// Uuid.toString form (URL-safe base64 without padding).
func writePartitionMetadata(dir string, id [16]byte) error {
	s := fmt.Sprintf("version: 0\ntopic_id: %s\n", base64.RawURLEncoding.EncodeToString(id[:]))
	return atomicWrite(filepath.Join(dir, PartitionMetadataFileName), []byte(s))
}

// readPartitionMetadata returns the stored topic id, ok=false when the file is absent.
func readPartitionMetadata(dir string) ([16]byte, bool, error) {
	var id [16]byte
	data, err := os.ReadFile(filepath.Join(dir, PartitionMetadataFileName))
	if errors.Is(err, os.ErrNotExist) {
		return id, false, nil
	}
	if err != nil {
		return id, false, fmt.Errorf("read partition.metadata: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || strings.TrimSpace(lines[0]) != "version: 0" || !strings.HasPrefix(lines[1], "topic_id: ") {
		return id, false, fmt.Errorf("malformed partition.metadata in %s", dir)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(strings.TrimPrefix(lines[1], "topic_id: ")))
	if err != nil || len(raw) != 16 {
		return id, false, fmt.Errorf("malformed topic id in %s/partition.metadata", dir)
	}
	copy(id[:], raw)
	if id == ([16]byte{}) {
		return id, false, fmt.Errorf("zero topic id in %s/partition.metadata", dir)
	}
	return id, true, nil
}
