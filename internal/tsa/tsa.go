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
	"time"

	"github.com/digitorus/timestamp"
)

// DefaultPolicy is the TSA policy OID of the built-in TSA (an arbitrary private-arc OID: the tokens
// are for this service's own documents).
var DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 65535, 1, 1}

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
	return ts.RawToken, nil
}
