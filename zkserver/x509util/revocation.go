package x509util

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/zkafka/zkafka/compat/zoocfg"
)

// What Java's PKIX revocation checker (sun.security.provider.certpath.RevocationChecker, with
// DistributionPointFetcher and URICertStore) does when X509Util turns revocation on for ssl.crl or ssl.ocsp.
const (
	// crlClockSkew widens a CRL's validity, thisUpdate to nextUpdate, on both sides (MAX_CLOCK_SKEW).
	crlClockSkew = 15 * time.Minute
	// crlRecheck is how long a CRL fetched from a URL, or the failure to fetch it, stands before the URL is read
	// again (URICertStore's CHECK_INTERVAL).
	crlRecheck = 30 * time.Second
	// fetchTimeout bounds a CRL download (com.sun.security.crl.timeout and readtimeout, 15 s each).
	fetchTimeout = 15 * time.Second
	// maxCRLSize bounds what one distribution point may send.
	maxCRLSize = 64 << 20
)

var (
	oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidReasonCode               = asn1.ObjectIdentifier{2, 5, 29, 21}
	oidCertificateIssuer        = asn1.ObjectIdentifier{2, 5, 29, 29}
)

// ErrRevoked is wrapped by the error of a certificate that a CRL or an OCSP responder reports revoked.
var ErrRevoked = errors.New("certificate revoked")

// ErrUndetermined is wrapped by the error of a certificate whose status no CRL or responder gave: Java's
// revocation checker, without SOFT_FAIL (X509Util never sets it), refuses such a certificate.
var ErrUndetermined = errors.New("could not determine revocation status")

// Revocation checks the certificates of verified chains for revocation, as Java's PKIX validator with revocation
// enabled: every certificate but the trust anchor, from the one the anchor issued down to the peer's own, against
// the CRLs named by its CRL distribution points (http, https and file URLs) or, with OCSP, first against the OCSP
// responder its authority information access names, falling back to the CRLs. A nil *Revocation checks nothing.
type Revocation struct {
	ocsp   bool
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	crls map[string]*crlFetch // by distribution point URL
}

// crlFetch is one distribution point's last fetch: its CRL, or the error that stood in its place.
type crlFetch struct {
	mu           sync.Mutex
	checked      time.Time
	lastModified string
	crl          *x509.RevocationList
	err          error
}

