// Package election is ZooKeeper's fast leader election (FastLeaderElection, electionAlg=3) as a deterministic
// state machine: notifications and time go in, notifications to send and the decided vote come out. It never
// touches sockets, disks, clocks or goroutines; zkserver/quorum/electionnet runs it on the election port.
package election

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// State is a peer's server state as it travels in notifications (QuorumPeer.ServerState ordinals).
type State int32

const (
	Looking   State = 0
	Following State = 1
	Leading   State = 2
	Observing State = 3
)

func (s State) String() string {
	switch s {
	case Looking:
		return "LOOKING"
	case Following:
		return "FOLLOWING"
	case Leading:
		return "LEADING"
	case Observing:
		return "OBSERVING"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// notificationVersion is the format this package sends: with peer epoch, version and the quorum config.
const notificationVersion = 2

// minNotificationSize is the oldest format's size (no peer epoch, no version); anything shorter is dropped.
const minNotificationSize = 28

// Notification is one election message (FastLeaderElection.Notification / ToSend on the wire).
type Notification struct {
	State         State
	Leader        int64 // proposed leader's sid
	Zxid          int64 // proposed leader's last logged zxid
	ElectionEpoch int64 // sender's logical clock (round)
	PeerEpoch     int64 // proposed leader's current epoch
	// Version is 0 for the 28- and 40-byte formats, 2 for the current one (which carries Config).
	Version int32
	// Config is the sender's quorum config text (QuorumVerifier.toString), present when Version > 1.
	Config []byte
}

// ErrMalformed marks a notification that cannot be parsed; Apache logs and skips such messages.
var ErrMalformed = errors.New("malformed notification")

// Marshal encodes n in the current format (44 bytes plus the config text), whatever n.Version says.
func (n Notification) Marshal() []byte {
	b := make([]byte, 0, 44+len(n.Config))
	b = binary.BigEndian.AppendUint32(b, uint32(n.State))
	b = binary.BigEndian.AppendUint64(b, uint64(n.Leader))
	b = binary.BigEndian.AppendUint64(b, uint64(n.Zxid))
	b = binary.BigEndian.AppendUint64(b, uint64(n.ElectionEpoch))
	b = binary.BigEndian.AppendUint64(b, uint64(n.PeerEpoch))
	b = binary.BigEndian.AppendUint32(b, notificationVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(len(n.Config)))
	return append(b, n.Config...)
}

// Unmarshal decodes a notification in any of the formats Apache accepts: 28 bytes (the peer epoch is then the
// zxid's epoch), 40 bytes (peer epoch; the version is not read), and longer ones (version; config text when the
// version is above 1).
// A state outside the four known ones is malformed too (Apache drops it).
func Unmarshal(b []byte) (Notification, error) {
	var n Notification
	if len(b) < minNotificationSize {
		return n, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(b), minNotificationSize)
	}
	be := binary.BigEndian
	n.State = State(int32(be.Uint32(b)))
	n.Leader = int64(be.Uint64(b[4:]))
	n.Zxid = int64(be.Uint64(b[12:]))
	n.ElectionEpoch = int64(be.Uint64(b[20:]))
	switch {
	case len(b) == minNotificationSize:
		n.PeerEpoch = n.Zxid >> 32
	case len(b) == 40:
		// The 40-byte format has a version field that Apache does not read.
		n.PeerEpoch = int64(be.Uint64(b[28:]))
	case len(b) < 40:
		return n, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	default:
		n.PeerEpoch = int64(be.Uint64(b[28:]))
		n.Version = int32(be.Uint32(b[36:]))
		if n.Version > 1 {
			if len(b) < 44 {
				return n, fmt.Errorf("%w: version %d without a config length", ErrMalformed, n.Version)
			}
			size := int32(be.Uint32(b[40:]))
			if size < 0 || int(size) > len(b)-44 {
				return n, fmt.Errorf("%w: config length %d in %d bytes", ErrMalformed, size, len(b))
			}
			n.Config = b[44 : 44+int(size)]
		}
	}
	if n.State < Looking || n.State > Observing {
		return n, fmt.Errorf("%w: state %d", ErrMalformed, n.State)
	}
	return n, nil
}

// ConfigVersion returns the version line of the config text ("version=<hex>"), if it has one.
func (n Notification) ConfigVersion() (int64, bool) {
	return ConfigTextVersion(string(n.Config))
}

// ConfigTextVersion finds "version=<hex>" in a quorum config text (QuorumVerifier.toString's last line).
func ConfigTextVersion(text string) (int64, bool) {
	for line := range strings.SplitSeq(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "version="); ok {
			n, err := strconv.ParseUint(v, 16, 64)
			if err != nil {
				return 0, false
			}
			return int64(n), true
		}
	}
	return 0, false
}
