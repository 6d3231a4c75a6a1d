package kbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Loopback measures what one TCP connection on this machine carries when used the way a consumer uses its
// connection to a broker: a small request, then a response of size bytes, one at a time. The responder does no work
// beyond writing a buffer it filled once, so the result bounds the consume throughput of any broker measured with
// one consumer here. It returns response bytes per second.
func Loopback(ctx context.Context, size int, d time.Duration) (float64, error) {
	if size < 4 {
		return 0, fmt.Errorf("response size %d too small", size)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() { served <- respond(ln, size) }()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	req := make([]byte, 64) // about a one-partition Fetch request
	binary.BigEndian.PutUint32(req, uint32(len(req)-4))
	resp := make([]byte, size)
	var total int64
	start := time.Now()
	for time.Since(start) < d && ctx.Err() == nil {
		if _, err := c.Write(req); err != nil {
			return 0, fmt.Errorf("write request: %w", err)
		}
		n, err := io.ReadFull(c, resp)
		if err != nil {
			return 0, fmt.Errorf("read response: %w", err)
		}
		total += int64(n)
	}
	elapsed := time.Since(start)
	c.Close()
	if err := <-served; err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	return float64(total) / elapsed.Seconds(), ctx.Err()
}

// respond answers each request on the one connection it accepts with size bytes.
func respond(ln net.Listener, size int) error {
	c, err := ln.Accept()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer c.Close()
	out := make([]byte, size)
	binary.BigEndian.PutUint32(out, uint32(size-4))
	for i := 4; i < size; i++ {
		out[i] = byte(i)
	}
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(hdr[:]))); err != nil {
			return err
		}
		if _, err := c.Write(out); err != nil {
			return err
		}
	}
}
