package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"esign/internal/fault"
	"esign/internal/netguard"
)

// JWTVerifier checks ID tokens from OpenID Connect providers against the provider's own discovery
// document and keys (go-oidc), and turns them into criipto.signature.jwt.v1 evidence. Discovery and
// keys are cached per issuer, for an hour; a failed discovery for FailureTTL, so that a dead or
// stalled issuer is asked once per period and not once per login. Each issuer is fetched by one
// request at a time (the others wait for its answer); no lock is held across a fetch, so an issuer
// that stalls holds up only the logins against it.
type JWTVerifier struct {
	// HTTP fetches discovery documents, key sets and tokens. The server's is a netguard client:
	// provider domains are chosen by API callers.
	HTTP *http.Client
	// AllowHTTP accepts http:// issuers (tests, providers on loopback); production issuers are https.
	AllowHTTP bool
	// Now is the clock tokens and the cache are checked against.
	Now func() time.Time
	// Timeout bounds one issuer's discovery (document and key set together), whoever waits for it.
	Timeout time.Duration

	mu        sync.Mutex
	providers map[string]*issuerEntry
}

// Cache periods of discovery.
const (
	IssuerTTL  = time.Hour
	FailureTTL = 30 * time.Second
	// maxIssuers bounds the cache: provider domains come from API callers. Past it, expired
	// entries go first, then any finished one.
	maxIssuers = 1024
)

type issuerKeys struct {
	provider *oidc.Provider
	jwks     string
}

// issuerEntry is one issuer's discovery, in progress until ready is closed; keys, err and expires
// are written before that and only read after.
type issuerEntry struct {
	ready   chan struct{}
	keys    *issuerKeys
	err     error
	expires time.Time
}

func (e *issuerEntry) finished() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// NewJWTVerifierClient returns a verifier that fetches through client and gives up on a provider's
// discovery after timeout.
func NewJWTVerifierClient(client *http.Client, timeout time.Duration, allowHTTP bool) *JWTVerifier {
	return &JWTVerifier{HTTP: client, AllowHTTP: allowHTTP, Now: time.Now, Timeout: timeout, providers: map[string]*issuerEntry{}}
}

// NewJWTVerifier is the verifier tests use: allowHTTP (providers on loopback) also lets it reach
// loopback and private addresses. The server builds its verifier with NewJWTVerifierClient and its
// one netguard client instead, where allowing http issuers alone opens no address.
func NewJWTVerifier(timeout time.Duration, allowHTTP bool) *JWTVerifier {
	client := netguard.New(netguard.Config{AllowPrivate: allowHTTP}).Client(netguard.Options{Timeout: timeout})
	return NewJWTVerifierClient(client, timeout, allowHTTP)
}

// IssuerURL is the issuer a provider's domain names: https://domain, unless the domain carries its
// own scheme (http only where allowed).
func (v *JWTVerifier) IssuerURL(domain string) (string, error) {
	switch {
	case strings.HasPrefix(domain, "https://"):
		return strings.TrimRight(domain, "/"), nil
	case strings.HasPrefix(domain, "http://"):
		if !v.AllowHTTP {
			return "", fault.Invalid("domain", "must be an https issuer")
		}
		return strings.TrimRight(domain, "/"), nil
	default:
		return "https://" + strings.TrimRight(domain, "/"), nil
	}
}

// issuer returns the issuer's discovery: from the cache, from the fetch another caller started, or
// from a fetch it starts. The fetch runs on its own context (bounded by Timeout): a caller that
// gives up must not fail it for the others waiting.
func (v *JWTVerifier) issuer(ctx context.Context, issuer string) (*issuerKeys, error) {
	v.mu.Lock()
	e, ok := v.providers[issuer]
	if !ok || (e.finished() && !v.Now().Before(e.expires)) {
		e = &issuerEntry{ready: make(chan struct{})}
		v.remember(issuer, e)
		go v.discover(context.WithoutCancel(ctx), issuer, e)
	}
	v.mu.Unlock()
	// A caller that gave up gets its own error, also when the answer happens to be there already
	// (select would pick either at random); the fetch it started goes on for the others.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-e.ready:
		return e.keys, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// remember stores e under issuer, making room when the cache is full. Called with v.mu held.
func (v *JWTVerifier) remember(issuer string, e *issuerEntry) {
	if v.providers == nil {
		v.providers = map[string]*issuerEntry{}
	}
	if len(v.providers) >= maxIssuers {
		now := v.Now()
		for k, old := range v.providers {
			if old.finished() && !now.Before(old.expires) {
				delete(v.providers, k)
			}
		}
		for k, old := range v.providers {
			if len(v.providers) < maxIssuers {
				break
			}
			if old.finished() {
				delete(v.providers, k)
			}
		}
	}
	v.providers[issuer] = e
}

func (v *JWTVerifier) discover(ctx context.Context, issuer string, e *issuerEntry) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e.keys, e.err = v.fetchIssuer(ctx, issuer)
	ttl := IssuerTTL
	if e.err != nil {
		ttl = FailureTTL
	}
	e.expires = v.Now().Add(ttl)
	close(e.ready)
}

