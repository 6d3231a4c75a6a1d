package x509util

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/ocsp"
)

// ocspClockSkew widens an OCSP response's validity on both sides (com.sun.security.ocsp.clockSkew's default).
const ocspClockSkew = crlClockSkew

// maxGetURL is the longest URL an OCSP request is sent in with GET; longer ones are POSTed (OCSP.check, RFC 6960
// appendix A.1's 255 bytes).
const maxGetURL = 255

// maxOCSPResponse bounds what a responder may send.
const maxOCSPResponse = 1 << 20

// checkOCSP asks the responder the certificate's authority information access names, as RevocationChecker.checkOCSP:
// a response signed by the issuer, or by a responder certificate the issuer gave the OCSP signing purpose, current
// within the clock skew, saying good. Revoked is revoked; unknown, no responder, or no usable answer is undetermined.
func (r *Revocation) checkOCSP(ctx context.Context, cert, issuer *x509.Certificate) error {
	if len(cert.OCSPServer) == 0 {
		return fmt.Errorf("%w: the certificate does not specify an OCSP responder", ErrUndetermined)
	}
	responder := cert.OCSPServer[0] // OCSP.getResponderURI: the first OCSP access description
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return fmt.Errorf("%w: OCSP request: %w", ErrUndetermined, err)
	}
	raw, err := r.askResponder(ctx, responder, req)
	if err != nil {
		return fmt.Errorf("%w: OCSP responder %s: %w", ErrUndetermined, responder, err)
	}
	resp, err := ocsp.ParseResponseForCert(raw, cert, issuer)
	if err != nil {
		return fmt.Errorf("%w: OCSP response from %s: %w", ErrUndetermined, responder, err)
	}
	if err := r.currentOCSP(resp); err != nil {
		return fmt.Errorf("%w: OCSP response from %s: %w", ErrUndetermined, responder, err)
	}
	switch resp.Status {
	case ocsp.Good:
		return nil
	case ocsp.Revoked:
		if resp.RevokedAt.Before(r.now()) {
			return fmt.Errorf("%w on %s, reason %s (OCSP responder %s)", ErrRevoked, resp.RevokedAt.UTC(),
				reasonName(resp.RevocationReason), responder)
		}
		return nil
	default:
		return fmt.Errorf("%w: the certificate's revocation status is unknown to OCSP responder %s",
			ErrUndetermined, responder)
	}
}

// currentOCSP checks the response's validity interval, thisUpdate to nextUpdate (or thisUpdate without one),
// widened by the clock skew, and a delegated responder certificate's validity now.
func (r *Revocation) currentOCSP(resp *ocsp.Response) error {
	now := r.now()
	until := resp.NextUpdate
	if until.IsZero() || until.Before(resp.ThisUpdate) {
		until = resp.ThisUpdate
	}
	if now.Add(ocspClockSkew).Before(resp.ThisUpdate) || now.Add(-ocspClockSkew).After(until) {
		return errors.New("response is unreliable: its validity interval is out-of-date")
	}
	if c := resp.Certificate; c != nil && (now.Before(c.NotBefore) || now.After(c.NotAfter)) {
		return errors.New("responder's certificate not within the validity period")
	}
	return nil
}

// askResponder sends the request with GET when the URL stays short, else with POST, as OCSP.check.
func (r *Revocation) askResponder(ctx context.Context, responder string, der []byte) ([]byte, error) {
	getURL := responder
	if !strings.HasSuffix(getURL, "/") {
		getURL += "/"
	}
	getURL += url.QueryEscape(base64.StdEncoding.EncodeToString(der))
	var req *http.Request
	var err error
	if len(getURL) <= maxGetURL {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, getURL, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, responder, bytes.NewReader(der))
		if req != nil {
			req.Header.Set("Content-Type", "application/ocsp-request")
		}
	}
	if err != nil {
		return nil, err
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return nil, fmt.Errorf("URL scheme %q is not supported (http or https)", s)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	b, err := readBounded(resp.Body, maxOCSPResponse)
	if err != nil {
		return nil, fmt.Errorf("response: %w", err)
	}
	return b, nil
}
