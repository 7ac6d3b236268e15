package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"esign/internal/pdf"
	"esign/internal/pdf/pdftest"
)

// TestSigningPageFillsSignatoryFields drives headless Chromium through the signing pages of two
// signatories with typed fields (the fields extension of SignatoryDocumentInput) on a two-page
// document: each is offered their own fields only; a required field left empty is stopped by the
// browser before anything is sent; the fields are filled with the keyboard; both sign; and the
// closed document holds every value in its form fields and on its pages, with both signatures
// valid to poppler and qpdf.
func TestSigningPageFillsSignatoryFields(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	addr := freeAddr(t)
	s := startServer(t, embedded, map[string]string{"ADDR": addr, "PUBLIC_URL": "http://" + addr})
	done := newRedirectReceiver(t)

	at := func(page int, x, y float64) map[string]any { return map[string]any{"page": page, "x": x, "y": y} }
	first := []any{
		map[string]any{"type": "SIGNATURE", "position": at(2, 8, 55)},
		map[string]any{"type": "INITIALS", "label": "Initials", "required": true,
			"anchor": map[string]any{"text": "Test document", "offsetY": 45}},
		map[string]any{"type": "TEXT", "label": "City", "required": true, "position": at(1, 10, 30)},
		map[string]any{"type": "DATE", "position": at(1, 60, 30)},
		map[string]any{"type": "CHECKBOX", "label": "I agree", "required": true, "position": at(1, 10, 40)},
		map[string]any{"type": "DROPDOWN", "label": "Plan", "options": []string{"Basic", "Pro"}, "position": at(1, 10, 48)},
		map[string]any{"type": "TEXT_AREA", "label": "Note", "position": at(1, 10, 56)},
	}
	second := []any{
		map[string]any{"type": "SIGNATURE", "position": at(2, 52, 55)},
		map[string]any{"type": "TEXT", "label": "Witness", "required": true, "position": at(2, 52, 80)},
	}
	doc := pdfDoc("Contract", pdftest.Make(t, 2, 0))
	doc["pdf"].(map[string]any)["reference"] = "c"
	r, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id signatories { href } } } }`,
		map[string]any{"input": map[string]any{
			"title":             "Fields e2e",
			"ui":                map[string]any{"signatoryRedirectUri": done.URL + "/done"},
			"documents":         []any{doc},
			"evidenceProviders": []any{map[string]any{"noop": map[string]any{"name": "test"}}},
			"signatories": []any{
				map[string]any{"documents": []any{map[string]any{"id": "c", "fields": first}}},
				map[string]any{"documents": []any{map[string]any{"id": "c", "fields": second}}},
			},
		}})
	var created struct {
		CreateSignatureOrder struct {
			SignatureOrder struct {
				ID          string
				Signatories []struct{ Href string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &created); err != nil || r.firstError() != "" {
		t.Fatalf("create: %s %q", r.Data, r.firstError())
	}
	o := created.CreateSignatureOrder.SignatureOrder

	ctx := browserCtx(t)
	labelled := func(label, control string) string {
		return `//div[contains(@class,"field")][.//*[self::label or self::legend][starts-with(normalize-space(.), "` + label + `")]]//` + control
	}
	// The fields by their labels (XPath: a plain string selector is a DOM search, which takes it).
	xp := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Focus(sel) }
	typeInto := func(name, sel, text string) {
		step(t, ctx, name, xp(sel), chromedp.SendKeys(sel, text))
	}
	labels := func() string {
		return get(t, ctx, "labels", chromedp.Evaluate[string](`[...document.querySelectorAll("fieldset.doc-form .field")].map(f => (f.querySelector("label, legend").textContent.trim())).join("|")`))
	}

	// The first signatory: their fields only, the date not among them.
	step(t, ctx, "open the first page", chromedp.Navigate(o.Signatories[0].Href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	step(t, ctx, "approve", chromedp.Focus(chromedp.CSS(`button[data-approve]`)), chromedp.KeyEvent(kb.Enter))
	step(t, ctx, "wait for the fields", chromedp.WaitVisible(labelled("City", "input")))
	if got, want := labels(), "Initials (required)|City (required)|I agree (required)|Plan|Note"; got != want {
		t.Errorf("the first signatory is offered %q, want %q", got, want)
	}

	// Sign with the city empty: the browser stops the post.
	typeInto("type the initials", labelled("Initials", "input"), "ÅØ")
	step(t, ctx, "sign too early", chromedp.Focus(chromedp.CSS(`button[data-sign]`)), chromedp.KeyEvent(kb.Enter))
	time.Sleep(300 * time.Millisecond) // a post would have left the page by now
	if missing := get(t, ctx, "city validity", chromedp.Evaluate[bool](`document.evaluate(`+jsString(labelled("City", "input"))+
		`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.validity.valueMissing`)); !missing {
		t.Errorf("the empty required city is not reported missing\n%s", pageState(ctx))
	}
	if n := get(t, ctx, "still here", chromedp.Evaluate[int](`document.querySelectorAll("fieldset.doc-form").length`)); n != 1 {
		t.Fatalf("the page went on with a required field empty\n%s", pageState(ctx))
	}

	typeInto("type the city", labelled("City", "input"), "Aarhus")
	step(t, ctx, "check agree", xp(labelled("I agree", "input")), chromedp.KeyEvent(" "))
	step(t, ctx, "choose Pro", xp(labelled("Plan", "select")), chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	typeInto("type the note", labelled("Note", "textarea"), "First line\nSecond line")
	step(t, ctx, "sign", chromedp.Focus(chromedp.CSS(`button[data-sign]`)), chromedp.KeyEvent(kb.Enter))
	waitForRedirect(t, ctx, done.URL+"/done?status=success")

	// The second signatory sees their witness field alone.
	step(t, ctx, "open the second page", chromedp.Navigate(o.Signatories[1].Href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	step(t, ctx, "approve", chromedp.Focus(chromedp.CSS(`button[data-approve]`)), chromedp.KeyEvent(kb.Enter))
	step(t, ctx, "wait for the witness", chromedp.WaitVisible(labelled("Witness", "input")))
	if got := labels(); got != "Witness (required)" {
		t.Errorf("the second signatory is offered %q", got)
	}
	typeInto("type the witness", labelled("Witness", "input"), "Eve Ødegård")
	step(t, ctx, "sign", chromedp.Focus(chromedp.CSS(`button[data-sign]`)), chromedp.KeyEvent(kb.Enter))
	waitForRedirect(t, ctx, done.URL+"/done?status=success")

	// The application reads the values from the document's form, which a document with signatory
	// fields has even though its own form was not enabled.
	r, _ = s.graphql(t, s.writeKey.basic(), `query($id: ID!) { signatureOrder(id: $id) {
		documents { ... on PdfDocument { form { enabled fields { field value } } } } } }`, map[string]any{"id": o.ID})
	var read struct {
		SignatureOrder struct {
			Documents []struct {
				Form *struct {
					Enabled bool
					Fields  []struct{ Field, Value string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Data, &read); err != nil || r.firstError() != "" {
		t.Fatalf("signatureOrder: %s %q", r.Data, r.firstError())
	}
	if f := read.SignatureOrder.Documents[0].Form; f == nil || f.Enabled || len(f.Fields) != 8 {
		t.Errorf("the document's form: %+v, want not enabled, with the 8 form fields of the signatories' fields (the initials twice)", f)
	} else {
		listed := map[string]string{}
		for _, v := range f.Fields {
			listed[v.Value] = v.Field
		}
		if listed["Eve Ødegård"] == "" || listed["Aarhus"] == "" {
			t.Errorf("the form lists %v, without the witness or the city", f.Fields)
		}
	}

	r, _ = s.graphql(t, s.writeKey.basic(), `mutation($o: ID!) { closeSignatureOrder(input: {signatureOrderId: $o}) {
		signatureOrder { timezone documents { ... on PdfDocument { blob } } } } }`, map[string]any{"o": o.ID})
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Timezone  string
				Documents []struct{ Blob string }
			}
		}
	}
	if err := json.Unmarshal(r.Data, &closed); err != nil || r.firstError() != "" {
		t.Fatalf("close: %.300s %q", r.Data, r.firstError())
	}
	data, err := base64.StdEncoding.DecodeString(closed.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, data)
	if n, err := pdftest.QPDF(t, data, "--show-npages"); err != nil || strings.TrimSpace(n) != "2" {
		t.Errorf("signed document has %q pages (%v), want 2: the seals are placed, no seals page", n, err)
	}
	fields, err := pdf.FormFields(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, f := range fields {
		values[f.Value] = f.Kind
	}
	loc, err := time.LoadLocation(closed.CloseSignatureOrder.SignatureOrder.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	if values["ÅØ"] == "" || strings.Count(flattenedText(t, data), "ÅØ") != 2 {
		t.Errorf("the initials are not on both pages")
	}
	for v, kind := range map[string]string{"ÅØ": "text", "Aarhus": "text", time.Now().In(loc).Format("2006-01-02"): "date",
		"true": "checkbox", "Pro": "choice", "First line\nSecond line": "text", "Eve Ødegård": "text"} {
		if values[v] != kind {
			t.Errorf("no %s field holds %q: %v", kind, v, values)
		}
	}
	text := flattenedText(t, data)
	for _, v := range []string{"ÅØ", "Aarhus", "Pro", "Second line", "Eve Ødegård", "Signed by"} {
		if !strings.Contains(text, v) {
			t.Errorf("the pages as shown do not hold %q:\n%s", v, text)
		}
	}
	nss := t.TempDir()
	for _, args := range [][]string{{"-N", "-d", "sql:" + nss, "--empty-password"},
		{"-A", "-d", "sql:" + nss, "-n", "esign", "-t", "CT,C,C", "-i", filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt")}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	pdfFile := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(pdfFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// poppler validates the two signatures, not the document timestamp (it says "not yet verified"),
	// and reports the trust of the first signature only (see pdftest.OpenSSLVerify); OpenSSL checks
	// the chain of both signatures and the timestamp.
	report, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, pdfFile).CombinedOutput()
	if n := strings.Count(string(report), "Signature is Valid."); n != 2 || !strings.Contains(string(report), "Certificate is Trusted.") {
		t.Errorf("pdfsig: %d valid, want the two signatures, trusted\n%s", n, report)
	}
	caFile := filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt")
	pdftest.RequireOpenSSLValid(t, data, caFile, 2, 1)
	// pyHanko judges what came after each signature: the second signatory's fill and seal, the DSS
	// and the document timestamp are form filling and signing, nothing more.
	root, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.RequirePyHankoValid(t, data, root, 3, pdftest.LevelFormFilling)
}

// flattenedText is what poppler prints of every page once the annotations' appearances are part
// of the pages (qpdf flattens them, as a viewer draws them).
func flattenedText(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	in, flat := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "flat.pdf")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--flatten-annotations=all", in, flat).CombinedOutput(); err != nil && !strings.Contains(string(out), "warning") {
		t.Fatalf("qpdf --flatten-annotations: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", flat, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}
