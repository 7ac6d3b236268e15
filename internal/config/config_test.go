package config

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParse: defaults, the outbound policy (closed by default, opened only by
// OUTBOUND_ALLOW_PRIVATE, the operator's Verify domain trusted by its host and port,
// OIDC_ALLOW_HTTP_ISSUERS opening no address by itself), and each rule's error naming its variable.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string // a part of the error; "" for none
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: nil, check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || c.PublicURL != "http://localhost:8080" || !c.Embedded() ||
				c.InnerKeyFile != filepath.Join("./data", "keys", "inner-kek.json") || c.PKIDir != filepath.Join("./data", "pki") ||
				c.ShutdownTimeout != 30*time.Second || c.Sweeper.BatchSize != 200 || c.PKCS11.KeyLabel != "esign-inner-kek" {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "outbound defaults", env: map[string]string{"OIDC_ALLOW_HTTP_ISSUERS": "true"}, check: func(t *testing.T, c Config) {
			if c.Outbound.AllowPrivate || len(c.Outbound.TrustedHosts) != 0 || c.Webhooks.AllowPrivateTargets || c.Webhooks.PerHost != 4 || c.Webhooks.PerApplication != 8 {
				t.Errorf("defaults: %+v, webhooks %+v", c.Outbound, c.Webhooks)
			}
		}},
		{name: "outbound configured", env: map[string]string{"OUTBOUND_ALLOW_PRIVATE": "true", "OUTBOUND_CONNECT_TIMEOUT": "500ms",
			"VERIFY_DOMAIN": "http://127.0.0.1:5556/dex", "VERIFY_CLIENT_ID": "esign", "WEBHOOK_MAX_PER_HOST": "2", "WEBHOOK_MAX_PER_APPLICATION": "3"},
			check: func(t *testing.T, c Config) {
				if !c.Outbound.AllowPrivate || c.Outbound.ConnectTimeout != 500*time.Millisecond || len(c.Outbound.TrustedHosts) != 1 ||
					c.Outbound.TrustedHosts[0] != "127.0.0.1:5556" || c.Webhooks.PerHost != 2 || c.Webhooks.PerApplication != 3 {
					t.Errorf("configured: %+v, webhooks %+v", c.Outbound, c.Webhooks)
				}
			}},
		// VERIFY_DOMAIN obeys the URL rules: https (http only with OIDC_ALLOW_HTTP_ISSUERS), no
		// characters that would break a CSP or a redirect.
		{name: "verify domain breaking a CSP", env: map[string]string{"VERIFY_DOMAIN": "https://idp.example;script-src *", "VERIFY_CLIENT_ID": "esign"},
			wantErr: "VERIFY_DOMAIN: must be an https issuer URL"},
		{name: "verify domain over http", env: map[string]string{"VERIFY_DOMAIN": "http://idp.example", "VERIFY_CLIENT_ID": "esign"},
			wantErr: "VERIFY_DOMAIN: must be an https issuer URL"},
		{name: "verify domain with user info", env: map[string]string{"VERIFY_DOMAIN": "https://user@idp.example", "VERIFY_CLIENT_ID": "esign"},
			wantErr: "VERIFY_DOMAIN: must be an https issuer URL"},
		{name: "verify domain as a host name", env: map[string]string{"VERIFY_DOMAIN": "idp.example", "VERIFY_CLIENT_ID": "esign"}},
		{name: "verify domain over http allowed", env: map[string]string{"VERIFY_DOMAIN": "http://dex:5556/dex", "VERIFY_CLIENT_ID": "esign", "OIDC_ALLOW_HTTP_ISSUERS": "true"}},
		{name: "verify domain without client id", env: map[string]string{"VERIFY_DOMAIN": "idp.example"},
			wantErr: "VERIFY_DOMAIN and VERIFY_CLIENT_ID go together"},
		{name: "metrics token too short", env: map[string]string{"METRICS_TOKEN": "short"}, wantErr: "METRICS_TOKEN"},
		{name: "not a positive number", env: map[string]string{"MAX_DOCUMENT_BYTES": "0"},
			wantErr: `MAX_DOCUMENT_BYTES: must be a positive whole number, got "0"`},
		{name: "not a duration", env: map[string]string{"WEBHOOK_TIMEOUT": "soon"},
			wantErr: `WEBHOOK_TIMEOUT: must be a duration such as 1h or 2160h, got "soon"`},
		{name: "HSM without its token", env: map[string]string{"PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so"},
			wantErr: "PKCS11_MODULE is set: PKCS11_TOKEN_LABEL and PKCS11_PIN are required too"},
		{name: "container without a connection", env: map[string]string{"AZURE_STORAGE_CONTAINER": "docs"},
			wantErr: "AZURE_STORAGE_CONTAINER is set without AZURE_STORAGE_CONNECTION_STRING"},
		{name: "trusted proxies", env: map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, check: func(t *testing.T, c Config) {
			want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
			if !slices.Equal(c.GraphQLLimits.TrustedProxies, want) {
				t.Errorf("trusted proxies: %v, want %v", c.GraphQLLimits.TrustedProxies, want)
			}
		}},
		{name: "trusted proxy not an address", env: map[string]string{"TRUSTED_PROXIES": "proxy.example"},
			wantErr: `TRUSTED_PROXIES: "proxy.example" is neither an address nor a CIDR prefix`},
		{name: "public URL without its slash", env: map[string]string{"PUBLIC_URL": "https://sign.example/"}, check: func(t *testing.T, c Config) {
			if c.PublicURL != "https://sign.example" || c.Keys().PublicURL != c.PublicURL {
				t.Errorf("public URL %q, keys %q", c.PublicURL, c.Keys().PublicURL)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%v: %v", tc.env, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%v: %v, want %q", tc.env, err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
