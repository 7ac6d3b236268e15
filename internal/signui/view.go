package signui

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"esign/internal/i18n"
	"esign/internal/order"
)

// view is what page.html is rendered with.
type view struct {
	T          func(string) string
	Lang       string
	TitleKey   string            // the text key of the page's title
	Base       string            // the signatory's page, "/sign/<token>"
	Assets     map[string]string // name → versioned URL
	PDFJS      bool              // pdf.js is embedded (else documents are offered as downloads)
	Logo       *logo
	Stylesheet string

	Message  string // where things stand, when the signatory cannot act (translated)
	Error    string // what went wrong with the last action
	Continue string // signatoryRedirectUri, when finished

	Login     []provider // VIEW-stage login, before the documents are shown
	Documents []document
	Approve   bool // the signatory approves documents (SIGNER, APPROVER)
	SignReady bool // every document approved: show the signing choices
	Providers []provider
	Reject    bool   // rejection is allowed
	Cancel    string // where Cancel goes (enableCancel), "" for no button

	// Forms are the documents' own forms, filled in with the sign form of FormProvider (the first
	// provider whose choice is posted from this page) or, without one, a form of their own; the
	// login providers (FormLogins) are buttons of that form that post it to the login start. The
	// other providers posted from this page say they leave the forms as they are.
	Forms        []formDoc
	FormProvider string
	FormLogins   []provider
	Name         string // the drawn signature's name, as typed before a refused post
}

// logo is the integrator's logo as the page shows it. Src is a template.URL because html/template
// replaces any data: URL by "#ZgotmplZ"; baseView only puts one there that order.CheckDataLogo
// accepts (a PNG, JPEG, GIF or WebP image, never SVG) or an http(s) URL that order.ParseWebURL accepts.
type logo struct {
	Src  template.URL
	Href string
}

type document struct {
	ID, Title string
	Status    string // translated; "" when the signatory did nothing yet
	Approved  bool
	ViewOnly  bool // the signatory's role on it is VIEWER: it is not approved, rejected or signed
	URL       string
}

type provider struct {
	ID, Kind, Name      string
	LoginURL            string // oidc and criiptoVerify
	AllOfLogin          bool   // allOf with a login member: its sign form posts to the login start
	Draw                bool   // drawable, alone or in allOf
	RequireName         bool
	MinWidth, MinHeight int
	Message             string
	// FormNote says (translated) that signing with this provider leaves the documents' forms as
	// they are: the form is in another provider's sign form.
	FormNote string
	acr      string // the acr value LoginURL asks for
}

// render writes the signatory's page as things stand, with errMsg shown when an action failed.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, s *signatory, code int, errMsg string) {
	view := s.view
	ui := view.UI
	t := i18n.T(ui.Language)
	v := h.baseView(ui)
	v.Base, v.Error = s.base(), errMsg
	sig := view.Signatory
	if view.Blocked != order.BlockedNone {
		v.Message = t(blockedText[view.Blocked])
		switch view.Blocked {
		case order.BlockedRejected:
			v.Continue = redirectURI(ui, "rejected")
		case order.BlockedSigned, order.BlockedApproved:
			v.Continue = redirectURI(ui, "success")
		}
		h.write(w, code, "page.html", v, ui)
		return
	}
	if view.LoginNeeded {
		for _, p := range view.Providers {
			if lp := loginProviderView(p, s.base(), order.EvidenceStageView); lp.LoginURL != "" {
				v.Login = append(v.Login, lp)
			}
		}
		h.write(w, code, "page.html", v, ui)
		return
	}
	for _, vd := range view.Documents {
		d := vd.Document
		doc := document{ID: d.ID, Title: d.Title, URL: s.base() + "/documents/" + url.PathEscape(d.ID), Approved: vd.Approved(),
			ViewOnly: vd.Role == order.RoleViewer}
		if vd.Status != nil && documentStatusText[*vd.Status] != "" {
			doc.Status = t(documentStatusText[*vd.Status])
		}
		v.Documents = append(v.Documents, doc)
	}
	switch sig.SignatoryRole {
	case order.RoleViewer:
		v.Message = t("doneViewer")
	default:
		v.Approve = true
		v.Reject = !ui.DisableRejection
		if ui.EnableCancel {
			v.Cancel = redirectURI(ui, "cancel")
			if v.Cancel == "" {
				v.Cancel = s.base() + "?cancelled=1"
			}
		}
	}
	if sig.SignatoryRole == order.RoleSigner && view.AllApproved {
		v.SignReady = true
		for _, p := range view.Providers {
			v.Providers = append(v.Providers, signProviderView(p, s.base()))
		}
		h.addForms(r, s, &v)
	}
	if r.URL.Query().Get("cancelled") == "1" {
		v.Message = t("closeWindow")
	}
	h.write(w, code, "page.html", v, ui)
}

