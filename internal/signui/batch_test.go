package signui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

// lineSealer stands in for the PAdES sealer: it appends a line naming the signature.
type lineSealer struct{}

func (lineSealer) Seal(_ context.Context, pdf []byte, req seal.Request) ([]byte, error) {
	return append(bytes.Clone(pdf), fmt.Sprintf("\n%% sealed by %s\n", req.SignatoryName)...), nil
}

type batchFixture struct {
	srv    *httptest.Server
	svc    *signing.Service
	p      signing.Principal
	orders []*order.SignatureOrder
	base   string
}

// batchPage is a batch over the signers of three orders (drawable with a name, and noop; one
// document each, two for the first) behind the page's handler.
func batchPage(t *testing.T) batchFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	svc := signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Sealer: lineSealer{}})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	f := batchFixture{svc: svc, p: p}
	var items []order.BatchItem
	for i, docs := range []int{2, 1, 1} {
		title := fmt.Sprintf("Contract %d", i+1)
		d := order.Draft{Title: &title,
			EvidenceProviders: []order.EvidenceProvider{
				{EnabledByDefault: true, Drawable: &order.DrawableProvider{RequireName: true}},
				{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}},
			},
			Signatories: []order.SignatoryDraft{{}},
		}
		for j := 0; j < docs; j++ {
			d.Documents = append(d.Documents, order.DocumentDraft{Kind: order.DocumentPDF, Title: fmt.Sprintf("Doc %d.%d", i+1, j+1),
				StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)})
		}
		o, err := svc.CreateOrder(ctx, p, d)
		if err != nil {
			t.Fatal(err)
		}
		f.orders = append(f.orders, o)
		items = append(items, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID})
	}
	b, err := svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := signui.New(svc, "https://sign.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.base = signui.BatchPath + svc.BatchSignatoryToken(b.ID)
	return f
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postBatch(t *testing.T, srv *httptest.Server, path string, form url.Values, site string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", site)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestBatchPage(t *testing.T) {
	f := batchPage(t)
	ctx := context.Background()

	resp, err := http.Get(f.srv.URL + f.base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d\n%s", resp.StatusCode, page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", resp.Header)
	}
	// Every document of every order, each under its order's heading; signing waits for approval.
	for _, o := range f.orders {
		if !strings.Contains(page, *o.Title) {
			t.Errorf("no heading for %s", *o.Title)
		}
		for _, d := range o.Documents {
			if !strings.Contains(page, `data-src="`+f.base+"/documents/"+o.ID+"/"+d.ID+`"`) {
				t.Errorf("document %s of %s not shown", d.Title, *o.Title)
			}
		}
	}
	if !strings.Contains(page, "data-approve-all") || strings.Contains(page, "data-sign-all") {
		t.Fatalf("before approval:\n%s", page)
	}

	// A document of an item: the PDF, opened on the order's own trail.
	resp, err = http.Get(f.srv.URL + f.base + "/documents/" + f.orders[1].ID + "/" + f.orders[1].Documents[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF")) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("document: HTTP %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Another order's document through an item is not served.
	resp, _ = http.Get(f.srv.URL + f.base + "/documents/" + f.orders[1].ID + "/" + f.orders[0].Documents[0].ID)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another order's document: HTTP %d", resp.StatusCode)
	}
	resp, _ = http.Get(f.srv.URL + signui.BatchPath + "not-a-token")
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown token: HTTP %d", resp.StatusCode)
	}

	if resp, _ := postBatch(t, f.srv, f.base+"/approve", nil, "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site approval: HTTP %d", resp.StatusCode)
	}
	if resp, body := postBatch(t, f.srv, f.base+"/approve", nil, "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: HTTP %d\n%s", resp.StatusCode, body)
	}
	page = getPage(t, f.srv, f.base)
	if strings.Contains(page, "data-approve-all") || !strings.Contains(page, `data-sign-all="`+f.orders[0].EvidenceProviders[0].ID+`"`) {
		t.Fatalf("after approval:\n%s", page)
	}

	// The third order is cancelled before the person signs: reported, the others signed.
	if _, err := f.svc.CancelOrder(ctx, f.p, f.orders[2].ID); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"provider": {f.orders[0].EvidenceProviders[0].ID}, "name": {"Ada Lovelace"}}
	if resp, body := postBatch(t, f.srv, f.base+"/sign", form, "same-origin"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Draw your signature first") {
		t.Fatalf("without a drawing: HTTP %d", resp.StatusCode)
	}
	form.Set("image", "data:image/png;base64,"+base64.StdEncoding.EncodeToString(pngImage(t)))
	resp, page = postBatch(t, f.srv, f.base+"/sign", form, "same-origin")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign: HTTP %d\n%s", resp.StatusCode, page)
	}
	if n := strings.Count(page, "data-signed"); n != 2 || !strings.Contains(page, `data-item="2" data-failed`) ||
		!strings.Contains(page, "This signing has been cancelled.") || !strings.Contains(page, "Some signings were not signed") {
		t.Fatalf("outcome (%d signed):\n%s", n, page)
	}
	for _, o := range f.orders[:2] {
		got, err := f.svc.Order(ctx, f.p, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Signatories[0].Status != order.SignatorySigned {
			t.Errorf("%s: signatory %s", *o.Title, got.Signatories[0].Status)
		}
		for _, d := range got.Documents {
			b, err := f.svc.DocumentBytes(ctx, f.p, o.ID, d.ID)
			if err != nil || !bytes.Contains(b.Current, []byte("sealed by Ada Lovelace")) {
				t.Errorf("%s %s not sealed: %v", *o.Title, d.Title, err)
			}
		}
	}
	// Afterwards the page says nothing is left, with each item's status.
	page = getPage(t, f.srv, f.base)
	if !strings.Contains(page, "There is nothing left to sign here.") || strings.Count(page, "data-signed") != 2 || strings.Contains(page, "data-sign-all") {
		t.Fatalf("after signing:\n%s", page)
	}
}

