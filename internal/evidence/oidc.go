package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"esign/internal/order"
)

// JWTVerifier checks ID tokens from OpenID Connect providers against the provider's own discovery
// document and keys (go-oidc), and turns them into criipto.signature.jwt.v1 evidence. Discovery and
// keys are cached per issuer.
type JWTVerifier struct {
	// HTTP fetches discovery documents and key sets; it should have a timeout.
	HTTP *http.Client
	// AllowHTTP accepts http:// issuers (tests, providers on loopback); production issuers are https.
	AllowHTTP bool
	// Now is the clock tokens are checked against.
	Now func() time.Time

	mu        sync.Mutex
	providers map[string]*issuerKeys
}

type issuerKeys struct {
	provider *oidc.Provider
	jwks     string
	fetched  time.Time
}

// NewJWTVerifier returns a verifier that gives up on a provider after timeout.
func NewJWTVerifier(timeout time.Duration, allowHTTP bool) *JWTVerifier {
	return &JWTVerifier{HTTP: &http.Client{Timeout: timeout}, AllowHTTP: allowHTTP, Now: time.Now,
		providers: map[string]*issuerKeys{}}
}

// IssuerURL is the issuer a provider's domain names: https://domain, unless the domain carries its
// own scheme (http only where allowed).
func (v *JWTVerifier) IssuerURL(domain string) (string, error) {
	switch {
	case strings.HasPrefix(domain, "https://"):
		return strings.TrimRight(domain, "/"), nil
	case strings.HasPrefix(domain, "http://"):
		if !v.AllowHTTP {
			return "", order.Invalid("domain", "must be an https issuer")
		}
		return strings.TrimRight(domain, "/"), nil
	default:
		return "https://" + strings.TrimRight(domain, "/"), nil
	}
}

func (v *JWTVerifier) issuer(ctx context.Context, issuer string) (*issuerKeys, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.providers[issuer]; ok && v.Now().Sub(k.fetched) < time.Hour {
		return k, nil
	}
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
	k := &issuerKeys{provider: provider, jwks: jwks, fetched: v.Now()}
	v.providers[issuer] = k
	return k, nil
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
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", url, err)
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
	return &order.Error{Code: order.CodeUnavailable, Message: "the identity provider " + domain + " cannot be reached right now; please try again"}
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
		return Evidence{}, order.Invalid("jwt", "is not a valid ID token of %s for this signature order", domain)
	}
	claims := map[string]any{}
	if err := token.Claims(&claims); err != nil {
		return Evidence{}, order.Invalid("jwt", "has unreadable claims")
	}
	if len(acrValues) > 0 {
		acr, _ := claims["acr"].(string)
		if !slices.Contains(acrValues, acr) {
			return Evidence{}, order.Invalid("jwt", "was issued for another level of assurance (acr) than this signature order requires")
		}
	}
	value, err := json.Marshal(struct {
		JWT  string `json:"jwt"`
		JWKS string `json:"jwks"`
	}{rawJWT, keys.jwks})
	if err != nil {
		return Evidence{}, fmt.Errorf("encode jwt evidence: %w", err)
	}
	name, _ := claims["name"].(string)
	return Evidence{Type: TypeJWT, Value: string(value), Name: name, Claims: claims}, nil
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
