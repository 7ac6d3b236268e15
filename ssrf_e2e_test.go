package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"esign/internal/netguard/netguardtest"
	"esign/internal/pdf/pdftest"
)

// An API caller names loopback as its identity provider's domain and as its webhook: the server
// (even with http issuers allowed) never opens a connection there, and says why it cannot go on.
func TestNoRequestsToLoopbackOnACallersBehalf(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: not in -short")
	}
	l := netguardtest.Listen(t)
	s := startServer(t, embedded, map[string]string{"OIDC_ALLOW_HTTP_ISSUERS": "true"})
	pdf := base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))
	create := func(extra map[string]any) gqlResponse {
		input := map[string]any{
			"title":     "SSRF",
			"documents": []any{map[string]any{"pdf": map[string]any{"title": "Contract", "reference": "c1", "blob": pdf, "storageMode": "Temporary"}}},
			// Preapproved: signActingAs goes straight to the evidence.
			"signatories": []any{map[string]any{"reference": "one", "documents": []any{map[string]any{"id": "c1", "preapproved": true}}}},
			"evidenceProviders": []any{map[string]any{"oidc": map[string]any{"name": "idp", "domain": "127.0.0.1:" + l.Port(),
				"clientID": "c", "audience": "c"}}},
		}
		for k, v := range extra {
			input[k] = v
		}
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
			createSignatureOrder(input: $input) { signatureOrder { id evidenceProviders { id } signatories { id } } } }`,
			map[string]any{"input": input})
		return resp
	}

	resp := create(map[string]any{"webhook": map[string]any{"url": "https://127.0.0.1:" + l.Port() + "/hook", "validateConnectivity": true}})
	if msg := resp.firstError(); !strings.Contains(msg, "webhook") {
		t.Errorf("a webhook on loopback with validateConnectivity: %q", msg)
	}

	resp = create(nil)
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				EvidenceProviders []struct{ ID string }
				Signatories       []struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	o := created.CreateSignatureOrder.SignatureOrder
	resp, _ = s.graphql(t, s.writeKey.basic(), `mutation($s: ID!, $p: ID!) {
		signActingAs(input: {signatoryId: $s, evidence: {id: $p, oidc: {jwt: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}}}) { signatory { id } } }`,
		map[string]any{"s": o.Signatories[0].ID, "p": o.EvidenceProviders[0].ID})
	if msg := resp.firstError(); !strings.Contains(msg, "cannot be reached") {
		t.Errorf("signing with an ID token of a loopback provider: %q", msg)
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// The outbound policy from the environment: closed by default, opened only by OUTBOUND_ALLOW_PRIVATE,
// the operator's Verify domain trusted by its host and port, and OIDC_ALLOW_HTTP_ISSUERS opening no
// address by itself.
func TestOutboundConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := parseConfig(env(map[string]string{"OIDC_ALLOW_HTTP_ISSUERS": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Outbound.AllowPrivate || len(c.Outbound.TrustedHosts) != 0 || c.Webhooks.AllowPrivateTargets || c.Webhooks.PerHost != 4 || c.Webhooks.PerApplication != 8 {
		t.Errorf("defaults: %+v, webhooks %+v", c.Outbound, c.Webhooks)
	}
	c, err = parseConfig(env(map[string]string{"OUTBOUND_ALLOW_PRIVATE": "true", "OUTBOUND_CONNECT_TIMEOUT": "500ms",
		"VERIFY_DOMAIN": "http://127.0.0.1:5556/dex", "VERIFY_CLIENT_ID": "esign", "WEBHOOK_MAX_PER_HOST": "2", "WEBHOOK_MAX_PER_APPLICATION": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Outbound.AllowPrivate || c.Outbound.ConnectTimeout != 500*time.Millisecond || len(c.Outbound.TrustedHosts) != 1 ||
		c.Outbound.TrustedHosts[0] != "127.0.0.1:5556" || c.Webhooks.PerHost != 2 || c.Webhooks.PerApplication != 3 {
		t.Errorf("configured: %+v, webhooks %+v", c.Outbound, c.Webhooks)
	}
	// VERIFY_DOMAIN obeys the URL rules: https (http only with OIDC_ALLOW_HTTP_ISSUERS), no characters
	// that would break a CSP or a redirect.
	for _, bad := range []map[string]string{
		{"VERIFY_DOMAIN": "https://idp.example;script-src *", "VERIFY_CLIENT_ID": "esign"},
		{"VERIFY_DOMAIN": "http://idp.example", "VERIFY_CLIENT_ID": "esign"},
		{"VERIFY_DOMAIN": "https://user@idp.example", "VERIFY_CLIENT_ID": "esign"},
	} {
		if _, err := parseConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "VERIFY_DOMAIN: must be an https issuer URL") {
			t.Errorf("%q: %v, want the VERIFY_DOMAIN rule", bad["VERIFY_DOMAIN"], err)
		}
	}
	for _, good := range []map[string]string{
		{"VERIFY_DOMAIN": "idp.example", "VERIFY_CLIENT_ID": "esign"},
		{"VERIFY_DOMAIN": "http://dex:5556/dex", "VERIFY_CLIENT_ID": "esign", "OIDC_ALLOW_HTTP_ISSUERS": "true"},
	} {
		if _, err := parseConfig(env(good)); err != nil {
			t.Errorf("%q: %v", good["VERIFY_DOMAIN"], err)
		}
	}
}
