package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/order"
	"esign/internal/pdf/pdftest"
)

// TestBatchSigningPageInBrowser drives headless Chromium through the batch page: one person sees
// the three documents of two orders, approves them all, writes their name into the pad once and
// signs; each order is then signed on its own, and closed, each PDF carries one valid, trusted
// signature (qpdf, pdfsig, pdfcpu, OpenSSL).
func TestBatchSigningPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	s := startServer(t, embedded, nil)
	type created struct {
		ID          string
		Signatories []struct{ ID string }
	}
	var orders []created
	for i, docs := range []int{2, 1} {
		var documents []any
		for j := 0; j < docs; j++ {
			documents = append(documents, map[string]any{"pdf": map[string]any{"title": fmt.Sprintf("Contract %d.%d", i+1, j+1),
				"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 2, 0)), "storageMode": "Temporary"}})
		}
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
			createSignatureOrder(input: $input) { signatureOrder { id signatories { id } } } }`, map[string]any{"input": map[string]any{
			"title":             fmt.Sprintf("Batch e2e %d", i+1),
			"documents":         documents,
			"evidenceProviders": []any{map[string]any{"drawable": map[string]any{"requireName": true}}},
			"signatories":       []any{map[string]any{"reference": "ada"}},
		}})
		if msg := resp.firstError(); msg != "" {
			t.Fatalf("createSignatureOrder: %s", msg)
		}
		var out struct {
			CreateSignatureOrder struct{ SignatureOrder created }
		}
		if err := json.Unmarshal(resp.Data, &out); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, out.CreateSignatureOrder.SignatureOrder)
	}
	var items []order.BatchItem
	for _, o := range orders {
		items = append(items, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID})
	}
	href := createBatchSignatory(t, s, items)

	ctx := browserCtx(t)
	step(t, ctx, "open the batch page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve-all]`)))
	if n := get(t, ctx, "documents", chromedp.Evaluate[int](`document.querySelectorAll(".batch-item .pdf[data-src]").length`)); n != 3 {
		t.Fatalf("%d documents on the page, want 3 (two orders)", n)
	}
	// pdf.js opens every document; pages are drawn as they scroll into view.
	step(t, ctx, "the documents are shown", chromedp.WaitVisible(chromedp.CSS(`[data-item="0"] .pdf[data-state="ready"] canvas[data-rendered]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-item="1"] .pdf[data-state="ready"]`)))
	if n := get(t, ctx, "documents opened", chromedp.Evaluate[int](`document.querySelectorAll('.pdf[data-state="ready"]').length`)); n != 3 {
		t.Fatalf("pdf.js opened %d documents, want 3", n)
	}
	step(t, ctx, "approve all", chromedp.Click(chromedp.CSS(`button[data-approve-all]`)), chromedp.WaitVisible(chromedp.CSS(`canvas.pad`)))
	step(t, ctx, "type the name", chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Ada Batch"))
	step(t, ctx, "write the name into the pad", chromedp.Click(chromedp.CSS(`button.write-name`)))
	step(t, ctx, "sign all", chromedp.Click(chromedp.CSS(`button[data-sign-all]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-item="1"][data-signed]`)))
	msg := get(t, ctx, "message", chromedp.Evaluate[string](`document.getElementById("message").textContent`))
	if msg != "Thank you, you have signed every document you could." ||
		get(t, ctx, "signed items", chromedp.Evaluate[int](`document.querySelectorAll("[data-signed]").length`)) != 2 {
		t.Fatalf("after signing the page says %q\n%s", msg, pageState(ctx))
	}

	// Each order was signed on its own: its signatory SIGNED, and its PDFs validate once closed.
	outDir := t.TempDir()
	for i, o := range orders {
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id}) {
			signatureOrder { signatories { status } documents { blob signatures { __typename } } } } }`, map[string]any{"id": o.ID})
		if msg := resp.firstError(); msg != "" {
			t.Fatalf("closeSignatureOrder %d: %s", i+1, msg)
		}
		var closed struct {
			CloseSignatureOrder struct {
				SignatureOrder struct {
					Signatories []struct{ Status string }
					Documents   []struct {
						Blob       string
						Signatures []struct {
							Typename string `json:"__typename"`
						}
					}
				}
			}
		}
		if err := json.Unmarshal(resp.Data, &closed); err != nil {
			t.Fatal(err)
		}
		so := closed.CloseSignatureOrder.SignatureOrder
		if so.Signatories[0].Status != "SIGNED" || len(so.Documents) != 2-i {
			t.Fatalf("order %d after the batch: %s", i+1, resp.Data)
		}
		for j, d := range so.Documents {
			if len(d.Signatures) != 1 || d.Signatures[0].Typename != "DrawableSignature" {
				t.Errorf("order %d document %d signatures %+v, want one drawn", i+1, j+1, d.Signatures)
			}
			pdf, err := base64.StdEncoding.DecodeString(d.Blob)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outDir, fmt.Sprintf("order%d-doc%d.pdf", i+1, j+1)), pdf, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	assertSealedPDFs(t, outDir, 1, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))
}

// TestBatchSigningPageWithEIDLogin: one person logs in once at a real identity provider (Dex, the
// server's criiptoVerify broker) from the batch page, and both orders are signed with that login,
// each on its own; once closed, each order's PDF carries one valid, trusted signature whose
// evidence is the login's ID token.
func TestBatchSigningPageWithEIDLogin(t *testing.T) {
	s, dex := startWithDex(t)
	alice := dex.Users[0]
	type created struct {
		ID          string
		Signatories []struct{ ID string }
	}
	var orders []created
	for i := range 2 {
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
			createSignatureOrder(input: $input) { signatureOrder { id signatories { id } } } }`, map[string]any{"input": map[string]any{
			"title": fmt.Sprintf("Batch eID e2e %d", i+1),
			"documents": []any{map[string]any{"pdf": map[string]any{"title": fmt.Sprintf("Contract %d", i+1),
				"blob": base64.StdEncoding.EncodeToString(pdftest.Make(t, 1, 0)), "storageMode": "Temporary"}}},
			"evidenceProviders": []any{map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email"}}},
			"signatories":       []any{map[string]any{"evidenceValidation": []any{map[string]any{"key": "email", "value": alice.Email}}}},
		}})
		if msg := resp.firstError(); msg != "" {
			t.Fatalf("createSignatureOrder: %s", msg)
		}
		var out struct {
			CreateSignatureOrder struct{ SignatureOrder created }
		}
		if err := json.Unmarshal(resp.Data, &out); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, out.CreateSignatureOrder.SignatureOrder)
	}
	var items []order.BatchItem
	for _, o := range orders {
		items = append(items, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID})
	}
	href := createBatchSignatory(t, s, items)

	ctx := browserCtx(t)
	step(t, ctx, "open the batch page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve-all]`)))
	step(t, ctx, "approve all", chromedp.Click(chromedp.CSS(`button[data-approve-all]`)), chromedp.WaitVisible(chromedp.CSS(`button[data-sign-login]`)))
	if n := get(t, ctx, "sign forms", chromedp.Evaluate[int](`document.querySelectorAll("button[data-sign-all]").length`)); n != 0 {
		t.Errorf("%d other sign buttons beside the login", n)
	}
	step(t, ctx, "sign with the eID", chromedp.Click(chromedp.CSS(`button[data-sign-login]`)))
	dexLogin(t, ctx, alice.Email, alice.Password)
	step(t, ctx, "back on the batch page, both signed", chromedp.WaitVisible(chromedp.CSS(`[data-item="1"][data-signed]`)))
	msg := get(t, ctx, "message", chromedp.Evaluate[string](`document.getElementById("message").textContent`))
	if msg != "Thank you, you have signed every document you could." ||
		get(t, ctx, "signed items", chromedp.Evaluate[int](`document.querySelectorAll("[data-signed]").length`)) != 2 {
		t.Fatalf("after the login the page says %q\n%s", msg, pageState(ctx))
	}

	outDir := t.TempDir()
	for i, o := range orders {
		resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id}) {
			signatureOrder { signatories { status } documents { blob signatures { __typename ... on JWTSignature { claims { name value } } } } } } }`,
			map[string]any{"id": o.ID})
		if msg := resp.firstError(); msg != "" {
			t.Fatalf("closeSignatureOrder %d: %s", i+1, msg)
		}
		var closed struct {
			CloseSignatureOrder struct {
				SignatureOrder struct {
					Signatories []struct{ Status string }
					Documents   []struct {
						Blob       string
						Signatures []struct {
							Typename string `json:"__typename"`
							Claims   []struct{ Name, Value string }
						}
					}
				}
			}
		}
		if err := json.Unmarshal(resp.Data, &closed); err != nil {
			t.Fatal(err)
		}
		so := closed.CloseSignatureOrder.SignatureOrder
		if so.Signatories[0].Status != "SIGNED" || len(so.Documents) != 1 || len(so.Documents[0].Signatures) != 1 {
			t.Fatalf("order %d after the batch: %s", i+1, resp.Data)
		}
		sig := so.Documents[0].Signatures[0]
		claims := map[string]string{}
		for _, c := range sig.Claims {
			claims[c.Name] = c.Value
		}
		if sig.Typename != "JWTSignature" || claims["email"] != alice.Email || claims["iss"] != dex.Issuer {
			t.Errorf("order %d signature %s, claims %v; want the login's ID token", i+1, sig.Typename, claims)
		}
		pdf, err := base64.StdEncoding.DecodeString(so.Documents[0].Blob)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outDir, fmt.Sprintf("order%d.pdf", i+1)), pdf, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	assertSealedPDFs(t, outDir, 1, filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt"))
}

// createBatchSignatory makes a batch over items through the API and returns its link.
func createBatchSignatory(t *testing.T, s *testServer, items []order.BatchItem) string {
	t.Helper()
	var input []any
	for _, it := range items {
		input = append(input, map[string]any{"signatureOrderId": it.OrderID, "signatoryId": it.SignatoryID})
	}
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateBatchSignatoryInput!) {
		createBatchSignatory(input: $input) { batchSignatory { id href items { signatory { id } } } } }`,
		map[string]any{"input": map[string]any{"items": input}})
	var out struct {
		CreateBatchSignatory struct {
			BatchSignatory struct {
				ID, Href string
				Items    []struct{ Signatory struct{ ID string } }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &out); err != nil || resp.firstError() != "" || out.CreateBatchSignatory.BatchSignatory.Href == "" {
		t.Fatalf("createBatchSignatory: %s %q", resp.Data, resp.firstError())
	}
	if got := len(out.CreateBatchSignatory.BatchSignatory.Items); got != len(items) {
		t.Errorf("the batch has %d items, want %d", got, len(items))
	}
	return out.CreateBatchSignatory.BatchSignatory.Href
}
