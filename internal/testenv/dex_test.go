package testenv

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	os.Exit(Run(m))
}

// TestDexCodeFlowWithPKCE logs each user in at a real Dex purely over HTTP, as a browser would:
// authorization request with PKCE and a nonce, Dex's password form, the redirect back with a code,
// the code exchanged with the verifier, and the ID token verified against Dex's keys.
func TestDexCodeFlowWithPKCE(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Dex (and builds it on first use): not in -short")
	}
	callbacks := make(chan url.Values, 10)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbacks <- r.URL.Query()
		io.WriteString(w, "back at the relying party")
	}))
	t.Cleanup(rp.Close)
	redirectURI := rp.URL + "/callback"

	start := time.Now()
	dex := Dex(t, redirectURI)
	t.Logf("Dex (incl. a first-use build, if any) ready in %v at %s", time.Since(start).Round(time.Millisecond), dex.Issuer)
	if !strings.HasPrefix(dex.Issuer, "http://127.0.0.1:") || !strings.HasSuffix(dex.Issuer, "/dex") {
		t.Errorf("Issuer = %q", dex.Issuer)
	}
	if dex.ClientID == "" || len(dex.Users) < 2 {
		t.Fatalf("provider = %+v, want a client and at least two users", dex)
	}

	ctx := t.Context()
	provider, err := oidc.NewProvider(ctx, dex.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var discovery struct {
		Methods []string `json:"code_challenge_methods_supported"`
	}
	if err := provider.Claims(&discovery); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(discovery.Methods, " "), "S256") {
		t.Errorf("code_challenge_methods_supported = %v, want S256", discovery.Methods)
	}
	conf := &oauth2.Config{
		ClientID:    dex.ClientID,
		Endpoint:    provider.Endpoint(),
		RedirectURL: redirectURI,
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: client_id in the form, no secret
	verifier := provider.Verifier(&oidc.Config{ClientID: dex.ClientID})

	subjects := map[string]bool{}
	for _, user := range dex.Users {
		t.Run(user.Email, func(t *testing.T) {
			login := startDexLogin(t, conf)
			resp := login.submit(t, user.Email, user.Password)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), redirectURI+"?") {
				t.Fatalf("after the password form: %s at %s, want the redirect URI", resp.Status, resp.Request.URL)
			}
			var q url.Values
			select {
			case q = <-callbacks:
			default:
				t.Fatal("the redirect URI was not called")
			}
			if q.Get("state") != login.state {
				t.Errorf("state = %q, want %q", q.Get("state"), login.state)
			}
			code := q.Get("code")
			if code == "" {
				t.Fatalf("no code in the callback: %v", q)
			}

			tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(login.verifier))
			if err != nil {
				t.Fatalf("exchange the code: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			if raw == "" {
				t.Fatal("no id_token in the token response")
			}
			idToken, err := verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify the ID token: %v", err)
			}
			var claims map[string]any
			if err := idToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			t.Logf("ID token claims: %v", claims)
			want := map[string]any{
				"iss": dex.Issuer, "aud": dex.ClientID, "sub": user.Subject, "nonce": login.nonce,
				"email": user.Email, "email_verified": true, "name": user.Name,
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("claim %s = %v, want %v", k, claims[k], v)
				}
			}
			if idToken.Subject != user.Subject || idToken.Nonce != login.nonce {
				t.Errorf("token sub %q nonce %q, want %q %q", idToken.Subject, idToken.Nonce, user.Subject, login.nonce)
			}
			subjects[idToken.Subject] = true
		})
	}
	if len(subjects) != len(dex.Users) {
		t.Errorf("subjects %v: want one per user", subjects)
	}

	t.Run("code without verifier", func(t *testing.T) {
		login := startDexLogin(t, conf)
		login.submit(t, dex.Users[0].Email, dex.Users[0].Password)
		var q url.Values
		select {
		case q = <-callbacks:
		default:
			t.Fatal("the redirect URI was not called")
		}
		_, err := conf.Exchange(ctx, q.Get("code"))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("exchange without the verifier: %v, want invalid_grant", err)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		login := startDexLogin(t, conf)
		resp := login.submit(t, dex.Users[0].Email, "not-"+dex.Users[0].Password)
		if resp.StatusCode != http.StatusUnauthorized || strings.HasPrefix(resp.Request.URL.String(), redirectURI) {
			t.Errorf("wrong password: %s at %s, want 401 on Dex's form", resp.Status, resp.Request.URL)
		}
		if !strings.Contains(login.lastBody, `name="password"`) {
			t.Errorf("wrong password: the answer is not the password form again:\n%s", login.lastBody)
		}
		select {
		case q := <-callbacks:
			t.Errorf("the redirect URI was called after a wrong password: %v", q)
		default:
		}
	})

	t.Run("unregistered redirect URI", func(t *testing.T) {
		other := *conf
		other.RedirectURL = rp.URL + "/elsewhere"
		client := &http.Client{Jar: newJar(t)}
		resp, err := client.Get(other.AuthCodeURL("state", oidc.Nonce("nonce"),
			oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || strings.HasPrefix(resp.Request.URL.String(), rp.URL) {
			t.Errorf("unregistered redirect URI: %s at %s, want an error page at Dex", resp.Status, resp.Request.URL)
		}
		select {
		case q := <-callbacks:
			t.Errorf("the relying party was called: %v", q)
		default:
		}
	})
}

// dexLogin is an authorization request in progress, waiting at Dex's password form.
type dexLogin struct {
	client                 *http.Client
	form                   *url.URL // where the password form posts to
	state, nonce, verifier string
	lastBody               string
}

var formAction = regexp.MustCompile(`(?is)<form[^>]*\baction="([^"]*)"`)

// startDexLogin sends a browser to the authorization endpoint and follows Dex to its password form.
func startDexLogin(t *testing.T, conf *oauth2.Config) *dexLogin {
	t.Helper()
	l := &dexLogin{
		client:   &http.Client{Jar: newJar(t), Timeout: 30 * time.Second},
		state:    oauth2.GenerateVerifier(), // any unguessable string
		nonce:    oauth2.GenerateVerifier(),
		verifier: oauth2.GenerateVerifier(),
	}
	authURL := conf.AuthCodeURL(l.state, oidc.Nonce(l.nonce), oauth2.S256ChallengeOption(l.verifier))
	resp, body := l.do(t, func() (*http.Response, error) { return l.client.Get(authURL) })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the authorization URL: %s at %s:\n%s", resp.Status, resp.Request.URL, body)
	}
	m := formAction.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `name="login"`) || !strings.Contains(body, `name="password"`) {
		t.Fatalf("no password form at %s:\n%s", resp.Request.URL, body)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("form action %q: %v", m[1], err)
	}
	l.form = action
	return l
}

// submit posts the password form and follows Dex's redirects (to the redirect URI on success).
func (l *dexLogin) submit(t *testing.T, email, password string) *http.Response {
	t.Helper()
	resp, _ := l.do(t, func() (*http.Response, error) {
		return l.client.PostForm(l.form.String(), url.Values{"login": {email}, "password": {password}})
	})
	return resp
}

func (l *dexLogin) do(t *testing.T, req func() (*http.Response, error)) (*http.Response, string) {
	t.Helper()
	resp, err := req()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	l.lastBody = string(b)
	return resp, l.lastBody
}

func newJar(t *testing.T) *cookiejar.Jar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}
