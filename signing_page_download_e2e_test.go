package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/pdf/pdftest"
)

// TestSigningPageDownloadInBrowser: a signatory signs with an eID login at a real OpenID Connect
// provider (Dex); the order is closed with retainDocumentsForDays 1; the hosted download page asks
// for a fresh login with the same provider, then lists the document, and the bytes the browser
// downloads are the signed, timestamped PDF the integrator got at close (pdfsig: valid).
func TestSigningPageDownloadInBrowser(t *testing.T) {
	s, dex := startWithDex(t)
	user := dex.Users[0]
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id signatories { href } } } }`, map[string]any{"input": map[string]any{
		"title": "Download e2e",
		"documents": []any{map[string]any{"pdf": map[string]any{"title": "Lease",
			"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 2, 0)), "storageMode": "Temporary"}}},
		"evidenceProviders": []any{map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email"}}},
		"signatories":       []any{map[string]any{"evidenceValidation": []any{map[string]any{"key": "email", "value": user.Email}}}},
	}})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("createSignatureOrder: %s", msg)
	}
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Signatories []struct{ Href string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &created); err != nil {
		t.Fatal(err)
	}
	orderID, href := created.CreateSignatureOrder.SignatureOrder.ID, created.CreateSignatureOrder.SignatureOrder.Signatories[0].Href

	ctx := browserCtx(t)
	step(t, ctx, "open the signing page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`button[data-approve]`)), chromedp.WaitVisible(chromedp.CSS(`a[data-sign-login]`)))
	step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(`a[data-sign-login]`)), chromedp.WaitVisible(chromedp.CSS(`input[name=login]`)))
	dexLogin(t, ctx, user.Email, user.Password)
	step(t, ctx, "signed", chromedp.WaitVisible(chromedp.CSS(`#message`)))

	t.Run("no download before the order is closed", func(t *testing.T) {
		step(t, ctx, "open the download page", chromedp.Navigate(href+"/download"), chromedp.WaitVisible(chromedp.CSS(`#message`)))
		if n := get(t, ctx, "links", chromedp.Evaluate[int](`document.querySelectorAll("a[data-download], a[data-download-login]").length`)); n != 0 {
			t.Errorf("%d download links before close", n)
		}
	})

	resp, _ = s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id, retainDocumentsForDays: 1}) {
		signatureOrder { status documents { blob } } } }`, map[string]any{"id": orderID})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("closeSignatureOrder: %s", msg)
	}
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Status    string
				Documents []struct{ Blob string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &closed); err != nil || len(closed.CloseSignatureOrder.SignatureOrder.Documents) != 1 {
		t.Fatalf("closed order: %s (%v)", resp.Data, err)
	}
	atClose, err := base64.StdEncoding.DecodeString(closed.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)
	if err != nil {
		t.Fatal(err)
	}

	// A new tab: the download page asks for its own login whatever the signing left behind.
	ctx = browserCtx(t)
	step(t, ctx, "open the download page", chromedp.Navigate(href+"/download"), chromedp.WaitVisible(chromedp.CSS(`a[data-download-login]`)))
	if n := get(t, ctx, "documents before the login", chromedp.Evaluate[int](`document.querySelectorAll("a[data-download]").length`)); n != 0 {
		t.Fatalf("%d documents listed before the login", n)
	}
	step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(`a[data-download-login]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=login], a[data-download]`)))
	if n := get(t, ctx, "at Dex", chromedp.Evaluate[int](`document.querySelectorAll("input[name=login]").length`)); n > 0 {
		dexLogin(t, ctx, user.Email, user.Password)
	}
	step(t, ctx, "listed", chromedp.WaitVisible(chromedp.CSS(`a[data-download]`)))
	title := get(t, ctx, "title", chromedp.Evaluate[string](`document.querySelector("ul.downloads .title").textContent`))
	if title != "Lease" {
		t.Errorf("listed document %q", title)
	}
	// The browser fetches the link with its cookies (the download login's is HttpOnly).
	downloaded := get(t, ctx, "download", chromedp.Evaluate[string](`fetch(document.querySelector("a[data-download]").href)
		.then(r => r.ok && r.headers.get("content-disposition").startsWith("attachment") ? r.arrayBuffer() : Promise.reject(new Error("HTTP " + r.status)))
		.then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	pdf, err := base64.StdEncoding.DecodeString(downloaded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pdf, atClose) {
		t.Errorf("the downloaded PDF (%d bytes) is not the one closeSignatureOrder answered (%d bytes)", len(pdf), len(atClose))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lease.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	assertSealedPDFs(t, dir, 1, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))
}
