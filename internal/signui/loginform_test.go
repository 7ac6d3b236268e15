package signui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/order"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
	"esign/internal/pdf/seal"
	"esign/internal/pki/pkitest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/signui"
	"esign/internal/tenant"
)

// loginIdP is an OpenID provider with a token endpoint: discovery and tokens of its own, keys
// and signatures of oidctest's issuer. The ID token carries the nonce of the last authorization
// URL it was given.
type loginIdP struct {
	srv    *httptest.Server
	keys   *oidctest.Issuer
	mu     sync.Mutex
	nonce  string
	tokens int
}

func newLoginIdP(t *testing.T) *loginIdP {
	idp := &loginIdP{keys: oidctest.NewIssuer(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": idp.srv.URL, "jwks_uri": idp.keys.URL() + "/jwks",
			"authorization_endpoint": idp.srv.URL + "/auth", "token_endpoint": idp.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		idp.mu.Lock()
		idp.tokens++
		nonce := idp.nonce
		idp.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600,
			"id_token": idp.keys.Token(t, nil, map[string]any{"iss": idp.srv.URL, "nonce": nonce})})
	})
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	return idp
}

// loginService is the real service on SQLite, a blob folder and key files (in dir), whose logins
// and ID tokens are checked for real (a login IdP of newLoginIdP answers them) and whose documents
// sealer seals.
func loginService(t *testing.T, sealer signing.DocumentSealer) (svc *signing.Service, dir string) {
	t.Helper()
	verifier := evidence.NewJWTVerifier(5*time.Second, true)
	login, err := evidence.NewLogin(verifier, bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	st, blobs := signingtest.Embedded(t, dir)
	return signingtest.New(st, blobs, signingtest.FileKeys(t, dir), signing.Config{Login: login, JWT: verifier, Sealer: sealer}), dir
}

// realSealer is the PAdES sealer with a test PKI's seal key and TSA.
func realSealer(t *testing.T) *seal.Sealer {
	pki := pkitest.New(t)
	return &seal.Sealer{Key: pades.Key{Signer: pki.Seal.Signer, Chain: pki.Seal.Chain}, TSA: pki.TSA}
}

const loginFormMarker = "Grace-Hopper-typed-before-login-7f3a"

// TestFormValuesSurviveASignLogin: values typed into the document form before choosing an OIDC
// provider are posted to the login start, kept on the server (encrypted: the SQLite file does not
// hold them), and signed into the document by the callback; a second callback with the same
// state finds them gone and says so instead of signing without them.
func TestFormValuesSurviveASignLogin(t *testing.T) {
	ctx := context.Background()
	idp := newLoginIdP(t)
	svc, dir := loginService(t, realSealer(t))
	p := signingtest.Principal(t, svc, "app", tenant.KeyReadWrite)
	enabled := true
	o, err := svc.CreateOrder(ctx, p, order.Draft{
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Application", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Form(t), FormEnabled: &enabled}},
		EvidenceProviders: []order.EvidenceProvider{{Kind: order.ProviderOIDC, EnabledByDefault: true,
			OIDC: &order.OIDCProvider{Name: "Test ID", Domain: idp.srv.URL, ClientID: "client-1", Audience: "client-1"}}},
		Signatories: []order.SignatoryDraft{{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, provider := o.Documents[0].ID, o.EvidenceProviders[0].ID
	token := svc.SignatoryToken(o.Signatories[0].ID)
	sp, ok, err := svc.AuthenticateSignatory(ctx, token)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, _, err := svc.SetDocumentStatus(ctx, sp, doc, order.DocumentApproved); err != nil {
		t.Fatal(err)
	}
	h, err := signui.New(svc, "https://sign.example", signingtest.Discard())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "/sign/" + token

	// The page offers the login as a button of the form.
	if body := getPage(t, srv, base); !strings.Contains(body, `name="login" value="`+provider+`"`) {
		t.Fatalf("the login provider is not a button of the document form:\n%s", body)
	}
	form := url.Values{"login": {provider}, "formdoc": {doc}, "form:" + url.QueryEscape(doc) + ":name": {loginFormMarker},
		"form:" + url.QueryEscape(doc) + ":agree": {"true"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// A form post cannot be redirected to the provider (the page's CSP form-action): the answer is
	// a page that navigates there.
	m := regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("login start: HTTP %d, no refresh to the provider:\n%s", resp.StatusCode, page)
	}
	auth, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil || !strings.HasPrefix(auth.String(), idp.srv.URL+"/auth") || !bytes.Contains(page, []byte(`<a href="`+string(m[1])+`">`)) {
		t.Fatalf("login start goes to %q, want the provider's authorization endpoint (and a link to it)", m[1])
	}
	if strings.Contains(auth.String(), loginFormMarker) || strings.Contains(resp.Header.Get("Set-Cookie"), loginFormMarker) {
		t.Error("the typed value travels in the authorization URL or a cookie")
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
	// Kept, and not in clear text anywhere under the service's folder (the SQLite file and its WAL).
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(loginFormMarker)) {
				t.Errorf("%s holds the typed value in clear text", path)
			}
		}
		return nil
	})

	idp.mu.Lock()
	idp.nonce = auth.Query().Get("nonce")
	idp.mu.Unlock()
	callback := func() (*http.Response, string) {
		t.Helper()
		q := url.Values{"code": {"the-code"}, "state": {auth.Query().Get("state")}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sign/callback?"+q.Encode(), nil)
		req.AddCookie(browser)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := callback()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: HTTP %d\n%s", resp.StatusCode, body)
	}
	b, err := svc.SignatoryDocumentBytes(ctx, sp, doc)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := svc.FormFields(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fields {
		got[f.Name] = f.Value
	}
	if got["name"] != loginFormMarker || got["agree"] != "true" {
		t.Errorf("the signed document's form: %v; want name %q and agree true", got, loginFormMarker)
	}

	// The same state again: the values were taken; the callback says so (and exchanges no code).
	idp.mu.Lock()
	before := idp.tokens
	idp.mu.Unlock()
	resp, body = callback()
	idp.mu.Lock()
	after := idp.tokens
	idp.mu.Unlock()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no longer kept") || after != before {
		t.Errorf("a second callback: HTTP %d, %d code exchanges\n%s", resp.StatusCode, after-before, body)
	}
}
