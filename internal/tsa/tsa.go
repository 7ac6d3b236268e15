// Package tsa is an RFC 3161 time-stamping authority (the embedded default serves its own) and a
// client for any RFC 3161 URL. Encoding and decoding use github.com/digitorus/timestamp; tokens carry
// the ESS signing-certificate-v2 attribute that PAdES validators check.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
)

// DefaultPolicy is the TSA policy OID of the built-in TSA when the operator names none. It lies
// under 1.3.6.1.4.1.32473, the enterprise number RFC 5612 reserves for documentation: a valid OID
// that is nobody's policy, to be replaced with one under the operator's own arc (its IANA private
// enterprise number) that names its timestamping policy.
var DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

// ParsePolicy reads a policy OID in dotted form ("1.3.6.1.4.1.32473.1.1"): at least two arcs of
// decimal digits without leading zeros, the first 0, 1 or 2, the second below 40 under 0 and 1
// (X.660), each arc small enough for encoding/asn1.
func ParsePolicy(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%q is not a dotted OID of at least two arcs", s)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || (len(p) > 1 && p[0] == '0') {
			return nil, fmt.Errorf("%q: arc %d (%q) must be decimal digits without a leading zero", s, i+1, p)
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q: arc %d is too large", s, i+1)
		}
		oid[i] = int(n)
	}
	if oid[0] > 2 {
		return nil, fmt.Errorf("%q: the first arc must be 0, 1 or 2", s)
	}
	if oid[0] < 2 && oid[1] >= 40 {
		return nil, fmt.Errorf("%q: under %d the second arc must be below 40", s, oid[0])
	}
	return oid, nil
}

const maxRequestBytes = 16 << 10

// Server signs timestamps with its key and certificate.
type Server struct {
	Signer crypto.Signer
	Cert   *x509.Certificate
	Chain  []*x509.Certificate // the issuers of Cert, included in tokens for validators
	Policy asn1.ObjectIdentifier
	Now    func() time.Time
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func supported(h crypto.Hash) bool {
	return h == crypto.SHA256 || h == crypto.SHA384 || h == crypto.SHA512
}

// response makes a granted response for a digest.
func (s *Server) response(h crypto.Hash, digest []byte, nonce *big.Int) ([]byte, error) {
	if !supported(h) || len(digest) != h.Size() {
		return nil, fmt.Errorf("unsupported hash or digest length")
	}
	policy := s.Policy
	if policy == nil {
		policy = DefaultPolicy
	}
	ts := timestamp.Timestamp{HashAlgorithm: h, HashedMessage: digest, Time: s.now().UTC().Truncate(time.Second),
		Accuracy: time.Second, Policy: policy, Nonce: nonce, AddTSACertificate: true, Certificates: s.Chain}
	resp, err := ts.CreateResponseWithOpts(s.Cert, s.Signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("create timestamp response: %w", err)
	}
	return resp, nil
}

// Timestamp returns a TimeStampToken over digest, in process (the built-in TSA needs no HTTP).
func (s *Server) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := s.response(h, digest, nil)
	if err != nil {
		return nil, err
	}
	ts, err := timestamp.ParseResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("parse own timestamp: %w", err)
	}
	return ts.RawToken, nil
}

// ServeHTTP answers application/timestamp-query POSTs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	req, err := timestamp.ParseRequest(body)
	var resp []byte
	switch {
	case err != nil:
		resp, err = timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadDataFormat)
	case !supported(req.HashAlgorithm):
		resp, err = timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	default:
		resp, err = s.response(req.HashAlgorithm, req.HashedMessage, req.Nonce)
	}
	if err != nil {
		http.Error(w, "timestamp failed", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(resp)
}

// Client asks an RFC 3161 TSA over HTTP.
type Client struct {
	URL  string
	HTTP *http.Client // nil: a client with a 5 s timeout
	// Username and Password, when Username is set, authenticate with HTTP basic auth; BearerToken,
	// when set, as "Authorization: Bearer" (commercial TSAs use either). Not both.
	Username, Password string
	BearerToken        string
}

// Timestamp requests a token over digest and checks the answer matches the request.
func (c *Client) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	reqDER, err := (&timestamp.Request{HashAlgorithm: h, HashedMessage: digest, Nonce: nonce, Certificates: true}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("timestamp request: %w", err)
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(reqDER))
	if err != nil {
		return nil, err
	}
	httpReq.Header.Set("Content-Type", "application/timestamp-query")
	switch {
	case c.BearerToken != "":
		httpReq.Header.Set("Authorization", "Bearer "+c.BearerToken)
	case c.Username != "":
		httpReq.SetBasicAuth(c.Username, c.Password)
	}
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := client.Do(httpReq)
	if err != nil {
		return nil, fmt.Errorf("timestamp authority %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("timestamp authority %s: %w", c.URL, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, fmt.Errorf("timestamp authority %s: HTTP %d: the TSA refused the credentials (or their absence)", c.URL, resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("timestamp authority %s: HTTP %d", c.URL, resp.StatusCode)
	}
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("timestamp authority %s: %w", c.URL, err)
	}
	if ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, digest) {
		return nil, errors.New("timestamp authority answered for another digest")
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("timestamp authority answered with another nonce")
	}
	if err := checkTokenCertificates(ts.Certificates); err != nil {
		return nil, fmt.Errorf("timestamp authority %s: %w", c.URL, err)
	}
	return ts.RawToken, nil
}

// checkTokenCertificates holds a TSA to certReq (RFC 3161 §2.4.1): the token must carry the TSA's
// certificate, which the token's signature was verified with (digitorus/timestamp verifies only
// a token that carries certificates), and which the close's DSS must get revocation data for. An
// issuer the token leaves out is only logged at close (pki.Revocation): many TSAs send the
// signing certificate alone, and validators find its issuers by its AIA.
func checkTokenCertificates(certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return errors.New("the token carries no certificate although the request asked for it (certReq): its signature cannot be checked and the DSS could not hold the TSA's certificate")
	}
	for _, c := range certs {
		for _, eku := range c.ExtKeyUsage {
			if eku == x509.ExtKeyUsageTimeStamping {
				return nil
			}
		}
	}
	return errors.New("no certificate in the token is a timestamping certificate (extended key usage timeStamping)")
}
