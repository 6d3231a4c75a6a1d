package zkserver

import (
	"testing"

	"github.com/zkafka/zkafka/compat/zoocfg"
)

// zookeeper.snapshot.compression.method as SnapStream.StreamMode.fromString
// reads it: gz or snappy in any case, anything else a plain snapshot.
func TestSnapshotCompressionFromZooCfg(t *testing.T) {
	for method, want := range map[string]string{"": "", "gz": "gz", "SNAPPY": "snappy", "snappy": "snappy", "lz4": ""} {
		zc := &zoocfg.Config{SnapshotCompressionMethod: method, ClientPort: 2181}
		if got := ConfigFromZooCfg(zc, nil).SnapCompression; got != want {
			t.Errorf("method %q: %q, want %q", method, got, want)
		}
	}
}
