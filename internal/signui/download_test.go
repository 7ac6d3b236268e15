package signui_test

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

// lockedBuffer collects the handler's log lines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDownloadPage drives the hosted download page over HTTP on the real service: a drawn signature
// lists the signed document at once; an ID-token signature asks for a login (stage DOWNLOAD), whose
// callback keeps the ID token for the download paths and lists the document; a login by another
// person is refused and forgotten; opening the page raises SIGNATORY_DOWNLOAD_LINK_OPENED; the page
// has the signing page's headers and neither the log nor the callback's redirect carries a token.
func TestDownloadPage(t *testing.T) {
	ctx := context.Background()
	idp := newLoginIdP(t)
	svc, _ := loginService(t, realSealer(t))
	signedAt := time.Now().UTC().Add(-10 * time.Minute)
	clock := signedAt
	svc.Now = func() time.Time { return clock }
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", StorageMode: order.StorageModeTemporary, Data: pdftest.Make(t, 1, 0)}},
		EvidenceProviders: []order.EvidenceProvider{
			{Kind: order.ProviderDrawable, EnabledByDefault: true, Drawable: &order.DrawableProvider{}},
			{Kind: order.ProviderOIDC, EnabledByDefault: true, OIDC: &order.OIDCProvider{Name: "Test ID", Domain: idp.srv.URL, ClientID: "client-1", Audience: "client-1"}},
		},
		Signatories: []order.SignatoryDraft{{}, {}},
		Webhook:     &order.Webhook{URL: "https://hooks.example/esign"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, drawProvider, oidcProvider := o.Documents[0].ID, o.EvidenceProviders[0].ID, o.EvidenceProviders[1].ID
	drawer := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[0].ID}
	eid := signing.SignatoryPrincipal{OrderID: o.ID, SignatoryID: o.Signatories[1].ID}
	name := "Ada"
	signingJWT := idp.keys.Token(t, nil, map[string]any{"iss": idp.srv.URL, "iat": signedAt.Add(-time.Second).Unix()})
	for _, s := range []struct {
		sp signing.SignatoryPrincipal
		in signing.SignInput
	}{
		{drawer, signing.SignInput{ProviderID: drawProvider, Drawable: &signing.DrawableInput{Image: pngImage(t), Name: &name}}},
		{eid, signing.SignInput{ProviderID: oidcProvider, OIDCJWT: &signingJWT}},
	} {
		if _, _, err := svc.SetDocumentStatus(ctx, s.sp, doc, order.DocumentApproved); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Sign(ctx, s.sp, s.in); err != nil {
			t.Fatal(err)
		}
	}
	days := 1
	if _, err := svc.CloseOrder(ctx, p, o.ID, &days); err != nil {
		t.Fatal(err)
	}
	clock = time.Now().UTC()
	retained, err := svc.DocumentBytes(ctx, p, o.ID, doc)
	if err != nil || retained.Current == nil {
		t.Fatalf("retained document: %v", err)
	}

	logs := &lockedBuffer{}
	h, err := signui.New(svc, "https://sign.example", slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, cookies ...*http.Cookie) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	downloadLink := regexp.MustCompile(`href="([^"]+)" download data-download="` + regexp.QuoteMeta(doc) + `"`)
	fetchDocument := func(page string, cookies ...*http.Cookie) []byte {
		t.Helper()
		m := downloadLink.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no download link for the document:\n%s", page)
		}
		resp, body := get(html.UnescapeString(m[1]), cookies...)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename=Contract.pdf` {
			t.Fatalf("document: HTTP %d, headers %v", resp.StatusCode, resp.Header)
		}
		return []byte(body)
	}
	drawerBase := "/sign/" + svc.SignatoryToken(drawer.SignatoryID)
	eidToken := svc.SignatoryToken(eid.SignatoryID)
	eidBase := "/sign/" + eidToken

	t.Run("drawn signature: listed at once", func(t *testing.T) {
		resp, page := get(drawerBase + "/download")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("download page: HTTP %d, headers %v", resp.StatusCode, resp.Header)
		}
		if got := fetchDocument(page); !bytes.Equal(got, retained.Current) {
			t.Error("the downloaded bytes are not the retained signed document")
		}
		stored, _ := svc.Order(ctx, p, o.ID)
		if stored.Signatory(drawer.SignatoryID).DownloadLinkOpenedAt == nil || stored.Signatory(eid.SignatoryID).DownloadLinkOpenedAt != nil {
			t.Error("opening the download page is not recorded for that signatory (only)")
		}
	})

	t.Run("ID-token signature: a login, then the documents", func(t *testing.T) {
		resp, page := get(eidBase + "/download")
		m := regexp.MustCompile(`href="([^"]+)" data-download-login="` + regexp.QuoteMeta(oidcProvider) + `"`).FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil || downloadLink.MatchString(page) {
			t.Fatalf("download page before the login: HTTP %d\n%s", resp.StatusCode, page)
		}
		loginURL := html.UnescapeString(m[1])
		if !strings.Contains(loginURL, "stage="+order.LoginStageDownload) {
			t.Errorf("login link %q is not a download login", loginURL)
		}
		if resp, _ := get(eidBase + "/download/" + url.PathEscape(doc)); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("the document without the login: HTTP %d, want a redirect to the page", resp.StatusCode)
		}
		resp, _ = get(loginURL)
		auth, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(auth.String(), idp.srv.URL+"/auth") {
			t.Fatalf("login start: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
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
		resp, body := get("/sign/callback?"+q.Encode(), browser)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != eidBase+"/download" {
			t.Fatalf("callback: HTTP %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		var kept *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "esign_download" {
				kept = c
			}
		}
		if kept == nil || !kept.HttpOnly || kept.Path != eidBase+"/download" || !strings.HasPrefix(kept.Value, oidcProvider+":") {
			t.Fatalf("download login cookie %+v", kept)
		}
		_, page = get(eidBase+"/download", kept)
		if got := fetchDocument(page, kept); !bytes.Equal(got, retained.Current) {
			t.Error("the downloaded bytes are not the retained signed document")
		}
	})

	t.Run("a login by another person is refused and forgotten", func(t *testing.T) {
		other := &http.Cookie{Name: "esign_download", Value: oidcProvider + ":" +
			idp.keys.Token(t, nil, map[string]any{"iss": idp.srv.URL, "sub": "user-2"})}
		resp, page := get(eidBase+"/download", other)
		forgotten := false
		for _, c := range resp.Cookies() {
			forgotten = forgotten || (c.Name == "esign_download" && c.MaxAge < 0)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "not the person who signed") || downloadLink.MatchString(page) ||
			!strings.Contains(page, "data-download-login") || !forgotten {
			t.Fatalf("another person's login: HTTP %d, forgotten %v\n%s", resp.StatusCode, forgotten, page)
		}
	})

	t.Run("expired after the retention", func(t *testing.T) {
		clock = clock.Add(25 * time.Hour)
		defer func() { clock = time.Now().UTC() }()
		_, page := get(drawerBase + "/download")
		if !strings.Contains(page, "no longer available") || downloadLink.MatchString(page) {
			t.Errorf("download page after the retention:\n%s", page)
		}
	})

	if l := logs.String(); strings.Contains(l, eidToken) || strings.Contains(l, svc.SignatoryToken(drawer.SignatoryID)) {
		t.Errorf("a signatory token is in the log:\n%s", l)
	}
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 200, 80))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
