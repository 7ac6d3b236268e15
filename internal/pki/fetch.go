package pki

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/crypto/ocsp"
	"golang.org/x/sync/singleflight"
)

// Bounds of the Fetcher's cache: answers are small (an OCSP answer is 1-2 KB), CRLs of public CAs
// can be megabytes, so both the count and the bytes are bounded.
const (
	DefaultCacheEntries = 1024
	DefaultCacheBytes   = 32 << 20
	// refreshBefore treats an answer this close to its nextUpdate as expired: a DSS should not
	// carry an answer that is stale by the time anyone reads it.
	refreshBefore = time.Minute
)

// ErrRevoked is a definitive answer: the CA says the certificate is revoked.
var ErrRevoked = errors.New("the certificate is revoked")

// ErrNoRevocationData is returned when no responder and no CRL a certificate names gave a usable
// answer; it wraps each attempt's error.
var ErrNoRevocationData = errors.New("no revocation data could be fetched")

// Fetcher fetches revocation data from the URLs a certificate names (AIA OCSP responders, CRL
// distribution points) through its HTTP client (the guarded outbound client), and keeps each
// answer in memory until its nextUpdate: every close of a busy server asks about the same few
// certificates, and a CA's responder should not see one request per document.
type Fetcher struct {
	HTTP *http.Client
	Now  func() time.Time

	mu       sync.Mutex
	cache    *simplelru.LRU[string, cached]
	bytes    int64
	maxBytes int64
	flight   singleflight.Group
}

type cached struct {
	der        []byte
	nextUpdate time.Time
}

// NewFetcher returns a Fetcher whose cache holds at most entries answers and maxBytes bytes of them
// (Default* when zero or less).
func NewFetcher(client *http.Client, entries int, maxBytes int64) *Fetcher {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	f := &Fetcher{HTTP: client, Now: time.Now, maxBytes: maxBytes}
	f.cache, _ = simplelru.NewLRU(entries, func(_ string, v cached) { f.bytes -= int64(len(v.der)) }) // size > 0: no error
	return f
}

// CacheLen is how many answers the cache holds (for tests and metrics).
func (f *Fetcher) CacheLen() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cache.Len()
}

func (f *Fetcher) get(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.cache.Get(key)
	if !ok {
		return nil, false
	}
	if !f.Now().Add(refreshBefore).Before(v.nextUpdate) {
		f.cache.Remove(key)
		return nil, false
	}
	return v.der, true
}

