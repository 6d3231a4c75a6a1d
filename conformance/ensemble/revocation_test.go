package ensemble

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zkafka/zkafka/compat/keystore/keystoretest"
	"github.com/zkafka/zkafka/conformance/harness"
)

// crlPublisher serves a CA's CRL on 127.0.0.1 and counts who fetched it, Java (Apache's servers) or Go (ours), by
// their HTTP clients' user agents.
type crlPublisher struct {
	srv *httptest.Server
	mu  sync.Mutex
	crl []byte
	by  map[string]int
}

func newCRLPublisher(t *testing.T) *crlPublisher {
	p := &crlPublisher{by: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		agent, _, _ := strings.Cut(r.UserAgent(), "/")
		p.by[agent]++
		w.Write(p.crl)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *crlPublisher) fetches(agent string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.by[agent]
}

// quorumTLSCRL is quorumTLS with ssl.quorum.crl=true and certificates naming p's CRL; member revokedID's
// certificate is on it (none for 0).
func (en *ensemble) quorumTLSCRL(t *testing.T, p *crlPublisher, revokedID int64) {
	t.Helper()
	dir := t.TempDir()
	ca := keystoretest.NewCA(t, "quorum-ca")
	trust := ca.WriteTrustPEM(dir, "trust.pem")
	at := keystoretest.Published{CRLs: []string{p.srv.URL + "/quorum-ca.crl"}}
	var revoked []*x509.Certificate
	for id := range en.members {
		name := "zk" + strconv.FormatInt(id, 10)
		member := ca.IssuePublished(at, pkix.Name{CommonName: name}, "127.0.0.1")
		if id == revokedID {
			revoked = append(revoked, member.Cert)
		}
		en.extra[id] = map[string]string{
			"ssl.quorum.keyStore.location":   member.WritePEM(dir, name+".pem"),
			"ssl.quorum.trustStore.location": trust, "ssl.quorum.crl": "true",
		}
		en.setQuorumTLS(id, true, false)
	}
	p.mu.Lock()
	p.crl = ca.CRL(time.Now().Add(-time.Hour), time.Now().Add(time.Hour), revoked...)
	p.mu.Unlock()
}

// TestQuorumTLS with ssl.quorum.crl=true on every member, none revoked: ours follows Apache's leader and leads
// Apache's follower, both sides having fetched the CRL to check the other's certificates.
func TestQuorumTLSCRL(t *testing.T) {
	harness.EnsureZKServer(t)
	p := newCRLPublisher(t)
	en := newEnsemble(t)
	en.quorumTLSCRL(t, p, 0)
	en.oursFollowsThenLeads(t)
	if java, goClient := p.fetches("Java"), p.fetches("Go-http-client"); java == 0 || goClient == 0 {
		t.Errorf("CRL fetches: Java %d, Go %d; want both", java, goClient)
	}
}

// With ssl.quorum.crl=true, Apache's servers refuse ours when its certificate is revoked (Java's alert reaches ours
// as "unknown certificate"), and ours does not join them.
func TestQuorumTLSCRLRevokedPeer(t *testing.T) {
	harness.EnsureZKServer(t)
	p := newCRLPublisher(t)
	en := newEnsemble(t)
	en.quorumTLSCRL(t, p, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	a1, a2 := en.startApache(t, 1), en.startApache(t, 2)
	waitServing(t, ctx, a1, a2)
	ours := en.start(t, harness.ZKServer, 3, "")
	eventually2(t, ctx, "Apache refusing ours", func() error {
		if !ours.LogContains("remote error: tls: unknown certificate") {
			return fmt.Errorf("ours logged no refusal by Apache's servers")
		}
		return nil
	})
	if m := mode(t, ours); m == "follower" || m == "leader" {
		t.Errorf("ours with a revoked certificate is %s", m)
	}
	if m1, m2 := mode(t, a1), mode(t, a2); m1 == m2 || m1 != "leader" && m2 != "leader" {
		t.Errorf("Apache's servers: %s and %s", m1, m2)
	}
}

// And ours refuses an Apache server whose certificate is revoked: Apache's server 1 and ours form the quorum, and
// Apache's server 2, revoked, is refused by both and joins neither.
func TestQuorumTLSCRLRevokedApache(t *testing.T) {
	harness.EnsureZKServer(t)
	p := newCRLPublisher(t)
	en := newEnsemble(t)
	en.quorumTLSCRL(t, p, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	a1, ours := en.startApache(t, 1), en.start(t, harness.ZKServer, 3, "")
	waitServing(t, ctx, a1, ours)
	a2 := en.startApache(t, 2)
	eventually2(t, ctx, "ours refusing Apache's server 2", func() error {
		if !ours.LogContains("certificate revoked") {
			return fmt.Errorf("ours logged no revoked certificate")
		}
		return nil
	})
	if m := mode(t, a2); m == "follower" || m == "leader" {
		t.Errorf("Apache's server 2, revoked, is %s", m)
	}
}
