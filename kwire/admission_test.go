package kwire

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAdmitter admits by a script of verdicts (then Accepted) and records releases.
type fakeAdmitter struct {
	mu       sync.Mutex
	verdicts []Admission
	admitted []netip.Addr
	released []netip.Addr
	// exceeded is how many more times Exceeded says yes: one connection too many is closed once, however
	// slowly the test goes on.
	exceeded int
	// holdFor, for a verdict with a CloseAt, sets it that long after the Admit.
	holdFor time.Duration
}

func (f *fakeAdmitter) Admit(_ context.Context, listener string, addr netip.Addr) (Admission, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.admitted = append(f.admitted, addr)
	if len(f.verdicts) == 0 {
		return Admission{}, nil
	}
	v := f.verdicts[0]
	f.verdicts = f.verdicts[1:]
	if !v.CloseAt.IsZero() {
		v.CloseAt = time.Now().Add(f.holdFor)
	}
	return v, nil
}

func (f *fakeAdmitter) Release(_ string, addr netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released = append(f.released, addr)
}

func (f *fakeAdmitter) Exceeded(string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.exceeded > 0 {
		f.exceeded--
		return true
	}
	return false
}

func (f *fakeAdmitter) releases() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.released)
}

// The Admitter sees each connection's peer address; a refusal closes at once with its reason logged, a delayed
// close keeps the socket unanswered until its time, an admitted connection is served and released when it closes,
// and while the broker is over its limit the least recently used connection is closed.
func TestAdmission(t *testing.T) {
	mux := NewMux()
	mux.Handle(3, 0, 12, metadataHandler("127.0.0.1", 1))
	adm := &fakeAdmitter{verdicts: []Admission{
		{Refused: true, Reason: "Rejected connection from /127.0.0.1, address already has the configured maximum of 2 connections."},
		{CloseAt: time.Now()},
	}, holdFor: 2 * time.Second}
	s, logs := startServer(t, Config{Admission: adm}, mux)

	refused := dialRaw(t, s)
	refused.write(refused.frame(metadataReq(9), 1))
	refused.expectClosed()
	if !strings.Contains(logs.String(), "maximum of 2 connections") {
		t.Fatalf("refusal not logged:\n%s", logs)
	}

	throttled := dialRaw(t, s)
	throttled.write(throttled.frame(metadataReq(9), 1))
	_ = throttled.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if b, err := throttled.readFrame(); err == nil || !isTimeout(err) {
		t.Fatalf("throttled connection before its close time: %d bytes, %v: want it open and unanswered", len(b), err)
	}
	_ = throttled.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	throttled.expectClosed()

	old := dialRaw(t, s)
	old.write(old.frame(metadataReq(9), 1))
	old.read(metadataReq(9), 9)
	recent := dialRaw(t, s)
	recent.write(recent.frame(metadataReq(9), 1))
	recent.read(metadataReq(9), 9)
	adm.mu.Lock()
	if len(adm.admitted) != 4 || adm.admitted[0] != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("admitted %v", adm.admitted)
	}
	adm.mu.Unlock()
	if n := adm.releases(); n != 0 {
		t.Fatalf("%d releases before any admitted connection closed (refused and throttled ones hold no count)", n)
	}

	adm.mu.Lock()
	adm.exceeded = 1
	adm.mu.Unlock()
	old.expectClosed()
	waitFor(t, func() bool { return adm.releases() == 1 })
	recent.write(recent.frame(metadataReq(9), 2))
	recent.read(metadataReq(9), 9)

	recent.nc.Close()
	waitFor(t, func() bool { return adm.releases() == 2 })
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