func (f *Fetcher) put(key string, der []byte, nextUpdate time.Time) {
	if nextUpdate.IsZero() || int64(len(der)) > f.maxBytes/4 {
		return // no nextUpdate: the CA promises nothing about how long it holds; too large: one CRL would push out all else
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cache.Remove(key)
	f.cache.Add(key, cached{der: der, nextUpdate: nextUpdate})
	f.bytes += int64(len(der))
	for f.bytes > f.maxBytes {
		if _, _, ok := f.cache.RemoveOldest(); !ok {
			break
		}
	}
}

// Status returns a good OCSP answer for c from a responder it names, or, when none answers, a
// CRL from its distribution points that does not list it (signed by issuer, not expired). A
// revoked certificate is ErrRevoked; no usable answer at all is ErrNoRevocationData.
func (f *Fetcher) Status(ctx context.Context, c, issuer *x509.Certificate) (ocspDER, crlDER []byte, err error) {
	if len(c.OCSPServer) == 0 && len(c.CRLDistributionPoints) == 0 {
		return nil, nil, ErrNoRevocationSource
	}
	var tried []error
	for _, u := range c.OCSPServer {
		der, err := f.ocsp(ctx, u, c, issuer)
		if err == nil {
			return der, nil, nil
		}
		if errors.Is(err, ErrRevoked) {
			return nil, nil, err
		}
		tried = append(tried, err)
	}
	for _, u := range c.CRLDistributionPoints {
		der, err := f.crl(ctx, u, c, issuer)
		if err == nil {
			return nil, der, nil
		}
		if errors.Is(err, ErrRevoked) {
			return nil, nil, err
		}
		tried = append(tried, err)
	}
	return nil, nil, fmt.Errorf("%w: %w", ErrNoRevocationData, errors.Join(tried...))
}

func (f *Fetcher) ocsp(ctx context.Context, responder string, c, issuer *x509.Certificate) ([]byte, error) {
	// The cache key names the issuer as OCSP requests do, by the SHA-1 of its key: an identifier,
	// not a security function.
	ikh, err := issuerKeyHash(issuer, crypto.SHA1)
	if err != nil {
		return nil, err
	}
	key := "ocsp " + responder + " " + hex.EncodeToString(ikh) + " " + c.SerialNumber.Text(16)
	der, err := f.once(key, func() ([]byte, time.Time, error) {
		req, err := ocsp.CreateRequest(c, issuer, &ocsp.RequestOptions{})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("ocsp request: %w", err)
		}
		der, err := download(ctx, f.HTTP, http.MethodPost, responder, "application/ocsp-request", req)
		if err != nil {
			return nil, time.Time{}, err
		}
		resp, err := ocsp.ParseResponseForCert(der, c, issuer)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("ocsp response from %s: %w", responder, err)
		}
		switch {
		case resp.Status == ocsp.Revoked:
			return nil, time.Time{}, fmt.Errorf("ocsp responder %s: %w (since %s)", responder, ErrRevoked, resp.RevokedAt.UTC().Format(time.RFC3339))
		case resp.Status != ocsp.Good:
			return nil, time.Time{}, fmt.Errorf("ocsp responder %s does not know the certificate", responder)
		case !resp.NextUpdate.IsZero() && !f.Now().Before(resp.NextUpdate):
			return nil, time.Time{}, fmt.Errorf("ocsp responder %s: its answer expired at %s", responder, resp.NextUpdate.UTC().Format(time.RFC3339))
		}
		return der, resp.NextUpdate, nil
	})
	return der, err
}

func (f *Fetcher) crl(ctx context.Context, point string, c, issuer *x509.Certificate) ([]byte, error) {
	if u, err := url.Parse(point); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("CRL distribution point %q: only http and https are fetched", point)
	}
	// The CRL is the issuer's, shared by every certificate it issued: cached by URL and issuer, and
	// checked for this certificate's serial on every use.
	ikh, err := issuerKeyHash(issuer, crypto.SHA1)
	if err != nil {
		return nil, err
	}
	der, err := f.once("crl "+point+" "+hex.EncodeToString(ikh), func() ([]byte, time.Time, error) {
		der, err := download(ctx, f.HTTP, http.MethodGet, point, "", nil)
		if err != nil {
			return nil, time.Time{}, err
		}
		list, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("CRL from %s: %w", point, err)
		}
		if err := list.CheckSignatureFrom(issuer); err != nil {
			return nil, time.Time{}, fmt.Errorf("CRL from %s is not signed by %q: %w", point, issuer.Subject.String(), err)
		}
		if !list.NextUpdate.IsZero() && !f.Now().Before(list.NextUpdate) {
			return nil, time.Time{}, fmt.Errorf("CRL from %s expired at %s", point, list.NextUpdate.UTC().Format(time.RFC3339))
		}
		return der, list.NextUpdate, nil
	})
	if err != nil {
		return nil, err
	}
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("CRL from %s: %w", point, err)
	}
	for _, e := range list.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(c.SerialNumber) == 0 {
			return nil, fmt.Errorf("CRL from %s: %w (since %s)", point, ErrRevoked, e.RevocationTime.UTC().Format(time.RFC3339))
		}
	}
	return der, nil
}

// once answers from the cache, or runs load once for all callers asking for key at the same time
// and caches its answer until its nextUpdate.
func (f *Fetcher) once(key string, load func() ([]byte, time.Time, error)) ([]byte, error) {
	if der, ok := f.get(key); ok {
		return der, nil
	}
	v, err, _ := f.flight.Do(key, func() (any, error) {
		der, next, err := load()
		if err != nil {
			return nil, err
		}
		f.put(key, der, next)
		return der, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// download makes one request and reads its answer (the client bounds its size and time).
func download(ctx context.Context, client *http.Client, method, target, contentType string, body []byte) ([]byte, error) {
	return (&Revocation{HTTP: client}).fetch(ctx, method, target, contentType, body)
}