// blockedText is the text key of the message that says why the signatory cannot act.
var blockedText = map[order.Blocked]string{
	order.BlockedSigned:    "doneSigned",
	order.BlockedApproved:  "doneApproved",
	order.BlockedRejected:  "doneRejected",
	order.BlockedClosed:    "closed",
	order.BlockedCancelled: "cancelled",
	order.BlockedExpired:   "expired",
	order.BlockedNotOpen:   "closed",
	order.BlockedNotTurn:   "notTurn",
	order.BlockedCooldown:  "cooldown",
}

// documentStatusText is the text key of the signatory's status for a document; an OPENED
// document shows no status.
var documentStatusText = map[order.DocumentStatus]string{
	order.DocumentApproved:    "approved",
	order.DocumentPreapproved: "approved",
	order.DocumentRejected:    "rejected",
	order.DocumentSigned:      "signed",
}

func loginProviderView(p order.EvidenceProvider, base, stage string) provider {
	login := func(name string, acr []string, message *string) provider {
		q := url.Values{"provider": {p.ID}, "stage": {stage}}
		if len(acr) > 0 {
			q.Set("acr", acr[0])
		}
		v := provider{ID: p.ID, Kind: string(p.Kind), Name: name, LoginURL: base + "/login?" + q.Encode(), acr: q.Get("acr")}
		if message != nil {
			v.Message = *message
		}
		return v
	}
	switch {
	case p.OIDC != nil:
		return login(p.OIDC.Name, p.OIDC.AcrValues, nil)
	case p.CriiptoVerify != nil:
		return login("eID", p.CriiptoVerify.AcrValues, p.CriiptoVerify.Message)
	}
	return provider{}
}

func signProviderView(p order.EvidenceProvider, base string) provider {
	if lp := loginProviderView(p, base, order.EvidenceStageSign); lp.LoginURL != "" {
		return lp
	}
	v := provider{ID: p.ID, Kind: string(p.Kind)}
	draw := func(d *order.DrawableProvider) {
		v.Draw, v.RequireName = true, d.RequireName
		if d.MinimumWidth != nil {
			v.MinWidth = *d.MinimumWidth
		}
		if d.MinimumHeight != nil {
			v.MinHeight = *d.MinimumHeight
		}
	}
	switch p.Kind {
	case order.ProviderNoop:
		v.Name = p.Noop.Name
	case order.ProviderDrawable:
		draw(p.Drawable)
	case order.ProviderAllOf:
		for _, sub := range p.AllOf {
			switch {
			case sub.Drawable != nil:
				draw(sub.Drawable)
			case sub.OIDC != nil || sub.CriiptoVerify != nil:
				// The drawing cannot go through the provider's redirect: the sign form posts it to
				// the login start, which keeps it on the server for the callback
				// (signing.LoginStart.Drawing).
				lp := loginProviderView(sub, base, order.EvidenceStageSign)
				v.AllOfLogin, v.Name, v.Message, v.acr = true, lp.Name, lp.Message, lp.acr
			}
		}
	}
	return v
}

// status writes a page that only says where things stand (an invalid link, an error).
func (h *Handler) status(w http.ResponseWriter, r *http.Request, s *signatory, code int, key string) {
	ui := order.UI{Language: "EN_US"}
	if s != nil {
		ui = s.ui()
	}
	v := h.baseView(ui)
	v.Message = i18n.T(ui.Language)(key)
	h.write(w, code, "page.html", v, ui)
}

