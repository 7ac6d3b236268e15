package graphiql

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"esign/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m))
}

// requireAssets fails the test when scripts/graphiql-assets.sh has not been run: the tests that
// need the real GraphiQL build cannot say anything without it.
func requireAssets(t *testing.T) {
	t.Helper()
	for _, name := range vendorFiles {
		if _, err := fs.Stat(vendorFS, "assets/"+name); err != nil {
			t.Fatalf("GraphiQL assets are not built (%s missing): run `make assets` or `bash scripts/graphiql-assets.sh`", name)
		}
	}
}

// newServer serves Handler at Path, as the service mounts it, plus anything in extra.
func newServer(t *testing.T, h http.Handler, extra map[string]http.Handler) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	for pattern, eh := range extra {
		mux.Handle(pattern, eh)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(body)
}

// cspDirectives splits a Content-Security-Policy into directive name → sources.
func cspDirectives(policy string) map[string][]string {
	out := make(map[string][]string)
	for _, d := range strings.Split(policy, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			out[fields[0]] = fields[1:]
		}
	}
	return out
}

func TestPageHeaders(t *testing.T) {
	requireAssets(t)
	srv := newServer(t, Handler("/v1/graphql"), nil)

	resp, body := get(t, srv.URL+Path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %q", Path, resp.StatusCode, body)
	}
	for header, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-cache",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}

	csp := cspDirectives(resp.Header.Get("Content-Security-Policy"))
	for directive, want := range map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self' 'unsafe-inline'",
		"connect-src":     "'self'",
		"frame-ancestors": "'none'",
	} {
		if got := strings.Join(csp[directive], " "); got != want {
			t.Errorf("CSP %s = %q, want %q", directive, got, want)
		}
	}

	// No inline script: every <script> loads a file (the CSP would block an inline one).
	for _, m := range regexp.MustCompile(`<script([^>]*)>`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], `src="assets/`) {
			t.Errorf("script without an assets/ src: %s", m[0])
		}
	}
	for _, want := range []string{
		"esign apikey create --application NAME",
		"Basic base64(clientId:clientSecret)",
		`data-endpoint="/v1/graphql"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestContentSecurityPolicyConnectSrc(t *testing.T) {
	tests := []struct {
		endpoint string
		want     string
	}{
		{"/v1/graphql", "'self'"},
		{"https://api.example.test:8443/v1/graphql", "'self' https://api.example.test:8443"},
	}
	for _, tt := range tests {
		got := strings.Join(cspDirectives(contentSecurityPolicy(tt.endpoint))["connect-src"], " ")
		if got != tt.want {
			t.Errorf("endpoint %q: connect-src %q, want %q", tt.endpoint, got, tt.want)
		}
	}
}

func TestPageEscapesEndpoint(t *testing.T) {
	h, err := newHandler(`/x"><script>alert(1)</script>`, fullVendorFS())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h.page), "<script>alert(1)") {
		t.Errorf("endpoint is not escaped in the page:\n%s", h.page)
	}
}

// fullVendorFS has every vendor file with small stand-in contents.
func fullVendorFS() fstest.MapFS {
	m := fstest.MapFS{"README.md": {Data: []byte("readme")}}
	for _, name := range vendorFiles {
		m[name] = &fstest.MapFile{Data: []byte("/* " + name + " */")}
	}
	return m
}

