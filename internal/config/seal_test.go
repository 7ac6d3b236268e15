package config

import (
	"encoding/asn1"
	"slices"
	"strings"
	"testing"
	"time"

	"esign/internal/tsa"
)

// TestParseSealAndTSA: the operator seal's and the TSA's variables, their defaults, and each rule's
// error naming its variable.
func TestParseSealAndTSA(t *testing.T) {
	hsm := map[string]string{"PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so", "PKCS11_TOKEN_LABEL": "t", "PKCS11_PIN": "1234"}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults: local seal, built-in TSA", check: func(t *testing.T, c Config) {
			if c.Seal.Configured() || c.Keys().Seal.Configured() || c.TSATimeout != 10*time.Second || !c.TSAPolicy.Equal(tsa.DefaultPolicy) {
				t.Errorf("seal %+v, TSA timeout %v, policy %v", c.Seal, c.TSATimeout, c.TSAPolicy)
			}
		}},
		{name: "PKCS#12", env: with(nil, "SEAL_PKCS12_FILE", "/etc/esign/seal.p12", "SEAL_PKCS12_PASSWORD", "pw"), check: func(t *testing.T, c Config) {
			s := c.Keys().Seal
			if s.PKCS12File != "/etc/esign/seal.p12" || s.PKCS12Password != "pw" || s.Names.PKCS12Password != "SEAL_PKCS12_PASSWORD" || s.UsesHSM() {
				t.Errorf("seal %+v", s)
			}
		}},
		{name: "PEM key and chain with an anchor", env: with(nil, "SEAL_KEY_FILE", "k.pem", "SEAL_CERT_CHAIN_FILE", "c.pem", "SEAL_TRUST_ANCHOR_FILE", "a.pem"),
			check: func(t *testing.T, c Config) {
				if s := c.Seal; s.KeyFile != "k.pem" || s.ChainFile != "c.pem" || s.TrustAnchorFile != "a.pem" || s.UsesHSM() {
					t.Errorf("seal %+v", s)
				}
			}},
		{name: "HSM key and chain", env: with(hsm, "SEAL_CERT_CHAIN_FILE", "c.pem"), check: func(t *testing.T, c Config) {
			if !c.Seal.UsesHSM() || c.SealKeyLabel != "esign-seal" {
				t.Errorf("seal %+v, label %q", c.Seal, c.SealKeyLabel)
			}
		}},
		{name: "PKCS#12 and a key file", env: with(nil, "SEAL_PKCS12_FILE", "s.p12", "SEAL_KEY_FILE", "k.pem", "SEAL_CERT_CHAIN_FILE", "c.pem"),
			wantErr: "SEAL_PKCS12_FILE and SEAL_KEY_FILE: set one of them"},
		{name: "password without PKCS#12", env: with(nil, "SEAL_PKCS12_PASSWORD", "pw"), wantErr: "SEAL_PKCS12_PASSWORD is set without SEAL_PKCS12_FILE"},
		{name: "key without chain", env: with(nil, "SEAL_KEY_FILE", "k.pem"), wantErr: "SEAL_KEY_FILE needs SEAL_CERT_CHAIN_FILE"},
		{name: "chain without a key", env: with(nil, "SEAL_CERT_CHAIN_FILE", "c.pem"), wantErr: "SEAL_CERT_CHAIN_FILE needs a key"},
		{name: "anchor alone", env: with(nil, "SEAL_TRUST_ANCHOR_FILE", "a.pem"), wantErr: "SEAL_TRUST_ANCHOR_FILE is set without a seal certificate"},
		{name: "external TSA with basic auth", env: with(nil, "TSA_URL", "https://tsa.example/rfc3161", "TSA_USERNAME", "u", "TSA_PASSWORD", "p", "TSA_TIMEOUT", "3s"),
			check: func(t *testing.T, c Config) {
				if c.TSAUsername != "u" || c.TSAPassword != "p" || c.TSATimeout != 3*time.Second || !slices.Contains(c.Outbound.TrustedHosts, "tsa.example:443") {
					t.Errorf("TSA %q %q %v, trusted hosts %v", c.TSAUsername, c.TSAPassword, c.TSATimeout, c.Outbound.TrustedHosts)
				}
			}},
		{name: "external TSA with a bearer token and the Verify domain trusted too",
			env: with(nil, "TSA_URL", "https://tsa.example", "TSA_BEARER_TOKEN", "t", "VERIFY_DOMAIN", "idp.example", "VERIFY_CLIENT_ID", "x"),
			check: func(t *testing.T, c Config) {
				if c.TSABearerToken != "t" || !slices.Equal(c.Outbound.TrustedHosts, []string{"idp.example:443", "tsa.example:443"}) {
					t.Errorf("bearer %q, trusted hosts %v", c.TSABearerToken, c.Outbound.TrustedHosts)
				}
			}},
		{name: "credentials over http to loopback", env: with(nil, "TSA_URL", "http://127.0.0.1:3180", "TSA_USERNAME", "u", "TSA_PASSWORD", "p")},
		{name: "credentials over http", env: with(nil, "TSA_URL", "http://tsa.example", "TSA_USERNAME", "u", "TSA_PASSWORD", "p"),
			wantErr: "TSA_URL: must be https when TSA_USERNAME, TSA_PASSWORD or TSA_BEARER_TOKEN is set"},
		{name: "TSA URL not a URL", env: with(nil, "TSA_URL", "tsa.example"), wantErr: `TSA_URL: must be an http or https URL with a host, got "tsa.example"`},
		{name: "TSA URL with user info", env: with(nil, "TSA_URL", "https://u:p@tsa.example"), wantErr: "TSA_URL: must not carry credentials"},
		{name: "user without password", env: with(nil, "TSA_URL", "https://tsa.example", "TSA_USERNAME", "u"), wantErr: "TSA_USERNAME and TSA_PASSWORD go together"},
		{name: "bearer and basic", env: with(nil, "TSA_URL", "https://tsa.example", "TSA_USERNAME", "u", "TSA_PASSWORD", "p", "TSA_BEARER_TOKEN", "t"),
			wantErr: "TSA_BEARER_TOKEN and TSA_USERNAME: set one of them"},
		{name: "credentials without a TSA", env: with(nil, "TSA_BEARER_TOKEN", "t"), wantErr: "need TSA_URL"},
		{name: "timeout not a duration", env: with(nil, "TSA_URL", "https://tsa.example", "TSA_TIMEOUT", "soon"),
			wantErr: `TSA_TIMEOUT: must be a positive duration such as 10s, got "soon"`},
		{name: "zero timeout", env: with(nil, "TSA_URL", "https://tsa.example", "TSA_TIMEOUT", "0s"), wantErr: "TSA_TIMEOUT: must be a positive duration"},
		{name: "policy OID", env: with(nil, "TSA_POLICY_OID", "1.3.6.1.4.1.99999.1"), check: func(t *testing.T, c Config) {
			if !c.TSAPolicy.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}) {
				t.Errorf("policy %v", c.TSAPolicy)
			}
		}},
		{name: "policy not an OID", env: with(nil, "TSA_POLICY_OID", "my-policy"), wantErr: `TSA_POLICY_OID: "my-policy" is not a dotted OID`},
		{name: "policy with an external TSA", env: with(nil, "TSA_POLICY_OID", "1.2.3", "TSA_URL", "https://tsa.example"),
			wantErr: "TSA_POLICY_OID is the built-in TSA's policy; TSA_URL is set"},
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
