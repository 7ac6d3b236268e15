package evidence

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testIssuer is a minimal OpenID provider for this package's unit tests: discovery, a key set and
// tokens signed with its key. (The signing flow's end-to-end test uses a real provider.)
type testIssuer struct {
	srv *httptest.Server
	key *rsa.PrivateKey
}

func newTestIssuer(t *testing.T) *testIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ti := &testIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": ti.srv.URL, "jwks_uri": ti.srv.URL + "/jwks", "authorization_endpoint": ti.srv.URL + "/auth",
			"token_endpoint": ti.srv.URL + "/token", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) token(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
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

func TestJWTVerifier(t *testing.T) {
	ti := newTestIssuer(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	v := NewJWTVerifier(5*time.Second, true)
	cases := []struct {
		name   string
		key    *rsa.PrivateKey
		claims map[string]any
		acr    []string
		want   string // "" = valid
	}{
		{"valid", ti.key, nil, nil, ""},
		{"valid with acr", ti.key, map[string]any{"acr": "urn:grn:authn:dk:mitid:substantial"}, []string{"urn:grn:authn:dk:mitid:substantial"}, ""},
		{"wrong acr", ti.key, map[string]any{"acr": "low"}, []string{"urn:grn:authn:dk:mitid:substantial"}, "level of assurance"},
		{"other key", other, nil, nil, "is not a valid ID token"},
		{"expired", ti.key, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}, nil, "is not a valid ID token"},
		{"other audience", ti.key, map[string]any{"aud": "client-2"}, nil, "is not a valid ID token"},
		{"other issuer", ti.key, map[string]any{"iss": "https://evil.example"}, nil, "is not a valid ID token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := ti.token(t, c.key, c.claims)
			e, err := v.Verify(context.Background(), ti.srv.URL, "client-1", c.acr, raw)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error = %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var value struct{ JWT, JWKS string }
			if err := json.Unmarshal([]byte(e.Value), &value); err != nil || value.JWT != raw || !strings.Contains(value.JWKS, `"kid":"k1"`) {
				t.Fatalf("evidence value %s: %v", e.Value, err)
			}
			if e.Type != TypeJWT || e.Name != "Ada Lovelace" || e.Claims["sub"] != "user-1" {
				t.Errorf("evidence %+v", e)
			}
		})
	}
	if _, err := v.Verify(context.Background(), "tampered", "client-1", nil, ti.token(t, ti.key, nil)+"x"); err == nil {
		t.Error("a tampered token verified")
	}
}

func TestJWTVerifierRefusesInsecureAndUnreachableIssuers(t *testing.T) {
	strict := NewJWTVerifier(time.Second, false)
	if _, err := strict.Verify(context.Background(), "http://127.0.0.1:1", "c", nil, "x.y.z"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http issuer accepted in production mode: %v", err)
	}
	loose := NewJWTVerifier(time.Second, true)
	start := time.Now()
	_, err := loose.Verify(context.Background(), "http://127.0.0.1:1", "c", nil, "x.y.z")
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || time.Since(start) > 5*time.Second {
		t.Errorf("unreachable provider: %v after %v", err, time.Since(start))
	}
}

func TestUniqueKey(t *testing.T) {
	a := Evidence{Claims: map[string]any{"iss": "https://a", "sub": "1"}}
	b := Evidence{Claims: map[string]any{"iss": "https://b", "sub": "1"}}
	if UniqueKey(a, "sub") == "" || UniqueKey(a, "sub") == UniqueKey(b, "sub") || UniqueKey(a, "sub") != UniqueKey(a, "sub") {
		t.Error("unique keys must be stable per issuer and differ across issuers")
	}
	if UniqueKey(a, "missing") != "" {
		t.Error("a missing claim gave a key")
	}
}
