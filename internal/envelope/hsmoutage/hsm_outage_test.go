// Package hsmoutage_test takes the HSM away from a running service. It is a package of its own so
// that it runs in its own process: SoftHSM2 is loaded once per process, and a token taken away
// cannot be given back to the process that used it.
package hsmoutage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/graph"
	"esign/internal/envelope"
	"esign/internal/limits"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/store"
	"esign/internal/tenant"
	"esign/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// With the HSM gone, a create fails at once with UNAVAILABLE naming the key manager, and leaves no
// row and no blob.
func TestHSMGone(t *testing.T) {
	ctx := context.Background()
	tok := testenv.SoftHSM(t)
	inner, err := envelope.NewPKCS11KeyWrapper(envelope.PKCS11Config{ModulePath: tok.ModulePath, TokenLabel: tok.TokenLabel,
		PIN: tok.PIN, KeyLabel: tok.KeyLabel, CreateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	log := signingtest.Discard()
	svc := signingtest.New(st, blobs, envelope.New(inner, signingtest.FileKey(t, filepath.Join(dir, "outer.json"))), signing.Config{})
	api := httptest.NewServer(graph.NewHandler(&graph.Resolver{Service: svc, Log: log},
		limits.GraphQL{MaxBodyBytes: 8 << 20, MaxComplexity: 2000, MaxDepth: 15, MaxParserTokens: 15000}, nil))
	t.Cleanup(api.Close)
	creds, err := svc.CreateAPIKey(ctx, "app", tenant.EnvironmentTest, tenant.KeyReadWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	create := func() (string, string, time.Duration) {
		body, _ := json.Marshal(map[string]any{"query": `mutation($input: CreateSignatureOrderInput!) {
			createSignatureOrder(input: $input) { signatureOrder { id } } }`, "variables": map[string]any{"input": map[string]any{
			"documents": []any{map[string]any{"pdf": map[string]any{"title": "HSM", "storageMode": "Temporary",
				"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0))}}}}}})
		req, _ := http.NewRequest(http.MethodPost, api.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(creds.ClientID, creds.ClientSecret)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		raw, _ := io.ReadAll(resp.Body)
		json.Unmarshal(raw, &out)
		if len(out.Errors) == 0 {
			return "", "", time.Since(start)
		}
		return out.Errors[0].Extensions.Code, out.Errors[0].Message, time.Since(start)
	}
	if code, msg, _ := create(); code != "" {
		t.Fatalf("with the HSM: %s %q", code, msg)
	}

	// Take the token away, as an HSM that was unplugged or lost its partition.
	tokens, _ := filepath.Glob(filepath.Join(filepath.Dir(os.Getenv("SOFTHSM2_CONF")), "tokens", "*"))
	if len(tokens) != 1 {
		t.Fatalf("token folders: %v", tokens)
	}
	if err := os.Rename(tokens[0], tokens[0]+".gone"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(tokens[0]+".gone", tokens[0]) })
	for range 2 {
		code, msg, took := create()
		if code != "UNAVAILABLE" || !strings.Contains(msg, "the key manager (HSM) is unavailable") || took > 5*time.Second {
			t.Errorf("without the HSM: %s %q after %v", code, msg, took)
		}
	}
	page, err := st.ListOrders(ctx, store.ListOrdersQuery{ApplicationID: creds.ApplicationID, Limit: 10})
	if err != nil || page.TotalCount != 1 {
		t.Errorf("orders after the failed creates: %d (%v), want the one made before", page.TotalCount, err)
	}
	n := 0
	if err := blobs.List(ctx, "", func(string) bool { n++; return true }); err != nil || n != 1 {
		t.Errorf("blobs after the failed creates: %d (%v), want 1", n, err)
	}
}
