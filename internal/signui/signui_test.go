package signui

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"esign/internal/order"
)

func TestContentSecurityPolicy(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name     string
		ui       order.UI
		contains []string
		excludes []string
	}{
		{"default", order.UI{}, []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"},
			[]string{"unsafe-inline", "unsafe-eval"}},
		{"integrator's logo, stylesheet and redirect", order.UI{Logo: &order.Logo{Src: "https://cdn.example.com/logo.png"},
			Stylesheet: str("https://styles.example.com/a.css"), SignatoryRedirectURI: str("https://app.example.com/done?x=1")},
			[]string{"img-src 'self' data: blob: https://cdn.example.com", "style-src 'self' https://styles.example.com", "form-action 'self' https://app.example.com"},
			[]string{"unsafe-inline"}},
		{"a non-http logo adds nothing", order.UI{Logo: &order.Logo{Src: "javascript:alert(1)"}}, []string{"img-src 'self' data: blob:;"},
			[]string{"javascript"}},
		// Stored before the API checked URLs strictly: nothing of them reaches the header.
		{"a stylesheet host with ';' injects no directive", order.UI{Stylesheet: str("https://evil.example;script-src-elem;x/a.css")},
			[]string{"style-src 'self'; img-src"}, []string{"evil", "script-src-elem"}},
		{"a logo host with ',' or a quote adds nothing", order.UI{Logo: &order.Logo{Src: "https://evil.example,'unsafe-inline'/l.png"}},
			[]string{"img-src 'self' data: blob:;"}, []string{"evil", "unsafe-inline"}},
		{"a redirect with user information adds nothing", order.UI{SignatoryRedirectURI: str("https://good.example@evil.example/")},
			[]string{"form-action 'self';"}, []string{"evil", "good"}},
		{"the origin keeps only scheme, host and port", order.UI{Stylesheet: str("https://styles.example.com:8443/a.css?x=1#y")},
			[]string{"style-src 'self' https://styles.example.com:8443;"}, []string{"a.css", "x=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			csp := contentSecurityPolicy(tt.ui)
			for _, c := range tt.contains {
				if !strings.Contains(csp, c) {
					t.Errorf("CSP %q lacks %q", csp, c)
				}
			}
			for _, c := range tt.excludes {
				if strings.Contains(csp, c) {
					t.Errorf("CSP %q has %q", csp, c)
				}
			}
		})
	}
}

func TestRedirectURI(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		uri, status, want string
	}{
		{"", "success", ""},
		{"https://app.example.com/done", "success", "https://app.example.com/done?status=success"},
		{"https://app.example.com/done?order=7", "rejected", "https://app.example.com/done?order=7&status=rejected"},
		{"https://app.example.com/done?status=old", "cancel", "https://app.example.com/done?status=cancel"},
		{"https://good.example@evil.example/", "success", ""},
		{"https://evil.example;x/", "success", ""},
	}
	for _, tt := range tests {
		ui := order.UI{}
		if tt.uri != "" {
			ui.SignatoryRedirectURI = str(tt.uri)
		}
		if got := redirectURI(ui, tt.status); got != tt.want {
			t.Errorf("redirectURI(%q, %q) = %q, want %q", tt.uri, tt.status, got, tt.want)
		}
	}
}

func TestDecodePNGDataURL(t *testing.T) {
	if _, err := decodePNGDataURL("data:image/jpeg;base64,AAAA"); err == nil {
		t.Error("a JPEG data URL was accepted")
	}
	if _, err := decodePNGDataURL("data:image/png;base64,%%%"); err == nil {
		t.Error("bad base64 was accepted")
	}
	if b, err := decodePNGDataURL("data:image/png;base64,iVBORw=="); err != nil || len(b) != 4 {
		t.Errorf("decode: %v %v", b, err)
	}
}

// renderPage renders the page as a signatory with this ui would see it, and its CSP.
func renderPage(t *testing.T, ui order.UI) (body, csp string) {
	t.Helper()
	h, err := New(nil, "https://sign.example", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	v := h.baseView(ui)
	v.Message = "m"
	h.write(rec, 200, "page.html", v, ui)
	if rec.Code != 200 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String(), rec.Header().Get("Content-Security-Policy")
}

// TestPageRendersDataLogos: the API accepts data: logos of raster images, so the page must show
// them (html/template alone turns any data: URL into "#ZgotmplZ").
func TestPageRendersDataLogos(t *testing.T) {
	png := "data:image/png;base64," + base64.StdEncoding.EncodeToString(append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 16)...))
	body, csp := renderPage(t, order.UI{Language: "EN_US", Logo: &order.Logo{Src: png}})
	if strings.Contains(body, "ZgotmplZ") || !strings.Contains(body, `src="`+png+`"`) {
		t.Errorf("the data: logo is not on the page:\n%s", body)
	}
	if !strings.Contains(csp, "img-src 'self' data:") {
		t.Errorf("CSP %q does not allow the data: logo", csp)
	}
	// What the API refuses is not shown either, should an older order hold it.
	for _, src := range []string{"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+", "data:text/html;base64,PHNjcmlwdD4=", "javascript:alert(1)"} {
		body, _ := renderPage(t, order.UI{Language: "EN_US", Logo: &order.Logo{Src: src}})
		if strings.Contains(body, `class="logo"`) || strings.Contains(body, "ZgotmplZ") {
			t.Errorf("logo %q rendered:\n%s", src, body)
		}
	}
	href := "https://brand.example.com/"
	body, _ = renderPage(t, order.UI{Language: "EN_US", Logo: &order.Logo{Src: "https://cdn.example.com/l.png", Href: &href}})
	if !strings.Contains(body, `<a href="https://brand.example.com/"`) || !strings.Contains(body, `src="https://cdn.example.com/l.png"`) {
		t.Errorf("an https logo with a link is not on the page:\n%s", body)
	}
}

func TestPageLeavesOutInjectedStylesheets(t *testing.T) {
	evil := "https://evil.example;script-src-elem;x/a.css"
	body, csp := renderPage(t, order.UI{Language: "EN_US", Stylesheet: &evil})
	if strings.Contains(body, "evil.example") || strings.Contains(csp, "evil") {
		t.Errorf("an injected stylesheet reached the page or its CSP %q", csp)
	}
	good := "https://styles.example.com/a.css"
	body, csp = renderPage(t, order.UI{Language: "EN_US", Stylesheet: &good})
	if !strings.Contains(body, `href="https://styles.example.com/a.css"`) || !strings.Contains(csp, "style-src 'self' https://styles.example.com;") {
		t.Errorf("the stylesheet is missing: CSP %q", csp)
	}
}