func (h *Handler) baseView(ui order.UI) view {
	v := view{T: i18n.T(ui.Language), Lang: i18n.HTML(ui.Language), TitleKey: "title", Assets: h.assets.urls, PDFJS: h.assets.pdfjs, Logo: logoView(ui.Logo)}
	if v.Lang == "" {
		v.Lang = "en"
	}
	// The API refuses URLs that are not strict; orders stored before it did are re-checked here
	// and their URLs left out rather than shown.
	if ui.Stylesheet != nil && webURL(*ui.Stylesheet) {
		v.Stylesheet = *ui.Stylesheet
	}
	return v
}

func webURL(raw string) bool {
	_, err := order.ParseWebURL(raw)
	return err == nil
}

func logoView(l *order.Logo) *logo {
	if l == nil {
		return nil
	}
	shown := webURL(l.Src)
	if strings.HasPrefix(l.Src, "data:") {
		shown = order.CheckDataLogo("", l.Src) == nil
	}
	if !shown {
		return nil
	}
	out := logo{Src: template.URL(l.Src)}
	if l.Href != nil && webURL(*l.Href) {
		out.Href = *l.Href
	}
	return &out
}

// write renders template name with v (the signing, download or batch page's view) under the
// signing page's headers and CSP.
func (h *Handler) write(w http.ResponseWriter, code int, name string, v any, ui order.UI) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, v); err != nil {
		h.log.Error("render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	securityHeaders(w, contentSecurityPolicy(ui))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// contentSecurityPolicy allows the page's own scripts, styles and workers only (no inline script or
// style, no eval), plus the integrator's logo and stylesheet origins. Forms post to this origin; a
// finished signing may redirect to signatoryRedirectUri's origin. img-src has data: for data: logos
// (only raster images pass order.CheckDataLogo) and blob: for the drawn signature.
func contentSecurityPolicy(ui order.UI) string {
	img, style, form := "'self' data: blob:", "'self'", "'self'"
	if ui.Logo != nil {
		img += originOf(ui.Logo.Src)
	}
	if ui.Stylesheet != nil {
		style += originOf(*ui.Stylesheet)
	}
	if ui.SignatoryRedirectURI != nil {
		form += originOf(*ui.SignatoryRedirectURI)
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"worker-src 'self'",
		"style-src " + style,
		"img-src " + img,
		"font-src 'self'",
		"connect-src 'self'",
		"form-action " + form,
		"base-uri 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// originOf is " scheme://host[:port]" of a URL that passes order.ParseWebURL, else "". The source
// expression is re-serialised from the parsed host and port, never copied from the input: url.Parse
// accepts ';' in a host, which would end the directive and start the caller's own.
func originOf(raw string) string {
	origin, ok := order.Origin(raw)
	if !ok {
		return ""
	}
	return " " + origin
}

func securityHeaders(w http.ResponseWriter, csp string) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
}

// assets are the page's static files: its own (static/) and pdf.js (assets/pdfjs/, when built).
type assets struct {
	files map[string]*asset
	urls  map[string]string
	pdfjs bool
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

func loadAssets(own, vendor fs.FS) (*assets, error) {
	a := &assets{files: map[string]*asset{}, urls: map[string]string{}}
	add := func(fsys fs.FS, name string) error {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		version := base64.RawURLEncoding.EncodeToString(sum[:12])
		a.files[name] = &asset{body: b, contentType: contentType(name), etag: `"` + version + `"`}
		a.urls[name] = AssetsPath + name + "?v=" + version
		return nil
	}
	for _, name := range []string{"signui.css", "signui.js", "viewer.mjs"} {
		if err := add(own, name); err != nil {
			return nil, fmt.Errorf("signing page asset %s: %w", name, err)
		}
	}
	// pdf.js is optional: a fresh clone without `make assets` still builds, and offers downloads.
	a.pdfjs = true
	err := fs.WalkDir(vendor, "pdfjs", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		return add(vendor, p)
	})
	if err != nil || a.files["pdfjs/pdf.min.mjs"] == nil || a.files["pdfjs/pdf.worker.min.mjs"] == nil {
		a.pdfjs = false
	}
	return a, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".ttf":
		return "font/ttf"
	default:
		return "application/octet-stream"
	}
}

func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(f.body)
}
