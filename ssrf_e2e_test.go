package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

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
