package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// httpServer is the listener and lifecycle both HTTP endpoints share.
type httpServer struct {
	addr    string
	handler http.Handler
	logger  *slog.Logger
	name    string
	idle    time.Duration // the connector's idle timeout (0: Jetty's 30 s)
	https   *HTTPS        // nil: plaintext HTTP

	mu   sync.Mutex
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Start binds the address and serves in the background.
func (h *httpServer) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.srv != nil {
		return fmt.Errorf("%s: already started", h.name)
	}
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("%s: listen on %s: %w", h.name, h.addr, err)
	}
	idle := h.idle
	if idle <= 0 {
		idle = 30 * time.Second
	}
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: idle, IdleTimeout: idle}
	if h.https != nil {
		handler, err := h.https.secure(h.handler)
		if err != nil {
			ln.Close()
			return err
		}
		srv.Handler, srv.ConnContext = handler, withConn
		ln = &httpsListener{Listener: ln, cfg: h.https.tlsConfig(), https: h.https}
	}
	h.srv, h.ln, h.done = srv, ln, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.logger.Error("http server stopped", "server", h.name, "err", err)
		}
	}(h.done)
	h.logger.Info("started", "server", h.name, "addr", ln.Addr().String())
	return nil
}

// Addr is the bound address once started (useful with port 0).
func (h *httpServer) Addr() net.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ln == nil {
		return nil
	}
	return h.ln.Addr()
}

// Close stops serving and waits for the serve loop to end.
func (h *httpServer) Close() error {
	h.mu.Lock()
	srv, done := h.srv, h.done
	h.srv, h.ln = nil, nil
	h.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	<-done
	if err != nil {
		return fmt.Errorf("%s: close: %w", h.name, err)
	}
	return nil
}

// AdminServer is Apache's JettyAdminServer: GET <prefix> lists the commands,
// GET <prefix>/<name or alias>[?k=v] answers one as JSON.
type AdminServer struct {
	httpServer
	src    Source
	prefix string
}

// NewAdminServer builds the AdminServer for addr (admin.serverAddress:
// admin.serverPort) and urlPrefix (admin.commandURL, "/commands" when empty).
// Call Start to listen.
func NewAdminServer(src Source, addr string, urlPrefix string, logger *slog.Logger) (*AdminServer, error) {
	if src == nil {
		return nil, errors.New("admin server: nil source")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if urlPrefix == "" {
		urlPrefix = "/commands"
	}
	if !strings.HasPrefix(urlPrefix, "/") {
		urlPrefix = "/" + urlPrefix
	}
	a := &AdminServer{src: src, prefix: strings.TrimSuffix(urlPrefix, "/")}
	a.httpServer = httpServer{addr: addr, handler: a, logger: logger, name: "AdminServer"}
	return a, nil
}

// SetIdleTimeout is admin.idleTimeout: how long a connection may stay idle. Call before Start.
func (a *AdminServer) SetIdleTimeout(d time.Duration) { a.idle = d }

// UseHTTPS serves over TLS (admin.forceHttps), or over TLS and plaintext alike (admin.portUnification). Call
// before Start.
func (a *AdminServer) UseHTTPS(h *HTTPS) { a.https = h }

// ServeHTTP implements the command servlet.
func (a *AdminServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	rest, ok := strings.CutPrefix(path, a.prefix)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "HTTP method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if rest == "" || rest == "/" {
		// Jetty sends the links without a content type; stop Go sniffing one.
		w.Header()["Content-Type"] = nil
		var b strings.Builder
		for _, name := range CommandNames() {
			fmt.Fprintf(&b, "<a href=\"%s/%s\">%s</a>\n<br/>\n", a.prefix, name, name)
		}
		_, _ = w.Write([]byte(b.String()))
		return
	}
	name := rest[1:]
	kwargs := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			kwargs[k] = v[0]
		}
	}
	a.logger.Debug("admin command", "command", name, "remote", r.RemoteAddr)
	body := RunCommand(a.src, name, kwargs)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}
