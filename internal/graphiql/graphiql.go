// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, entirely from the binary. The page,
// its bootstrap script and the React and GraphiQL browser builds are embedded, so the IDE works on a
// machine with no internet (gqlgen's stock playground loads from a CDN and stays on "Loading…").
//
// The vendored builds in assets/ are copied from tools/node_modules by scripts/graphiql-assets.sh
// and are not committed. Without them the package still builds, and the page answers 503 saying how
// to build them.
package graphiql

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// Path is where Handler expects to be mounted: mux.Handle(graphiql.Path, graphiql.Handler("/v1/graphql")).
// The page is served at Path and its files at Path+"assets/".
const Path = "/graphiql/"

// vendorFS holds the builds copied by scripts/graphiql-assets.sh; on a fresh clone only README.md.
//
//go:embed assets
var vendorFS embed.FS

// ownFS holds the page template and the bootstrap script and style written for this package. They
// are separate files and not inline so that the Content-Security-Policy can forbid inline scripts.
//
//go:embed page.html static
var ownFS embed.FS

// vendorFiles are the names in assets/ that are served; anything else there (README.md, a stray
// file) is not. The page needs the first four; the licenses are served beside them.
var vendorFiles = []string{
	"react.production.min.js",
	"react-dom.production.min.js",
	"graphiql.min.js",
	"graphiql.min.css",
	"react.LICENSE.txt",
	"react-dom.LICENSE.txt",
	"graphiql.LICENSE.txt",
}

// ownFiles are the names in static/ that are served.
var ownFiles = []string{"graphiql-init.js", "graphiql-page.css"}

// Handler serves GraphiQL for the GraphQL endpoint at endpoint (a path on the same origin such as
// "/v1/graphql", or an absolute URL). Mount it at Path.
func Handler(endpoint string) http.Handler {
	vendor, err := fs.Sub(vendorFS, "assets")
	if err != nil {
		// fs.Sub fails only for an invalid name, and "assets" is a constant.
		panic(fmt.Sprintf("graphiql: sub assets: %v", err))
	}
	h, err := newHandler(endpoint, vendor)
	if err != nil {
		// Only the embedded template and static files can fail here, and the tests render them.
		panic(fmt.Sprintf("graphiql: %v", err))
	}
	return http.StripPrefix(strings.TrimSuffix(Path, "/"), h)
}

// asset is one file served under assets/.
type asset struct {
	body        []byte
	contentType string
	etag        string // quoted strong ETag derived from the content
	version     string // the ?v= value the page uses, so that the URL changes with the content
}

type handler struct {
	assets  map[string]*asset
	missing []string // vendor files that were not built
	page    []byte   // the rendered page, or nil when files are missing
	csp     string
}

// newHandler builds the handler with the vendored files read from vendor, so that tests can give a
// folder with files missing. Paths it sees are relative to Path: "/" and "/assets/NAME".
func newHandler(endpoint string, vendor fs.FS) (*handler, error) {
	h := &handler{assets: make(map[string]*asset), csp: contentSecurityPolicy(endpoint)}
	for _, name := range vendorFiles {
		b, err := fs.ReadFile(vendor, name)
		if err != nil {
			h.missing = append(h.missing, name)
			continue
		}
		h.assets[name] = newAsset(name, b)
	}
	for _, name := range ownFiles {
		b, err := ownFS.ReadFile("static/" + name)
		if err != nil {
			return nil, fmt.Errorf("read static/%s: %w", name, err)
		}
		h.assets[name] = newAsset(name, b)
	}
	if len(h.missing) > 0 {
		return h, nil
	}
	page, err := renderPage(endpoint, h.assets)
	if err != nil {
		return nil, err
	}
	h.page = page
	return h, nil
}

func newAsset(name string, body []byte) *asset {
	sum := sha256.Sum256(body)
	version := base64.RawURLEncoding.EncodeToString(sum[:12])
	return &asset{
		body:        body,
		contentType: contentType(name),
		etag:        `"` + version + `"`,
		version:     version,
	}
}

// contentType is chosen from a fixed table rather than mime.TypeByExtension, whose answer depends
// on the host's mime files.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// pageData is what page.html is rendered with.
type pageData struct {
	Endpoint string
	Assets   map[string]string // name → versioned relative URL
}

func renderPage(endpoint string, assets map[string]*asset) ([]byte, error) {
	tmpl, err := template.ParseFS(ownFS, "page.html")
	if err != nil {
		return nil, fmt.Errorf("parse page.html: %w", err)
	}
	data := pageData{Endpoint: endpoint, Assets: make(map[string]string)}
	for name, a := range assets {
		// Relative to the page at Path, so the URLs hold wherever Path is mounted behind a proxy.
		data.Assets[name] = "assets/" + name + "?v=" + a.version
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render page.html: %w", err)
	}
	return buf.Bytes(), nil
}

// contentSecurityPolicy allows scripts and styles from the page's origin only. GraphiQL 3.8.3 runs
// without 'unsafe-eval' (the browser test loads it, runs queries and opens a dialog under this
// policy). style-src also allows inline styles because GraphiQL's dialogs (Radix, through
// react-remove-scroll) inject a <style> element with no way to give it a nonce; scripts get no such
// exception. Fonts and icons in graphiql.min.css are data: URLs. connect-src adds the endpoint's
// origin when it is not this one.
func contentSecurityPolicy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.Scheme != "" && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"font-src 'self' data:",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

func (h *handler) setSecurityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.setSecurityHeaders(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/" || p == "":
		h.servePage(w, r)
	case strings.HasPrefix(p, "/assets/"):
		h.serveAsset(w, r, strings.TrimPrefix(p, "/assets/"))
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	if h.page == nil {
		h.serveNotBuilt(w)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page names the current asset versions, so it must not be reused without asking.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
}

// notBuiltPage is plain HTML with no script or style, so it needs nothing from assets/.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL unavailable</title></head>
<body><h1>GraphiQL is unavailable</h1>
<p>GraphiQL assets were not built: run <code>make assets</code> (it runs <code>npm ci</code> in
<code>tools/</code> and <code>scripts/graphiql-assets.sh</code>), then build the binary again.</p>
<p>Missing: %s</p>
<p>The GraphQL API itself works without them.</p>
</body></html>
`

func (h *handler) serveNotBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprintf(w, notBuiltPage, template.HTMLEscapeString(strings.Join(h.missing, ", ")))
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok {
		for _, m := range h.missing {
			if m == name {
				h.serveNotBuilt(w)
				return
			}
		}
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("ETag", a.etag)
	if r.URL.Query().Get("v") == a.version {
		// The URL names this exact content, so it can be cached for good.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	// ServeContent answers If-None-Match with 304, and HEAD and Range requests.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