// TestBatchPageSignsWithEIDLogin: the batch page offers the items' shared OIDC provider as a login
// form; its start (same-origin only) answers a page that navigates to the provider and binds the
// login to the browser; /sign/callback with that binding signs both orders with the one login and
// shows each item signed; the same callback again is refused without exchanging the code, on a
// page without the batch's token.
func TestBatchPageSignsWithEIDLogin(t *testing.T) {
	ctx := context.Background()
	idp := newLoginIdP(t)
	svc, _ := loginService(t, lineSealer{})
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	var orders []*order.SignatureOrder
	var items []order.BatchItem
	for i := range 2 {
		title := fmt.Sprintf("Contract %d", i+1)
		o, err := svc.CreateOrder(ctx, p, order.Draft{Title: &title,
			EvidenceProviders: []order.EvidenceProvider{
				{EnabledByDefault: true, OIDC: &order.OIDCProvider{Name: "Test ID", Domain: idp.srv.URL, ClientID: "client-1", Audience: "client-1"}},
				{EnabledByDefault: true, Noop: &order.NoopProvider{Name: "test"}},
			},
			Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: title, StorageMode: order.StorageModeTemporary,
				Data: pdftest.Make(t, 1, 0)}},
			Signatories: []order.SignatoryDraft{{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
		items = append(items, order.BatchItem{OrderID: o.ID, SignatoryID: o.Signatories[0].ID})
	}
	b, err := svc.CreateBatchSignatory(ctx, p, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	token := svc.BatchSignatoryToken(b.ID)
	base := signui.BatchPath + token
	h, err := signui.New(svc, "https://sign.example", signingtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if resp, body := postBatch(t, srv, base+"/approve", nil, "same-origin"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: HTTP %d\n%s", resp.StatusCode, body)
	}
	oidcID, noopID := orders[0].EvidenceProviders[0].ID, orders[0].EvidenceProviders[1].ID

	// Both kinds offered: the login as its own form posting to the login start.
	page := getPage(t, srv, base)
	if !strings.Contains(page, `<form method="post" action="`+base+`/login"`) || !strings.Contains(page, `name="login" value="`+oidcID+`" data-sign-login="`+oidcID+`">Sign with Test ID`) ||
		!strings.Contains(page, `data-sign-all="`+noopID+`"`) || strings.Contains(page, `data-sign-all="`+oidcID+`"`) {
		t.Fatalf("the batch page does not offer the login:\n%s", page)
	}
	if resp, _ := postBatch(t, srv, base+"/sign", url.Values{"provider": {oidcID}}, "same-origin"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the login provider through the sign form: HTTP %d", resp.StatusCode)
	}
	if resp, _ := postBatch(t, srv, base+"/login", url.Values{"login": {noopID}}, "same-origin"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a login with the noop provider: HTTP %d", resp.StatusCode)
	}
	if resp, _ := postBatch(t, srv, base+"/login", url.Values{"login": {oidcID}}, "cross-site"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site login start: HTTP %d", resp.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"/login", strings.NewReader(url.Values{"login": {oidcID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`).FindSubmatch(start)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login start: HTTP %d, no refresh to the provider:\n%s", resp.StatusCode, start)
	}
	auth, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil || !strings.HasPrefix(auth.String(), idp.srv.URL+"/auth") || auth.Query().Get("redirect_uri") != "https://sign.example/sign/callback" {
		t.Fatalf("login start goes to %q, want the provider's authorization endpoint with the signing page's callback", m[1])
	}
	var browser *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "esign_login" {
			browser = c
		}
	}
	if browser == nil || browser.Path != "/sign/" || !browser.HttpOnly {
		t.Fatalf("browser binding %+v, want an HttpOnly cookie for the callback's path", browser)
	}

	idp.mu.Lock()
	idp.nonce = auth.Query().Get("nonce")
	idp.mu.Unlock()
	exchanges := func() int {
		idp.mu.Lock()
		defer idp.mu.Unlock()
		return idp.tokens
	}
	callback := func(cookie *http.Cookie) (*http.Response, string) {
		t.Helper()
		q := url.Values{"code": {"the-code"}, "state": {auth.Query().Get("state")}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sign/callback?"+q.Encode(), nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	if resp, body := callback(nil); resp.StatusCode != http.StatusForbidden || strings.Contains(body, token) || exchanges() != 0 {
		t.Fatalf("a callback without the browser binding: HTTP %d, %d exchanges\n%s", resp.StatusCode, exchanges(), body)
	}

	resp, body := callback(browser)
	if resp.StatusCode != http.StatusOK || strings.Count(body, "data-signed") != 2 || !strings.Contains(body, "Thank you, you have signed every document you could.") {
		t.Fatalf("callback: HTTP %d\n%s", resp.StatusCode, body)
	}
	if exchanges() != 1 {
		t.Errorf("%d code exchanges, want one for both orders", exchanges())
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "esign_login" && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("the callback leaves the browser binding in place")
	}
	for _, o := range orders {
		got, err := svc.Order(ctx, p, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Signatories[0].Status != order.SignatorySigned {
			t.Errorf("%s: signatory %s", *o.Title, got.Signatories[0].Status)
		}
		doc, err := svc.DocumentBytes(ctx, p, o.ID, got.Documents[0].ID)
		if err != nil || !bytes.Contains(doc.Current, []byte("sealed by Ada Lovelace")) {
			t.Errorf("%s not sealed with the login's name: %v", *o.Title, err)
		}
	}

	// The same state again (say, a reload that kept the cookie): refused, the code not exchanged.
	resp, body = callback(browser)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "can sign now") || strings.Contains(body, token) || exchanges() != 1 {
		t.Errorf("a second callback: HTTP %d, %d exchanges\n%s", resp.StatusCode, exchanges(), body)
	}
}
