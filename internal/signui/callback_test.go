package signui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/signing"
)

const (
	fakeToken   = "TOKEN-of-the-signatory-0123456789"
	fakeBrowser = "browser-binding-of-the-login-start"
)

// fakeSigning is the signing service of one signatory with one VIEW login in progress.
type fakeSigning struct {
	Signing  // the methods a test does not expect panic
	resolved int
	loginErr error
}

func (f *fakeSigning) LoginState(state string) (evidence.LoginPurpose, error) {
	if state != "the-state" {
		return evidence.LoginPurpose{}, fault.Invalid("state", "is not a login state of this service")
	}
	return evidence.LoginPurpose{OrderID: "o1", SignatoryID: "s1", ProviderID: "p1", Stage: order.EvidenceStageView, Browser: fakeBrowser}, nil
}

func (f *fakeSigning) SignatoryToken(string) string { return fakeToken }

func (f *fakeSigning) AuthenticateSignatory(_ context.Context, token string) (signing.SignatoryPrincipal, bool, error) {
	f.resolved++
	return signing.SignatoryPrincipal{OrderID: "o1", SignatoryID: "s1"}, token == fakeToken, nil
}

func (f *fakeSigning) SignatoryView(_ context.Context, sp signing.SignatoryPrincipal) (order.SignatoryView, error) {
	now := time.Now()
	o := &order.SignatureOrder{ID: "o1", Status: order.StatusOpen, ExpiresAt: now.Add(time.Hour),
		EvidenceValidationStages: []string{order.EvidenceStageView},
		Signatories:              []order.Signatory{{ID: "s1", Status: order.SignatoryOpen, SignatoryRole: order.RoleSigner}}}
	return o.ViewOf(&o.Signatories[0], now, sp.ViewValidated), nil
}

func (f *fakeSigning) CompleteViewLogin(context.Context, signing.SignatoryPrincipal, signing.LoginCode, string) (string, string, error) {
	if f.loginErr != nil {
		return "", "", f.loginErr
	}
	return "p1", "a.b.c", nil
}

// TestCallbackNeedsTheBrowserBinding runs the callback behind a real HTTP server: without the
// cookie set where the login started (or with another one), the state alone is refused before
// the signatory is resolved, and no answer of the callback that is not a redirect of the bound
// browser carries the signatory's token.
func TestCallbackNeedsTheBrowserBinding(t *testing.T) {
	f := &fakeSigning{}
	h, err := New(f, "http://esign.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(query url.Values, cookie string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sign/callback?"+query.Encode(), nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: browserCookie, Value: cookie})
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	noToken := func(name string, resp *http.Response, body string) {
		t.Helper()
		if strings.Contains(body, fakeToken) || strings.Contains(resp.Header.Get("Location"), fakeToken) {
			t.Errorf("%s: the answer (HTTP %d, Location %q) carries the token:\n%s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}

	for _, tc := range []struct{ name, cookie string }{{"no cookie", ""}, {"another browser's cookie", "someone-else"}} {
		for _, q := range []url.Values{{"state": {"the-state"}, "error": {"access_denied"}}, {"state": {"the-state"}, "code": {"c"}}} {
			f.resolved = 0
			resp, body := get(q, tc.cookie)
			noToken(tc.name, resp, body)
			if resp.StatusCode != http.StatusForbidden || f.resolved != 0 {
				t.Errorf("%s, %v: HTTP %d, signatory resolved %d times; want 403 before resolving", tc.name, q, resp.StatusCode, f.resolved)
			}
		}
	}
	resp, body := get(url.Values{"state": {"forged"}, "error": {"x"}}, fakeBrowser)
	noToken("a forged state", resp, body)

	// A refused login (the ID token names someone else) says so without the signatory's forms.
	f.loginErr = fault.Invalid("evidenceValidation", "the login does not match this signatory")
	resp, body = get(url.Values{"state": {"the-state"}, "code": {"c"}}, fakeBrowser)
	noToken("a refused login", resp, body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="error"`) || !strings.Contains(body, "does not match this signatory") {
		t.Errorf("a refused login: HTTP %d\n%s", resp.StatusCode, body)
	}
	f.loginErr = errors.New("database on fire")
	resp, body = get(url.Values{"state": {"the-state"}, "code": {"c"}}, fakeBrowser)
	noToken("a failed login", resp, body)
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("a failed login: HTTP %d, want 500", resp.StatusCode)
	}
	// A dependency that could not be reached says so (retrying helps), not "something went wrong".
	f.loginErr = fmt.Errorf("complete login: %w", &fault.Unavailable{Dependency: "the database"})
	resp, body = get(url.Values{"state": {"the-state"}, "code": {"c"}}, fakeBrowser)
	noToken("a login during an outage", resp, body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable for a moment and nothing was changed") {
		t.Errorf("a login during an outage: HTTP %d\n%s", resp.StatusCode, body)
	}

	// The bound browser goes back to its page, as before.
	f.loginErr = nil
	resp, _ = get(url.Values{"state": {"the-state"}, "error": {"access_denied"}}, fakeBrowser)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign/"+fakeToken {
		t.Errorf("the bound browser cancelling: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = get(url.Values{"state": {"the-state"}, "code": {"c"}}, fakeBrowser)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sign/"+fakeToken {
		t.Errorf("the bound browser's login: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
