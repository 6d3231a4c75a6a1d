package kwire

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	keyControlledShutdown int16 = 7
	keyApiVersions        int16 = 18
)

// Handler serves one decoded request. A nil response with a nil error means "send nothing"
// (Produce with acks=0). A non-nil error closes the connection after earlier responses are
// written, as Kafka does for a CloseConnectionResponse; protocol errors that the client should
// see belong in the response's error codes instead.
type Handler func(ctx context.Context, rc *RequestContext, req kmsg.Request) (kmsg.Response, error)

// HandleOption tunes how a handler is scheduled.
type HandleOption interface{ apply(*route) }

type handleOptFn func(*route)

func (f handleOptFn) apply(r *route) { f(r) }

// Serial makes requests of this key run alone on their connection: the handler starts only
// after every earlier request on the connection has been handled, and no later request is read
// until it returns. That is Kafka's own model for every request (the channel is muted while a
// request is in flight); use it for handlers whose order matters, such as Produce (appends must
// keep the client's order) and the SASL handshake/authenticate exchange (they change connection
// state that the next request depends on). When no earlier response is waiting to be written, the connection's
// reader writes a Serial request's response itself (a hop to the writer goroutine less per request, which a
// consumer's fetch loop pays every time) and reads the next request once it is written.
func Serial() HandleOption { return handleOptFn(func(r *route) { r.serial = true }) }

type route struct {
	minV, maxV int16
	h          Handler
	serial     bool
}

// Mux routes requests to handlers by API key. Register handlers before passing the Mux to
// Listen; the server snapshots the routes when it starts.
type Mux struct {
	mu     sync.Mutex
	routes map[int16]route
}

// NewMux returns an empty Mux. The zero Mux is usable too.
func NewMux() *Mux { return &Mux{} }

// Handle registers h for key over versions [minV, maxV]. The versions actually served are
// these intersected with the server's version table and with what kmsg can decode. It panics
// on a programming error (duplicate key, unknown key, ApiVersions, bad range), like
// http.ServeMux.
func (m *Mux) Handle(key, minV, maxV int16, h Handler, opts ...HandleOption) {
	if h == nil {
		panic(fmt.Sprintf("kwire: nil handler for key %d", key))
	}
	if key == keyApiVersions {
		panic("kwire: ApiVersions is answered by kwire itself")
	}
	if kmsg.RequestForKey(key) == nil {
		panic(fmt.Sprintf("kwire: unknown API key %d", key))
	}
	if minV < 0 || minV > maxV {
		panic(fmt.Sprintf("kwire: bad version range [%d, %d] for key %d", minV, maxV, key))
	}
	r := route{minV: minV, maxV: maxV, h: h}
	for _, o := range opts {
		o.apply(&r)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.routes == nil {
		m.routes = make(map[int16]route)
	}
	if _, dup := m.routes[key]; dup {
		panic(fmt.Sprintf("kwire: duplicate handler for key %d (%s)", key, kmsg.NameForKey(key)))
	}
	m.routes[key] = r
}

// SupportedVersions returns the registered version range per key (before intersecting with a
// server's version table; see Server.Versions for what is advertised).
func (m *Mux) SupportedVersions() map[int16][2]int16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int16][2]int16, len(m.routes))
	for k, r := range m.routes {
		out[k] = [2]int16{r.minV, r.maxV}
	}
	return out
}

func (m *Mux) snapshot() map[int16]route {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int16]route, len(m.routes))
	for k, r := range m.routes {
		out[k] = r
	}
	return out
}

// sortedKeys returns the keys of a version table in ascending order (Kafka lists ApiVersions
// entries in key order).
func sortedKeys(t map[int16][2]int16) []int16 {
	keys := make([]int16, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
