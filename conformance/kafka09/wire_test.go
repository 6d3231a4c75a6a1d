package kafka09

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// wireConn is one raw Kafka connection: requests encoded by kmsg at a pinned version, header v1 (the only one the
// 0.9 APIs have), responses decoded by kmsg. No retries, no version negotiation: what a broker answers is what the
// test compares.
type wireConn struct {
	addr     string
	clientID string
	c        net.Conn
	corr     int32
	wait     time.Duration // how long an answer may take
}

// errClosed is a broker closing the connection instead of answering; errNoAnswer is one that kept it open but did
// not answer in time (the connection is closed after it, since a late answer would be out of order).
var (
	errClosed   = errors.New("connection closed by the broker")
	errNoAnswer = errors.New("no answer")
)

func (w *wireConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

// send writes req at version v and, unless noResponse, reads and decodes the answer.
func (w *wireConn) send(req kmsg.Request, v int16, noResponse bool) (kmsg.Response, error) {
	if w.c == nil {
		c, err := net.DialTimeout("tcp", w.addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		w.c = c
	}
	req.SetVersion(v)
	w.corr++
	body := req.AppendTo(nil)
	frame := binary.BigEndian.AppendUint32(nil, 0)
	frame = binary.BigEndian.AppendUint16(frame, uint16(req.Key()))
	frame = binary.BigEndian.AppendUint16(frame, uint16(v))
	frame = binary.BigEndian.AppendUint32(frame, uint32(w.corr))
	frame = binary.BigEndian.AppendUint16(frame, uint16(len(w.clientID)))
	frame = append(frame, w.clientID...)
	frame = append(frame, body...)
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	_ = w.c.SetDeadline(time.Now().Add(w.wait))
	if _, err := w.c.Write(frame); err != nil {
		w.close()
		return nil, fmt.Errorf("write: %w", err)
	}
	if noResponse {
		return nil, nil
	}
	var size [4]byte
	if _, err := io.ReadFull(w.c, size[:]); err != nil {
		w.close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
			return nil, errClosed
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, errNoAnswer
		}
		return nil, fmt.Errorf("read: %w", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		w.close()
		return nil, fmt.Errorf("response size %d", n)
	}
	resp := make([]byte, n)
	if _, err := io.ReadFull(w.c, resp); err != nil {
		w.close()
		return nil, fmt.Errorf("read: %w", err)
	}
	if got := int32(binary.BigEndian.Uint32(resp)); got != w.corr {
		w.close()
		return nil, fmt.Errorf("correlation id %d, want %d", got, w.corr)
	}
	r := req.ResponseKind()
	r.SetVersion(v)
	if err := r.ReadFrom(resp[4:]); err != nil {
		return nil, fmt.Errorf("decode %T v%d: %w", r, v, err)
	}
	return r, nil
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// legacyMsg is one magic 0 or 1 message as a client writes it (the 0.9 producer's format).
type legacyMsg struct {
	magic      int8
	codec      int8
	ts         int64 // magic 1 only
	key, value []byte
}

// appendMessageSet encodes msgs as a message set with offsets from 0, each with its CRC.
func appendMessageSet(dst []byte, msgs ...legacyMsg) []byte {
	for i, m := range msgs {
		dst = binary.BigEndian.AppendUint64(dst, uint64(i))
		sizeAt := len(dst)
		dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // size, crc
		crcFrom := len(dst)
		dst = append(dst, byte(m.magic), byte(m.codec))
		if m.magic == 1 {
			dst = binary.BigEndian.AppendUint64(dst, uint64(m.ts))
		}
		dst = appendBytes(dst, m.key)
		dst = appendBytes(dst, m.value)
		binary.BigEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-sizeAt-4))
		binary.BigEndian.PutUint32(dst[sizeAt+4:], crc32.ChecksumIEEE(dst[crcFrom:]))
	}
	return dst
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, 0xffffffff)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// gzipWrapper is one magic 0 message whose value is the gzip of inner's message set, as 0.9's producer sends.
func gzipWrapper(inner ...legacyMsg) legacyMsg {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(appendMessageSet(nil, inner...))
	_ = zw.Close()
	return legacyMsg{magic: 0, codec: 1, value: buf.Bytes()}
}

// msgView is a fetched message as a client sees it: compressed wrappers expanded into their messages.
type msgView struct {
	Offset    int64
	Magic     int8
	Codec     int8 `json:",omitempty"` // the wrapper's, for inner messages
	Timestamp *int64
	Key       *string
	Value     *string
}

// recordsView decodes a Fetch v0/v1 partition's records: every whole message (inner messages of gzip wrappers
// expanded) and the bytes of a trailing partial message after them (hex). Anything it cannot decode is reported
// as such, so a broker that sends something else still compares unequal.
type recordsView struct {
	Messages    []msgView `json:",omitempty"`
	Partial     string    `json:",omitempty"`
	Undecodable string    `json:",omitempty"`
}

func viewRecords(b []byte) recordsView {
	var v recordsView
	if err := walkMessageSet(b, 0, &v, true); err != nil {
		v.Undecodable = err.Error()
	}
	return v
}

func walkMessageSet(b []byte, codec int8, v *recordsView, outer bool) error {
	for len(b) > 0 {
		if len(b) < 12 {
			if outer {
				v.Partial = hex.EncodeToString(b)
				return nil
			}
			return fmt.Errorf("inner set ends in %d bytes", len(b))
		}
		off := int64(binary.BigEndian.Uint64(b))
		size := int(binary.BigEndian.Uint32(b[8:]))
		if len(b) < 12+size {
			if outer {
				v.Partial = hex.EncodeToString(b)
				return nil
			}
			return fmt.Errorf("inner message at %d cut", off)
		}
		m := b[12 : 12+size]
		b = b[12+size:]
		if size < 14 {
			return fmt.Errorf("message at %d of %d bytes", off, size)
		}
		if crc32.ChecksumIEEE(m[4:]) != binary.BigEndian.Uint32(m) {
			return fmt.Errorf("message at %d: bad crc", off)
		}
		magic, attrs := int8(m[4]), int8(m[5])
		p := m[6:]
		mv := msgView{Offset: off, Magic: magic, Codec: codec}
		if magic == 1 {
			ts := int64(binary.BigEndian.Uint64(p))
			mv.Timestamp = &ts
			p = p[8:]
		} else if magic != 0 {
			return fmt.Errorf("message at %d: magic %d", off, magic)
		}
		var key, value []byte
		var err error
		if key, p, err = readBytes(p); err != nil {
			return fmt.Errorf("message at %d key: %w", off, err)
		}
		if value, _, err = readBytes(p); err != nil {
			return fmt.Errorf("message at %d value: %w", off, err)
		}
		switch c := attrs & 7; c {
		case 0:
			if key != nil {
				s := string(key)
				mv.Key = &s
			}
			if value != nil {
				s := string(value)
				mv.Value = &s
			}
			v.Messages = append(v.Messages, mv)
		case 1:
			zr, err := gzip.NewReader(bytes.NewReader(value))
			if err != nil {
				return fmt.Errorf("wrapper at %d: %w", off, err)
			}
			inner, err := io.ReadAll(zr)
			if err != nil {
				return fmt.Errorf("wrapper at %d: %w", off, err)
			}
			// The wrapper's own offset is its last inner message's: record it as its own entry.
			v.Messages = append(v.Messages, msgView{Offset: off, Magic: magic, Codec: -1})
			if err := walkMessageSet(inner, c, v, false); err != nil {
				return err
			}
		default:
			return fmt.Errorf("wrapper at %d: codec %d", off, c)
		}
	}
	return nil
}

func readBytes(p []byte) ([]byte, []byte, error) {
	if len(p) < 4 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	n := int32(binary.BigEndian.Uint32(p))
	p = p[4:]
	if n < 0 {
		return nil, p, nil
	}
	if int(n) > len(p) {
		return nil, nil, io.ErrUnexpectedEOF
	}
	return p[:n], p[n:], nil
}
