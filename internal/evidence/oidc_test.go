package evidence_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
)

func TestJWTVerifier(t *testing.T) {
	ti := oidctest.NewIssuer(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	v := evidence.NewJWTVerifier(5*time.Second, true)
	cases := []struct {
		name   string
		key    *rsa.PrivateKey
		claims map[string]any
		acr    []string
		want   string // "" = valid
	}{
		{"valid", nil, nil, nil, ""},
		{"valid with acr", nil, map[string]any{"acr": "urn:grn:authn:dk:mitid:substantial"}, []string{"urn:grn:authn:dk:mitid:substantial"}, ""},
		{"wrong acr", nil, map[string]any{"acr": "low"}, []string{"urn:grn:authn:dk:mitid:substantial"}, "level of assurance"},
		{"other key", other, nil, nil, "is not a valid ID token"},
		{"expired", nil, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}, nil, "is not a valid ID token"},
		{"other audience", nil, map[string]any{"aud": "client-2"}, nil, "is not a valid ID token"},
		{"other issuer", nil, map[string]any{"iss": "https://evil.example"}, nil, "is not a valid ID token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := ti.Token(t, c.key, c.claims)
			e, err := v.Verify(context.Background(), ti.URL(), "client-1", c.acr, raw)
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
			if e.Type != evidence.TypeJWT || e.Name != "Ada Lovelace" || e.Claims["sub"] != "user-1" {
				t.Errorf("evidence %+v", e)
			}
		})
	}
	if _, err := v.Verify(context.Background(), ti.URL(), "client-1", nil, ti.Token(t, nil, nil)+"x"); err == nil || !strings.Contains(err.Error(), "is not a valid ID token") {
		t.Error("a tampered token verified")
	}
}

func TestJWTVerifierRefusesInsecureAndUnreachableIssuers(t *testing.T) {
	strict := evidence.NewJWTVerifier(time.Second, false)
	if _, err := strict.Verify(context.Background(), "http://127.0.0.1:1", "c", nil, "x.y.z"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http issuer accepted in production mode: %v", err)
	}
	loose := evidence.NewJWTVerifier(time.Second, true)
	start := time.Now()
	_, err := loose.Verify(context.Background(), "http://127.0.0.1:1", "c", nil, "x.y.z")
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || time.Since(start) > 5*time.Second {
		t.Errorf("unreachable provider: %v after %v", err, time.Since(start))
	}
}

func TestUniqueKey(t *testing.T) {
	a := evidence.Evidence{Claims: map[string]any{"iss": "https://a", "sub": "1"}}
	b := evidence.Evidence{Claims: map[string]any{"iss": "https://b", "sub": "1"}}
	again := evidence.Evidence{Claims: map[string]any{"iss": "https://a", "sub": "1", "name": "other claims do not matter"}}
	if evidence.UniqueKey(a, "sub") == "" || evidence.UniqueKey(a, "sub") == evidence.UniqueKey(b, "sub") || evidence.UniqueKey(a, "sub") != evidence.UniqueKey(again, "sub") {
		t.Error("unique keys must be stable per issuer and differ across issuers")
	}
	if evidence.UniqueKey(a, "missing") != "" {
		t.Error("a missing claim gave a key")
	}
}
