package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"esign/internal/pdf/pdftest"
)

// TestSigningPageAllOfWithLogin drives headless Chromium through an allOf evidence provider of an
// eID login (criiptoVerify at a real Dex) and a drawing: the signatory fills the document's form,
// draws on the pad with the mouse, presses the provider's button (refused in the page while the
// pad is empty), logs in at Dex, and the one signature carries both, the login's ID token and the
// drawing, with the typed value in the document; the closed PDF is valid for pdfsig, qpdf and
// OpenSSL.
func TestSigningPageAllOfWithLogin(t *testing.T) {
	s, dex := startWithDex(t)
	done := newRedirectReceiver(t)
	user := dex.Users[0]
	orderID, href := createFormOrder(t, s, done.URL+"/done", map[string]any{"allOf": map[string]any{"providers": []any{
		map[string]any{"criiptoVerify": map[string]any{"scope": "openid profile email"}},
		map[string]any{"drawable": map[string]any{"requireName": true, "minimumWidth": 40, "minimumHeight": 20}},
	}}})

	ctx := browserCtx(t)
	field := `[data-field="name"] input`
	button := `button[data-allof-login]`
	step(t, ctx, "open the page", chromedp.Navigate(href), chromedp.WaitVisible(chromedp.CSS(`button[data-approve]`)))
	step(t, ctx, "approve", chromedp.Click(chromedp.CSS(`button[data-approve]`)), chromedp.WaitVisible(chromedp.CSS(`canvas.pad`)))
	if label := get(t, ctx, "button label", chromedp.Evaluate[string](`document.querySelector("button[data-allof-login]").textContent`)); label != "Sign with eID" {
		t.Errorf("the allOf button says %q, want Sign with eID", label)
	}
	step(t, ctx, "clear the form's name", chromedp.Clear(chromedp.CSS(field)))
	step(t, ctx, "type the form's name", chromedp.SendKeys(chromedp.CSS(field), "Åse Łukasz"))
	step(t, ctx, "type the signature's name", chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Ada Drawn"))

	// The pad is empty: the page does not leave for the identity provider.
	step(t, ctx, "press without a drawing", chromedp.Click(chromedp.CSS(button)))
	step(t, ctx, "refused in the page", chromedp.WaitVisible(chromedp.CSS(`.form-error`)))
	if msg := get(t, ctx, "problem", chromedp.Evaluate[string](`document.querySelector(".form-error").textContent`)); msg != "Draw your signature first." {
		t.Errorf("pressing without a drawing says %q", msg)
	}
	if loc := get(t, ctx, "location", chromedp.Location()); loc != href {
		t.Errorf("pressing without a drawing went to %s", loc)
	}

	drawSignature(t, ctx, `canvas.pad`)
	step(t, ctx, "go to the provider", chromedp.Click(chromedp.CSS(button)))
	dexLogin(t, ctx, user.Email, user.Password)
	waitForRedirect(t, ctx, done.URL+"/done?status=success")

	// The application reads one composite signature: the login and the drawing.
	resp, _ := s.graphql(t, s.writeKey.basic(), `query($id: ID!) { signatureOrder(id: $id) { signatories { status }
		documents { ... on PdfDocument { form { fields { field value } } }
			signatures { __typename ... on CompositeSignature { signatures { __typename
				... on JWTSignature { claims { name value } } ... on DrawableSignature { name image } } } } } } }`,
		map[string]any{"id": orderID})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("signatureOrder: %s", msg)
	}
	type part struct {
		Typename string `json:"__typename"`
		Claims   []struct{ Name, Value string }
		Name     string
		Image    string
	}
	var read struct {
		SignatureOrder struct {
			Signatories []struct{ Status string }
			Documents   []struct {
				Form struct {
					Fields []struct{ Field, Value string }
				}
				Signatures []struct {
					Typename   string `json:"__typename"`
					Signatures []part
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
	d := read.SignatureOrder.Documents[0]
	if len(d.Signatures) != 1 || d.Signatures[0].Typename != "CompositeSignature" || len(d.Signatures[0].Signatures) != 2 {
		t.Fatalf("signatures %+v, want one CompositeSignature of two", d.Signatures)
	}
	jwt, drawn := d.Signatures[0].Signatures[0], d.Signatures[0].Signatures[1]
	claims := map[string]string{}
	for _, c := range jwt.Claims {
		claims[c.Name] = c.Value
	}
	if jwt.Typename != "JWTSignature" || claims["email"] != user.Email || claims["iss"] != dex.Issuer {
		t.Errorf("first part %s with claims %v, want Dex's ID token for %s", jwt.Typename, claims, user.Email)
	}
	if drawn.Typename != "DrawableSignature" || drawn.Name != "Ada Drawn" {
		t.Errorf("second part %s named %q, want the drawing named Ada Drawn", drawn.Typename, drawn.Name)
	}
	if img, err := base64.StdEncoding.DecodeString(drawn.Image); err != nil || len(img) < 8 || string(img[1:4]) != "PNG" {
		t.Errorf("the drawing is not a PNG (%d bytes, %v)", len(img), err)
	}
	var name string
	for _, f := range d.Form.Fields {
		if f.Field == "name" {
			name = f.Value
		}
	}
	if name != "Åse Łukasz" {
		t.Errorf("the form's name after the signature is %q, want what was typed before the login", name)
	}

	// Close and check the PDF with independent validators.
	resp, _ = s.graphql(t, s.writeKey.basic(), `mutation($id: ID!) { closeSignatureOrder(input: {signatureOrderId: $id}) {
		signatureOrder { documents { blob } } } }`, map[string]any{"id": orderID})
	if msg := resp.firstError(); msg != "" {
		t.Fatalf("closeSignatureOrder: %s", msg)
	}
	var closed struct {
		CloseSignatureOrder struct {
			SignatureOrder struct {
				Documents []struct{ Blob string }
			}
		}
	}
	if err := json.Unmarshal(resp.Data, &closed); err != nil || len(closed.CloseSignatureOrder.SignatureOrder.Documents) != 1 {
		t.Fatalf("closed order: %s (%v)", resp.Data, err)
	}
	pdf, err := base64.StdEncoding.DecodeString(closed.CloseSignatureOrder.SignatureOrder.Documents[0].Blob)
	if err != nil {
		t.Fatal(err)
	}
	// Not assertSealedPDFs: pdfcpu refuses the document's own empty signature field (pdftest.Form's
	// Signature1, without /V) before it looks at ours.
	caFile := filepath.Join(s.env["DATA_DIR"], "pki", "ca.crt")
	nss := t.TempDir() // an NSS database trusting the server's (local, not public) CA
	for _, args := range [][]string{{"-N", "-d", "sql:" + nss, "--empty-password"}, {"-A", "-d", "sql:" + nss, "-n", "esign", "-t", "CT,C,C", "-i", caFile}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	pdfFile := filepath.Join(t.TempDir(), "application.pdf")
	if err := os.WriteFile(pdfFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", pdfFile).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
	report, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, pdfFile).CombinedOutput()
	if n := strings.Count(string(report), "Signature is Valid."); n != 1 || !strings.Contains(string(report), "Certificate is Trusted.") {
		t.Errorf("pdfsig: %d valid, want the composite signature, trusted\n%s", n, report)
	}
	pdftest.RequireOpenSSLValid(t, pdf, caFile, 1, 1)
}