func TestAssets(t *testing.T) {
	requireAssets(t)
	srv := newServer(t, Handler("/v1/graphql"), nil)
	_, page := get(t, srv.URL+Path, nil)

	// Every asset the page refers to, with the type it must be served as.
	refs := regexp.MustCompile(`(?:src|href)="(assets/([^"?]+)\?v=[^"]+)"`).FindAllStringSubmatch(page, -1)
	wantTypes := map[string]string{
		"react.production.min.js":     "text/javascript; charset=utf-8",
		"react-dom.production.min.js": "text/javascript; charset=utf-8",
		"graphiql.min.js":             "text/javascript; charset=utf-8",
		"graphiql-init.js":            "text/javascript; charset=utf-8",
		"graphiql.min.css":            "text/css; charset=utf-8",
		"graphiql-page.css":           "text/css; charset=utf-8",
	}
	seen := make(map[string]bool)
	for _, ref := range refs {
		url, name := srv.URL+Path+ref[1], ref[2]
		seen[name] = true
		want, ok := wantTypes[name]
		if !ok {
			t.Errorf("page refers to unexpected asset %s", name)
			continue
		}
		resp, body := get(t, url, nil)
		if resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Errorf("GET %s: status %d, %d bytes", ref[1], resp.StatusCode, len(body))
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
		if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q, want immutable", name, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no X-Content-Type-Options: nosniff", name)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", name)
			continue
		}
		resp, _ = get(t, url, http.Header{"If-None-Match": {etag}})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s: If-None-Match %s: status %d, want 304", name, etag, resp.StatusCode)
		}
	}
	for name := range wantTypes {
		if !seen[name] {
			t.Errorf("page does not load %s", name)
		}
	}

	// Without the version the URL may name any content, so the browser must revalidate.
	resp, _ := get(t, srv.URL+Path+"assets/graphiql.min.js", nil)
	if got := resp.Header.Get("Cache-Control"); resp.StatusCode != http.StatusOK || got != "no-cache" {
		t.Errorf("unversioned graphiql.min.js: status %d, Cache-Control %q, want 200 no-cache", resp.StatusCode, got)
	}
}

func TestServesOnlyKnownFiles(t *testing.T) {
	requireAssets(t)
	srv := newServer(t, Handler("/v1/graphql"), nil)
	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"assets/react.LICENSE.txt", http.StatusOK, "text/plain; charset=utf-8", "MIT License"},
		{"assets/react-dom.LICENSE.txt", http.StatusOK, "text/plain; charset=utf-8", "MIT License"},
		{"assets/graphiql.LICENSE.txt", http.StatusOK, "text/plain; charset=utf-8", "MIT License"},
		{"assets/README.md", http.StatusNotFound, "", ""},
		{"assets/.gitignore", http.StatusNotFound, "", ""},
		{"assets/graphiql.min.js.map", http.StatusNotFound, "", ""},
		{"assets/", http.StatusNotFound, "", ""},
		{"page.html", http.StatusNotFound, "", ""},
		{"static/graphiql-init.js", http.StatusNotFound, "", ""},
		{"graphiql.go", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		resp, body := get(t, srv.URL+Path+tt.path, nil)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("GET %s: status %d, want %d", tt.path, resp.StatusCode, tt.wantStatus)
			continue
		}
		if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, resp.Header.Get("Content-Type"), tt.wantType)
		}
		if !strings.HasPrefix(body, tt.wantBody) {
			t.Errorf("GET %s: body starts %.40q, want %q", tt.path, body, tt.wantBody)
		}
	}

	resp, err := http.Post(srv.URL+Path, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST %s: status %d, Allow %q, want 405 with GET, HEAD", Path, resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestAssetsNotBuilt(t *testing.T) {
	onlyCSS := fullVendorFS()
	delete(onlyCSS, "graphiql.min.css")
	tests := []struct {
		name        string
		vendor      fs.FS
		wantMissing string
	}{
		{"fresh clone", fstest.MapFS{"README.md": {Data: []byte("readme")}}, "graphiql.min.js"},
		{"one file missing", onlyCSS, "graphiql.min.css"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := newHandler("/v1/graphql", tt.vendor)
			if err != nil {
				t.Fatal(err)
			}
			srv := newServer(t, http.StripPrefix("/graphiql", h), nil)

			resp, body := get(t, srv.URL+Path, nil)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", resp.StatusCode)
			}
			if !strings.Contains(body, "GraphiQL assets were not built: run <code>make assets</code>") {
				t.Errorf("page does not say to run make assets:\n%s", body)
			}
			if !strings.Contains(body, tt.wantMissing) {
				t.Errorf("page does not name the missing %s:\n%s", tt.wantMissing, body)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Error("503 page has no Content-Security-Policy")
			}

			resp, _ = get(t, srv.URL+Path+"assets/"+tt.wantMissing, nil)
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("missing asset %s: status %d, want 503", tt.wantMissing, resp.StatusCode)
			}
		})
	}
}