func (v *JWTVerifier) fetchIssuer(ctx context.Context, issuer string) (*issuerKeys, error) {
	ctx = oidc.ClientContext(ctx, v.HTTP)
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKSURI == "" {
		return nil, fmt.Errorf("discover %s: no jwks_uri", issuer)
	}
	jwks, err := v.fetch(ctx, meta.JWKSURI)
	if err != nil {
		return nil, err
	}
	return &issuerKeys{provider: provider, jwks: jwks}, nil
}

func (v *JWTVerifier) fetch(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := v.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch %s: HTTP %d", url, resp.StatusCode)
	}
	// A key set is a few kilobytes: one over the limit is refused, not cut off into something that
	// fails to parse for a reason nobody can see.
	const maxKeySet = 1 << 20
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySet+1))
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(b) > maxKeySet {
		return "", fmt.Errorf("fetch %s: the answer is larger than %d bytes", url, maxKeySet)
	}
	return string(b), nil
}

// Endpoint is the provider's authorization and token endpoints, from its discovery document.
func (v *JWTVerifier) Endpoint(ctx context.Context, domain string) (oauth2.Endpoint, error) {
	issuer, err := v.IssuerURL(domain)
	if err != nil {
		return oauth2.Endpoint{}, err
	}
	keys, err := v.issuer(ctx, issuer)
	if err != nil {
		return oauth2.Endpoint{}, unreachable(domain)
	}
	return keys.provider.Endpoint(), nil
}

func unreachable(domain string) error {
	return fault.Retryablef("the identity provider %s cannot be reached right now; please try again", domain)
}

// Verify checks rawJWT as an ID token of the provider for audience (signature by the issuer's keys,
// issuer, audience, expiry), and acr when the provider lists acrValues.
func (v *JWTVerifier) Verify(ctx context.Context, domain, audience string, acrValues []string, rawJWT string) (Evidence, error) {
	issuer, err := v.IssuerURL(domain)
	if err != nil {
		return Evidence{}, err
	}
	keys, err := v.issuer(ctx, issuer)
	if err != nil {
		return Evidence{}, unreachable(domain)
	}
	token, err := keys.provider.VerifierContext(oidc.ClientContext(ctx, v.HTTP),
		&oidc.Config{ClientID: audience, Now: v.Now}).Verify(ctx, rawJWT)
	if err != nil {
		return Evidence{}, fault.Invalid("jwt", "is not a valid ID token of %s for this signature order", domain)
	}
	claims := map[string]any{}
	if err := token.Claims(&claims); err != nil {
		return Evidence{}, fault.Invalid("jwt", "has unreadable claims")
	}
	if len(acrValues) > 0 {
		acr, _ := claims["acr"].(string)
		if !slices.Contains(acrValues, acr) {
			return Evidence{}, fault.Invalid("jwt", "was issued for another level of assurance (acr) than this signature order requires")
		}
	}
	value, err := encodeValue(jwtValue{JWT: rawJWT, JWKS: keys.jwks})
	if err != nil {
		return Evidence{}, err
	}
	name, _ := claims["name"].(string)
	return Evidence{Type: TypeJWT, Value: value, Name: name, Claims: claims}, nil
}

// UniqueKey is what tells one person from another for uniqueEvidenceKey: a hash of the issuer and the
// claim's value (the value itself is personal data and is not stored). Empty when the claim is absent.
func UniqueKey(e Evidence, claim string) string {
	v, ok := e.Claims[claim]
	if !ok {
		return ""
	}
	iss, _ := e.Claims["iss"].(string)
	sum := sha256.Sum256([]byte(iss + "\x00" + fmt.Sprint(v)))
	return hex.EncodeToString(sum[:])
}
