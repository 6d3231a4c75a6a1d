package kwire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// RequestHeader is a decoded Kafka request header (versions 0, 1 and 2).
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// ClientID is nil for header v0 and for a null client id.
	ClientID *string
	// Version is the header version: 0 (ControlledShutdown v0 only), 1, or 2 (flexible requests).
	Version int16
}

var errShortHeader = errors.New("request header truncated")

// requestHeaderVersion mirrors Kafka's generated ApiMessageType.requestHeaderVersion: v2 for
// flexible versions, v0 only for ControlledShutdown v0, v1 otherwise.
func requestHeaderVersion(key, version int16, flexible bool) int16 {
	switch {
	case flexible:
		return 2
	case key == keyControlledShutdown && version == 0:
		return 0
	default:
		return 1
	}
}

// responseHeaderVersion: ApiVersions always answers with header v0 so that a client that does
// not know the broker's versions can still read the response.
func responseHeaderVersion(key int16, flexible bool) int16 {
	if flexible && key != keyApiVersions {
		return 1
	}
	return 0
}

// parseRequestHeader decodes the header that follows the key and version (already read into h)
// and returns the body. flexible says whether (key, version) uses flexible encoding.
func parseRequestHeader(frame []byte, h *RequestHeader, flexible bool) ([]byte, error) {
	if len(frame) < 8 {
		return nil, errShortHeader
	}
	h.CorrelationID = int32(binary.BigEndian.Uint32(frame[4:8]))
	h.Version = requestHeaderVersion(h.APIKey, h.APIVersion, flexible)
	b := frame[8:]
	if h.Version == 0 {
		return b, nil
	}
	// The client id is a classic nullable string even in header v2.
	if len(b) < 2 {
		return nil, errShortHeader
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	switch {
	case n == -1:
	case n < -1:
		return nil, fmt.Errorf("invalid client id length %d", n)
	default:
		if len(b) < int(n) {
			return nil, errShortHeader
		}
		s := string(b[:n])
		h.ClientID = &s
		b = b[n:]
	}
	if h.Version < 2 {
		return b, nil
	}
	// No header tags are defined; skip whatever a newer client sends.
	return skipTags(b)
}

func skipTags(b []byte) ([]byte, error) {
	num, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("invalid tagged field count")
	}
	b = b[n:]
	for ; num > 0; num-- {
		_, n = binary.Uvarint(b) // tag
		if n <= 0 {
			return nil, errors.New("invalid tag")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errors.New("invalid tagged field size")
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// appendResponseHeader appends correlation id and, for header v1, an empty tag section.
func appendResponseHeader(dst []byte, corr int32, version int16) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	if version >= 1 {
		dst = append(dst, 0)
	}
	return dst
}
