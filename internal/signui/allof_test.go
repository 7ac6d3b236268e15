package signui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"html"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"esign/internal/evidence"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

const drawnNameMarker = "Drawn-Name-Before-Login-41c8"

// TestAllOfWithLoginOnThePage: an allOf provider with a login member is offered on the page as a
// sign form (with the pad when it has a drawable member) whose button posts to the login start;
// the drawing is refused there when missing, kept on the server otherwise (never in the URL or a
// cookie), and the callback signs once with the login and the drawing together, filling the
// document's form typed before. An allOf of a login and noop signs with the login alone.
func TestAllOfWithLoginOnThePage(t *testing.T) {
	ctx := context.Background()
	idp := newLoginIdP(t)
	svc, _ := loginService(t, realSealer(t))
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	oidc := func() *order.OIDCProvider {
		return &order.OIDCProvider{Name: "Test ID", Domain: idp.srv.URL, ClientID: "client-1", Audience: "client-1"}
	}
	enabled := true
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Application", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Form(t), FormEnabled: &enabled}},
		EvidenceProviders: []order.EvidenceProvider{
			{EnabledByDefault: true, AllOf: []order.EvidenceProvider{{OIDC: oidc()}, {Drawable: &order.DrawableProvider{RequireName: true}}}},
			{EnabledByDefault: true, AllOf: []order.EvidenceProvider{{OIDC: oidc()}, {Noop: &order.NoopProvider{Name: "test"}}}},
		},
		Signatories: []order.SignatoryDraft{{}, {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, drawID, noopID := o.Documents[0].ID, o.EvidenceProviders[0].ID, o.EvidenceProviders[1].ID
	h, err := signui.New(svc, "https://sign.example", signingtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// signatory approves the document and returns its principal and page.
	signatory := func(i int) (signing.SignatoryPrincipal, string) {
		token := svc.SignatoryToken(o.Signatories[i].ID)
		sp, ok, err := svc.AuthenticateSignatory(ctx, token)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if _, _, err := svc.SetDocumentStatus(ctx, sp, doc, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
		return sp, "/sign/" + token
	}
	post := func(base string, form url.Values) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	// loginAndCallback posts the sign form to the login start, follows the refresh page to the
	// provider (whose answer the test gives) and returns the callback's answer.
	loginAndCallback := func(base string, form url.Values) *http.Response {
		t.Helper()
		resp, page := post(base, form)
		m := regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`).FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("login start: HTTP %d, no refresh to the provider:\n%s", resp.StatusCode, page)
		}
		auth, err := url.Parse(html.UnescapeString(m[1]))
		if err != nil || !strings.HasPrefix(auth.String(), idp.srv.URL+"/auth") {
			t.Fatalf("login start goes to %q, want the provider's authorization endpoint", m[1])
		}
		if strings.Contains(auth.String(), drawnNameMarker) || strings.Contains(resp.Header.Get("Set-Cookie"), drawnNameMarker) ||
			len(auth.String()) > 2048 {
			t.Errorf("the drawing travels in the authorization URL or a cookie")
		}
		var browser *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "esign_login" {
				browser = c
			}
		}
		if browser == nil {
			t.Fatal("no browser-binding cookie")
		}
		idp.mu.Lock()
		idp.nonce = auth.Query().Get("nonce")
		idp.mu.Unlock()
		q := url.Values{"code": {"the-code"}, "state": {auth.Query().Get("state")}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sign/callback?"+q.Encode(), nil)
		req.AddCookie(browser)
		cb, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(cb.Body)
		cb.Body.Close()
		if cb.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: HTTP %d\n%s", cb.StatusCode, body)
		}
		return cb
	}
	// evidenceOf is the last signature's evidence on the document, read back from the PDF.
	evidenceOf := func(sp signing.SignatoryPrincipal) (evidence.Signature, signing.DocumentBytes) {
		t.Helper()
		b, err := svc.SignatoryDocumentBytes(ctx, sp, doc)
		if err != nil {
			t.Fatal(err)
		}
		sigs, err := svc.Signatures(ctx, b)
		if err != nil || len(sigs) == 0 {
			t.Fatalf("signatures: %v, %v", sigs, err)
		}
		last := sigs[len(sigs)-1]
		if last.SignatoryID != sp.SignatoryID {
			t.Fatalf("the last signature is %s's, want %s's", last.SignatoryID, sp.SignatoryID)
		}
		ev, err := evidence.ParseContactInfo(last.ContactInfo)
		if err != nil {
			t.Fatal(err)
		}
		return ev, b
	}
	partTypes := func(ev evidence.Signature) []string {
		var out []string
		for _, p := range ev.Parts {
			out = append(out, p.Type)
		}
		return out
	}

	t.Run("login and drawing", func(t *testing.T) {
		sp, base := signatory(0)
		page := getPage(t, srv, base)
		form := regexp.MustCompile(`(?s)<form method="post" action="` + regexp.QuoteMeta(base) + `/login" class="sign-form" data-provider="` +
			drawID + `".*?</form>`).FindString(page)
		if form == "" {
			t.Fatalf("no sign form for the allOf provider that posts to the login start:\n%s", page)
		}
		for _, want := range []string{`<canvas class="pad"`, `name="image"`, `name="login" value="` + drawID + `" data-allof-login="` + drawID + `"`,
			`Sign with Test ID</button>`, `name="formdoc" value="` + doc + `"`} {
			if !strings.Contains(form, want) {
				t.Errorf("the allOf sign form lacks %s:\n%s", want, form)
			}
		}
		if strings.Contains(form, "data-form-login") || strings.Contains(form, "data-sign=") {
			t.Errorf("the allOf button is marked as a login without drawing or as a plain sign:\n%s", form)
		}

		values := url.Values{"login": {drawID}, "provider": {drawID}, "name": {drawnNameMarker}, "formdoc": {doc},
			"form:" + url.QueryEscape(doc) + ":name": {"Typed Before Login"}}
		// Without a drawing: refused before leaving, with what was typed kept.
		if resp, body := post(base, values); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Draw your signature first.") ||
			!strings.Contains(body, "Typed Before Login") {
			t.Errorf("login start without a drawing: HTTP %d\n%s", resp.StatusCode, body)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 240, 90))); err != nil {
			t.Fatal(err)
		}
		values.Set("image", "data:image/png;base64,"+base64.StdEncoding.EncodeToString(buf.Bytes()))
		// Without the required name: refused at the start, by the drawable's rule.
		noName := url.Values{}
		for k, v := range values {
			noName[k] = v
		}
		noName.Set("name", "")
		if resp, body := post(base, noName); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "drawable.name") {
			t.Errorf("login start without the required name: HTTP %d\n%s", resp.StatusCode, body)
		}

		loginAndCallback(base, values)
		ev, b := evidenceOf(sp)
		types := partTypes(ev)
		if ev.Type != evidence.TypeComposite || len(types) != 2 || types[0] != evidence.TypeJWT || types[1] != evidence.TypeDrawable {
			t.Fatalf("evidence %s with parts %v, want a composite of a JWT and a drawing", ev.Type, types)
		}
		if d := ev.Parts[1]; d.Name == nil || *d.Name != drawnNameMarker || !bytes.Equal(d.Image, buf.Bytes()) {
			t.Errorf("the drawn part: name %v, %d image bytes; want the drawing posted", d.Name, len(d.Image))
		}
		fields, err := svc.FormFields(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if f.Name == "name" && f.Value != "Typed Before Login" {
				t.Errorf("the form's name is %q, want what was typed before the login", f.Value)
			}
		}
	})

	t.Run("login and noop", func(t *testing.T) {
		sp, base := signatory(1)
		page := getPage(t, srv, base)
		form := regexp.MustCompile(`(?s)<form method="post" action="` + regexp.QuoteMeta(base) + `/login" class="sign-form" data-provider="` +
			noopID + `".*?</form>`).FindString(page)
		if form == "" || strings.Contains(form, "<canvas") || !strings.Contains(form, `data-allof-login="`+noopID+`"`) {
			t.Fatalf("the allOf of a login and noop: want a sign form without a pad posting to the login start, got:\n%s", form)
		}
		loginAndCallback(base, url.Values{"login": {noopID}, "provider": {noopID}})
		ev, _ := evidenceOf(sp)
		if types := partTypes(ev); ev.Type != evidence.TypeComposite || len(types) != 1 || types[0] != evidence.TypeJWT {
			t.Errorf("evidence %s with parts %v, want a composite of the JWT alone (noop adds nothing)", ev.Type, types)
		}
	})
}
