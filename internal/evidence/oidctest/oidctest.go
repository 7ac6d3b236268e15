// Package oidctest is a minimal OpenID provider for unit tests: discovery, a key set and ID tokens
// signed with its key. End-to-end tests of the signing flow use a real provider (Dex) instead.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer serves /.well-known/openid-configuration and /jwks on loopback.
type Issuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

// NewIssuer starts an issuer that stops when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ti := &Issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": ti.srv.URL, "jwks_uri": ti.srv.URL + "/jwks", "authorization_endpoint": ti.srv.URL + "/auth",
			"token_endpoint": ti.srv.URL + "/token", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

// URL is the issuer (and the provider domain, with its http scheme).
func (ti *Issuer) URL() string { return ti.srv.URL }

// Token returns an ID token for audience "client-1", subject "user-1", name "Ada Lovelace", valid for
// an hour, changed by claims (a nil value removes a claim). key nil means the issuer's own key.
func (ti *Issuer) Token(t testing.TB, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	if key == nil {
		key = ti.key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"iss": ti.srv.URL, "aud": "client-1", "sub": "user-1", "name": "Ada Lovelace",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range claims {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	raw, err := jwt.Signed(signer).Claims(base).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
