// Package netguard is the one way the server makes HTTP requests on behalf of a caller (webhooks,
// OpenID discovery, key sets and token endpoints, certificate revocation URLs): every address is
// checked after DNS resolution, on the socket actually dialled, against the special-purpose
// registries (Check); redirects are never followed; connecting is short; answers are read up to a
// bound. Only explicit configuration bypasses the address check: AllowPrivate (tests, on-premises
// receivers) or a host the operator configured itself (TrustedHosts).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults for what a Config or Options leaves zero.
const (
	DefaultConnectTimeout   = 3 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// Config is the server-wide outbound policy.
type Config struct {
	// AllowPrivate lets every client reach every address (tests, private deployments).
	AllowPrivate bool
	// TrustedHosts are host:port pairs the operator configured (not a caller), dialled without the
	// address check: a Criipto Verify domain on an internal network, for example.
	TrustedHosts []string
	// ConnectTimeout bounds TCP connect and the TLS handshake; DefaultConnectTimeout when zero.
	ConnectTimeout time.Duration
}

// Factory makes the guarded HTTP clients. The zero value is not usable; call New.
type Factory struct {
	cfg     Config
	trusted map[string]bool
}

// New returns a factory for cfg.
func New(cfg Config) *Factory {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	f := &Factory{cfg: cfg, trusted: map[string]bool{}}
	for _, h := range cfg.TrustedHosts {
		f.trusted[strings.ToLower(h)] = true
	}
	return f
}

// Options shape one client.
type Options struct {
	// Timeout bounds a whole request, reading the answer included. Required.
	Timeout time.Duration
	// MaxResponseBytes bounds how much of an answer can be read: reading further fails with
	// ErrResponseTooLarge. DefaultMaxResponseBytes when zero.
	MaxResponseBytes int64
	// AllowPrivate lets this client alone reach every address (webhooks to private receivers).
	AllowPrivate bool
}

// ErrResponseTooLarge is returned by a Read past Options.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("the answer is larger than allowed")

// Client returns an HTTP client with the factory's policy. It follows no redirect: a 3xx is
// returned as the answer, so that a public address can never hand the request on to another
// target (checked or not, it is not the one the caller was allowed to name).
func (f *Factory) Client(o Options) *http.Client {
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, around the address check
		DialContext:           f.dialContext(f.cfg.AllowPrivate || o.AllowPrivate),
		TLSHandshakeTimeout:   f.cfg.ConnectTimeout,
		ResponseHeaderTimeout: o.Timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	return &http.Client{
		Transport:     &limited{base: transport, max: o.MaxResponseBytes},
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// dialContext dials trusted hosts (and everything when open) directly, and all else through a
// dialer whose Control refuses special-purpose addresses. Control runs for every address DNS gave,
// just before connect: a name resolving (or rebinding) to an internal address is refused too.
func (f *Factory) dialContext(open bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	direct := &net.Dialer{Timeout: f.cfg.ConnectTimeout}
	guarded := &net.Dialer{Timeout: f.cfg.ConnectTimeout, Control: control}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if open || f.trusted[strings.ToLower(addr)] {
			return direct.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

func control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("outbound %s to %s: only TCP is allowed", network, address)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound address %s: %w", address, err)
	}
	return Check(ap.Addr())
}

// HostPort is the host:port a request to rawURL dials (the scheme's port when it names none), as
// TrustedHosts wants it. A URL without a scheme is taken as https.
func HostPort(rawURL string) (string, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "https://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("%q is not a URL with a host", rawURL)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if port == "" {
		return "", fmt.Errorf("%q: unknown scheme %q", rawURL, u.Scheme)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// limited bounds every answer's body.
type limited struct {
	base http.RoundTripper
	max  int64
}

func (l *limited) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: l.max}
	return resp, nil
}

// limitedBody fails (rather than silently truncating) past its bound, so that a cut-off JSON
// document or certificate list is an error and not a shorter valid one.
type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, ErrResponseTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more than allowed tells "exactly at the bound" from "past it"
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), -1
		return n, ErrResponseTooLarge
	}
	b.left -= int64(n)
	return n, err
}