// NewRevocation is the checker X509Util sets up for the settings: nil unless ssl.crl or ssl.ocsp is on and a trust
// store is named (X509Util builds its revocation-checking trust manager only around a trust store). OCSP is
// consulted when t.OCSPEnabled says so (Java's ocsp.enable is JVM-wide; see zoocfg.TLSSettings).
func NewRevocation(t zoocfg.TLSSettings, log *slog.Logger) *Revocation {
	if !t.CRL && !t.OCSP || t.TruststoreLocation == "" {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Revocation{
		ocsp:   t.OCSPEnabled,
		client: &http.Client{Timeout: fetchTimeout},
		log:    log,
		now:    time.Now,
		crls:   map[string]*crlFetch{},
	}
}

// CheckChains passes when one of the verified chains (each ending with its trust anchor) has no revoked
// certificate and no certificate of undetermined status; it returns the first chain's error otherwise.
func (r *Revocation) CheckChains(ctx context.Context, chains [][]*x509.Certificate) error {
	if r == nil || len(chains) == 0 {
		return nil
	}
	var first error
	for _, chain := range chains {
		err := r.CheckChain(ctx, chain)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// CheckChain checks every certificate of chain but its last, the trust anchor, from the top down, as Java's
// validator walks a path.
func (r *Revocation) CheckChain(ctx context.Context, chain []*x509.Certificate) error {
	if r == nil {
		return nil
	}
	for i := len(chain) - 2; i >= 0; i-- {
		issuer := chain[i+1]
		// The anchor's key may sign CRLs whatever its key usage; another CA's only with cRLSign
		// (RevocationChecker.certCanSignCrl).
		canSign := i+1 == len(chain)-1 || issuer.KeyUsage&x509.KeyUsageCRLSign != 0
		if err := r.check(ctx, chain[i], issuer, canSign); err != nil {
			return fmt.Errorf("certificate %s (serial %s): %w", chain[i].Subject, chain[i].SerialNumber, err)
		}
	}
	return nil
}

// check is one certificate's status: OCSP first when on, then the CRLs unless OCSP found it revoked; with both
// failing, OCSP's error is the one reported (RevocationChecker.check in PREFER_OCSP and ONLY_CRLS modes).
func (r *Revocation) check(ctx context.Context, cert, issuer *x509.Certificate, canSign bool) error {
	if !r.ocsp {
		return r.checkCRLs(ctx, cert, issuer, canSign)
	}
	err := r.checkOCSP(ctx, cert, issuer)
	if err == nil || errors.Is(err, ErrRevoked) {
		return err
	}
	r.log.Debug("OCSP check failed, trying CRLs", "subject", cert.Subject.String(), "err", err)
	crlErr := r.checkCRLs(ctx, cert, issuer, canSign)
	if crlErr == nil || errors.Is(crlErr, ErrRevoked) {
		return crlErr
	}
	return fmt.Errorf("%w (CRLs: %v)", err, crlErr)
}

// checkCRLs looks the certificate up in the CRLs of its distribution points that its issuer signed and that are
// current; without one such CRL its status is undetermined.
func (r *Revocation) checkCRLs(ctx context.Context, cert, issuer *x509.Certificate, canSign bool) error {
	if len(cert.CRLDistributionPoints) == 0 {
		return fmt.Errorf("%w: no CRL distribution point URL in the certificate", ErrUndetermined)
	}
	var errs []error
	for _, u := range cert.CRLDistributionPoints {
		crl, err := r.fetchCRL(ctx, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := r.approveCRL(crl, cert, issuer, canSign); err != nil {
			errs = append(errs, fmt.Errorf("CRL from %s: %w", u, err))
			continue
		}
		return lookUp(crl, cert)
	}
	return fmt.Errorf("%w: %w", ErrUndetermined, errors.Join(errs...))
}

// approveCRL is DistributionPointFetcher.verifyCRL for a CRL of the certificate's own issuer: the issuer's name,
// a key that may sign CRLs and the signature, a current validity, the issuing distribution point's scope, and no
// critical extension left unknown.
func (r *Revocation) approveCRL(crl *x509.RevocationList, cert, issuer *x509.Certificate, canSign bool) error {
	if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) && crl.Issuer.String() != cert.Issuer.String() {
		return fmt.Errorf("issued by %s, not by the certificate's issuer %s", crl.Issuer, cert.Issuer)
	}
	if !canSign {
		return fmt.Errorf("the issuer's certificate %s may not sign CRLs (no cRLSign key usage)", issuer.Subject)
	}
	if err := issuer.CheckSignature(crl.SignatureAlgorithm, crl.RawTBSRevocationList, crl.Signature); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	now := r.now()
	if crl.NextUpdate.IsZero() {
		return errors.New("no nextUpdate")
	}
	if now.Add(-crlClockSkew).After(crl.NextUpdate) || now.Add(crlClockSkew).Before(crl.ThisUpdate) {
		return fmt.Errorf("not current (thisUpdate %s, nextUpdate %s)", crl.ThisUpdate.UTC(), crl.NextUpdate.UTC())
	}
	for _, ext := range crl.Extensions {
		switch {
		case ext.Id.Equal(oidIssuingDistributionPoint):
			if err := checkIDP(ext.Value, cert); err != nil {
				return fmt.Errorf("issuing distribution point: %w", err)
			}
		case ext.Critical:
			return fmt.Errorf("unknown critical extension %s", ext.Id)
		}
	}
	return nil
}

// checkIDP refuses a CRL whose issuing distribution point leaves the certificate out: its distribution point
// names none of the certificate's URLs, it covers only end entities or only CAs and the certificate is the other,
// or only attribute certificates. A CRL for some reasons only, or an indirect CRL, is not one zkserver can use.
func checkIDP(der []byte, cert *x509.Certificate) error {
	in := cryptobyte.String(der)
	var idp cryptobyte.String
	if !in.ReadASN1(&idp, cbasn1.SEQUENCE) {
		return errors.New("malformed")
	}
	for !idp.Empty() {
		var field cryptobyte.String
		var tag cbasn1.Tag
		if !idp.ReadAnyASN1(&field, &tag) {
			return errors.New("malformed")
		}
		switch tag {
		case cbasn1.Tag(0).ContextSpecific().Constructed(): // distributionPoint
			if err := matchDPName(field, cert); err != nil {
				return err
			}
		case cbasn1.Tag(1).ContextSpecific(): // onlyContainsUserCerts
			if isTrue(field) && cert.IsCA {
				return errors.New("covers end entity certificates only")
			}
		case cbasn1.Tag(2).ContextSpecific(): // onlyContainsCACerts
			if isTrue(field) && !cert.IsCA {
				return errors.New("covers CA certificates only")
			}
		case cbasn1.Tag(3).ContextSpecific(): // onlySomeReasons
			return errors.New("covers some revocation reasons only")
		case cbasn1.Tag(4).ContextSpecific(): // indirectCRL
			if isTrue(field) {
				return errors.New("indirect CRLs are not supported")
			}
		case cbasn1.Tag(5).ContextSpecific(): // onlyContainsAttributeCerts
			if isTrue(field) {
				return errors.New("covers attribute certificates only")
			}
		}
	}
	return nil
}

func isTrue(b cryptobyte.String) bool { return len(b) == 1 && b[0] != 0 }

// matchDPName checks that a full name of the issuing distribution point, when it has URIs, names one of the
// certificate's distribution point URLs (a relative name cannot match the URLs Go reads from a certificate).
func matchDPName(dp cryptobyte.String, cert *x509.Certificate) error {
	var full cryptobyte.String
	if !dp.ReadOptionalASN1(&full, nil, cbasn1.Tag(0).ContextSpecific().Constructed()) {
		return errors.New("malformed distribution point")
	}
	var uris []string
	for !full.Empty() {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !full.ReadAnyASN1(&name, &tag) {
			return errors.New("malformed distribution point name")
		}
		if tag == cbasn1.Tag(6).ContextSpecific() {
			uris = append(uris, string(name))
		}
	}
	if len(uris) == 0 {
		return nil
	}
	for _, u := range uris {
		for _, c := range cert.CRLDistributionPoints {
			if u == c {
				return nil
			}
		}
	}
	return fmt.Errorf("distribution point %v names none of the certificate's %v", uris, cert.CRLDistributionPoints)
}

// lookUp is RevocationChecker.checkApprovedCRLs: the certificate's serial in the CRL, revoked before now, is
// revoked; an entry with a critical extension Java does not know refuses the certificate too.
func lookUp(crl *x509.RevocationList, cert *x509.Certificate) error {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		for _, ext := range e.Extensions {
			if ext.Critical && !ext.Id.Equal(oidReasonCode) && !ext.Id.Equal(oidCertificateIssuer) {
				return fmt.Errorf("unknown critical extension %s in its CRL entry", ext.Id)
			}
		}
		return fmt.Errorf("%w on %s, reason %s (CRL of %s)", ErrRevoked, e.RevocationTime.UTC(),
			reasonName(e.ReasonCode), crl.Issuer)
	}
	return nil
}

// reasonName is the CRLReason's name as java.security.cert.CRLReason spells it.
func reasonName(code int) string {
	names := []string{"UNSPECIFIED", "KEY_COMPROMISE", "CA_COMPROMISE", "AFFILIATION_CHANGED", "SUPERSEDED",
		"CESSATION_OF_OPERATION", "CERTIFICATE_HOLD", "UNUSED", "REMOVE_FROM_CRL", "PRIVILEGE_WITHDRAWN",
		"AA_COMPROMISE"}
	if code >= 0 && code < len(names) {
		return names[code]
	}
	return fmt.Sprintf("code %d", code)
}

// fetchCRL is the CRL at a distribution point URL, read again only once crlRecheck has passed since the last
// read (a failure stands as long), and with If-Modified-Since over HTTP, as URICertStore.
func (r *Revocation) fetchCRL(ctx context.Context, u string) (*x509.RevocationList, error) {
	r.mu.Lock()
	f := r.crls[u]
	if f == nil {
		f = &crlFetch{}
		r.crls[u] = f
	}
	r.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	now := r.now()
	if !f.checked.IsZero() && now.Sub(f.checked) < crlRecheck {
		return f.crl, f.err
	}
	f.checked = now
	raw, lastModified, err := r.read(ctx, u, f.lastModified)
	if err == nil && raw == nil { // not modified
		return f.crl, nil
	}
	var crl *x509.RevocationList
	if err == nil {
		crl, err = parseCRL(raw)
	}
	if err != nil {
		// As URICertStore, a failure forgets the CRL before it.
		f.crl, f.lastModified, f.err = nil, "", fmt.Errorf("fetch CRL %s: %w", u, err)
		return nil, f.err
	}
	f.crl, f.lastModified, f.err = crl, lastModified, nil
	return crl, nil
}

// read gets a URL's content: nil without error when the server says it has not changed since lastModified.
func (r *Revocation) read(ctx context.Context, u, lastModified string) ([]byte, string, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, "", err
	}
	switch pu.Scheme {
	case "file":
		path := pu.Path
		if path == "" {
			path = pu.Opaque
		}
		b, err := os.ReadFile(path)
		return b, "", err
	case "http", "https":
		return r.get(ctx, u, lastModified)
	default:
		return nil, "", fmt.Errorf("URL scheme %q is not supported (http, https or file)", pu.Scheme)
	}
}

func (r *Revocation) get(ctx context.Context, u, lastModified string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && lastModified != "":
		return nil, lastModified, nil
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := readBounded(resp.Body, maxCRLSize)
	if err != nil {
		return nil, "", err
	}
	return b, resp.Header.Get("Last-Modified"), nil
}

// readBounded reads a response body of at most limit bytes; a longer one fails.
func readBounded(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

// parseCRL reads a CRL in DER or PEM, as Java's CertificateFactory.generateCRL.
func parseCRL(b []byte) (*x509.RevocationList, error) {
	if block, _ := pem.Decode(b); block != nil {
		b = block.Bytes
	}
	crl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("parse CRL: %w", err)
	}
	return crl, nil
}
