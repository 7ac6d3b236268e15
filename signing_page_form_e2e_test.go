package main

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"esign/internal/pdf/pdftest"
)

// TestSigningPageFillsTheForm drives headless Chromium through the signing page of an order whose
// document has its own form (pdftest.Form, form enabled): the fields are filled with the keyboard,
// a value the document cannot hold is refused next to its field with everything else kept, then
// the signatory signs, and the application reads the typed values back from the document.
func TestSigningPageFillsTheForm(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	addr := freeAddr(t)
	s := startServer(t, embedded, map[string]string{"ADDR": addr, "PUBLIC_URL": "http://" + addr})
	done := newRedirectReceiver(t)

	orderID, href := createFormOrder(t, s, done.URL+"/done", map[string]any{"noop": map[string]any{"name": "plain"}})

	ctx := browserCtx(t)
	field := func(name, control string) string { return `[data-field="` + name + `"] ` + control }
	press := func(name, sel, key string) {
		step(t, ctx, name, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(key))
	}
	value := func(sel string) string {
		return get(t, ctx, "read "+sel, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).value`))
	}
	checked := func(sel string) bool {
		return get(t, ctx, "read "+sel, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`).checked`))
	}

	step(t, ctx, "open the page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	press("approve", `button[data-approve]`, kb.Enter)
	step(t, ctx, "wait for the form", chromedp.WaitVisible(chromedp.CSS(field("name", "input"))))
	if got := value(field("name", "input")); got != "Ada Lovelace" {
		t.Errorf("name shows %q, want the document's Ada Lovelace", got)
	}
	if ro := get(t, ctx, "city", chromedp.Evaluate[bool](`document.querySelector('[data-field="address.city"] input').readOnly`)); !ro {
		t.Error("the read-only address.city can be edited")
	}

	// Select the prefilled name and type over it; the note gets a snowman, which the embedded font
	// the form's values are drawn in has no glyph for.
	// (The text is selected by script, as a double click would; then typed over.)
	step(t, ctx, "focus the name", chromedp.Focus(chromedp.CSS(field("name", "input"))))
	get(t, ctx, "select the name", chromedp.Evaluate[bool](`(() => { document.activeElement.select(); return true; })()`))
	step(t, ctx, "type the name", chromedp.SendKeys(chromedp.CSS(field("name", "input")), "Grace Hopper"))
	step(t, ctx, "type the note", chromedp.SendKeys(chromedp.CSS(field("note", "textarea")), "Snow ☃"))
	press("uncheck agree", field("agree", "input"), " ")
	press("choose premium", field("plan", `input[value="basic"]`), kb.ArrowRight)
	press("choose Sweden", field("country", "select"), kb.ArrowDown)
	press("sign", `button[data-sign]`, kb.Enter)

	step(t, ctx, "refused", chromedp.WaitVisible(chromedp.CSS(`#error`)))
	if msg := get(t, ctx, "note error", chromedp.Evaluate[string](`(document.querySelector('[data-field="note"] .field-error') || {}).textContent || ""`)); msg == "" {
		t.Errorf("no error next to the note\n%s", pageState(ctx))
	}
	if got := get(t, ctx, "other errors", chromedp.Evaluate[int](`document.querySelectorAll(".field-error").length`)); got != 1 {
		t.Errorf("%d fields marked, want the note alone", got)
	}
	for sel, want := range map[string]string{field("name", "input"): "Grace Hopper", field("note", "textarea"): "Snow ☃", field("country", "select"): "Sweden"} {
		if got := value(sel); got != want {
			t.Errorf("after the refusal %s shows %q, want what was typed, %q", sel, got, want)
		}
	}
	if checked(field("agree", "input")) || !checked(field("plan", `input[value="premium"]`)) {
		t.Error("after the refusal the checkbox or the radio choice is not as it was set")
	}

	// Fix the note and sign.
	step(t, ctx, "fix the note", chromedp.Clear(chromedp.CSS(field("note", "textarea"))),
		chromedp.SendKeys(chromedp.CSS(field("note", "textarea")), "Snow\nman"))
	press("sign", `button[data-sign]`, kb.Enter)
	waitForRedirect(t, ctx, done.URL+"/done?status=success")

	resp, _ := s.graphql(t, s.writeKey.basic(), `query($id: ID!) { signatureOrder(id: $id) { signatories { status }
		documents { ... on PdfDocument { form { enabled fields { field value } } } } } }`, map[string]any{"id": orderID})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("signatureOrder: %s", msg)
	}
	var read struct {
		SignatureOrder struct {
			Signatories []struct{ Status string }
			Documents   []struct {
				Form struct {
					Enabled bool
					Fields  []struct{ Field, Value string }
				}
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &read); err != nil {
		t.Fatal(err)
	}
	if st := read.SignatureOrder.Signatories[0].Status; st != "SIGNED" {
		t.Errorf("signatory is %s, want SIGNED", st)
	}
	got := map[string]string{}
	for _, f := range read.SignatureOrder.Documents[0].Form.Fields {
		got[f.Field] = f.Value
	}
	want := map[string]string{"name": "Grace Hopper", "note": "Snow\nman", "agree": "false", "plan": "premium", "country": "Sweden", "address.city": "Aarhus"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("form field %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSigningPageFormThroughEIDLogin: values typed into the document's form before an eID login
// (criiptoVerify at a real Dex) cross the redirect kept on the server, and the login's signature
// fills them in.
func TestSigningPageFormThroughEIDLogin(t *testing.T) {
	s, dex := startWithDex(t)
	done := newRedirectReceiver(t)
	user := dex.Users[0]
	orderID, href := createFormOrder(t, s, done.URL+"/done", map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email"}})

	ctx := browserCtx(t)
	name := `[data-field="name"] input`
	step(t, ctx, "open the page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`button[data-approve]`)), chromedp.WaitVisible(chromedp.CSS(name)))
	step(t, ctx, "clear the name", chromedp.Clear(chromedp.CSS(name)))
	step(t, ctx, "type the name", chromedp.SendKeys(chromedp.CSS(name), "Åse Łukasz"))
	step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(`button[data-form-login]`)))
	dexLogin(t, ctx, user.Email, user.Password)
	waitForRedirect(t, ctx, done.URL+"/done?status=success")

	resp, _ := s.graphql(t, s.writeKey.basic(), `query($id: ID!) { signatureOrder(id: $id) { signatories { status }
		documents { ... on PdfDocument { form { fields { field value } } } } } }`, map[string]any{"id": orderID})
	var read struct {
		SignatureOrder struct {
			Signatories []struct{ Status string }
			Documents   []struct {
				Form struct {
					Fields []struct{ Field, Value string }
				}
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &read); err != nil || resp.firstError() != "" {
		t.Fatalf("signatureOrder: %s %v", resp.Data, resp.Errors)
	}
	if st := read.SignatureOrder.Signatories[0].Status; st != "SIGNED" {
		t.Errorf("signatory is %s, want SIGNED", st)
	}
	var got string
	for _, f := range read.SignatureOrder.Documents[0].Form.Fields {
		if f.Field == "name" {
			got = f.Value
		}
	}
	if got != "Åse Łukasz" {
		t.Errorf("the name field after the eID signature is %q, want what was typed before the login", got)
	}
}

// createFormOrder creates an order of one form-enabled document (pdftest.Form) and one signatory
// with one evidence provider, and returns its id and the signatory's link.
func createFormOrder(t *testing.T, s *testServer, redirect string, provider map[string]any) (orderID, href string) {
	t.Helper()
	resp, _ := s.graphql(t, s.writeKey.basic(), `mutation($input: CreateSignatureOrderInput!) {
		createSignatureOrder(input: $input) { signatureOrder { id signatories { href } } } }`, map[string]any{"input": map[string]any{
		"title": "Form e2e",
		"ui":    map[string]any{"signatoryRedirectUri": redirect},
		"documents": []any{map[string]any{"pdf": map[string]any{"title": "Application", "storageMode": "Temporary",
			"blob": base64.StdEncoding.EncodeToString(pdftest.Form(t)), "form": map[string]any{"enabled": true}}}},
		"evidenceProviders": []any{provider},
		"signatories":       []any{map[string]any{}},
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
	return created.CreateSignatureOrder.SignatureOrder.ID, created.CreateSignatureOrder.SignatureOrder.Signatories[0].Href
}
