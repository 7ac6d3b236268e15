// Package signui is the hosted signing page behind each signatory's href (/sign/<token>): it shows
// the documents (pdf.js, vendored from npm and embedded), lets the signatory approve or reject them,
// choose an evidence provider and sign, and tells them clearly where things stand when the order is
// signed, closed, expired or cancelled.
//
// The page is rendered on the server (html/template) and works as plain links and forms; the small
// scripts only draw PDFs and capture a drawn signature. It calls the same signing service as the
// signatory GraphQL API, so the rules are the same in both.
package signui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/limits"
	"esign/internal/order"
	"esign/internal/signing"
)

// Signing is what the page needs from the signing service (*signing.Service).
type Signing interface {
	AuthenticateSignatory(ctx context.Context, token string) (signing.SignatoryPrincipal, bool, error)
	SignatoryToken(signatoryID string) string
	SignatoryView(ctx context.Context, sp signing.SignatoryPrincipal) (order.SignatoryView, error)
	SignatoryDocumentBytes(ctx context.Context, sp signing.SignatoryPrincipal, documentID string) (signing.DocumentBytes, error)
	SignatoryFormFields(ctx context.Context, sp signing.SignatoryPrincipal, documentID string) ([]order.FormField, error)
	SetDocumentStatus(ctx context.Context, sp signing.SignatoryPrincipal, documentID string, status order.DocumentStatus) (*order.SignatureOrder, *order.Signatory, error)
	RejectOrder(ctx context.Context, sp signing.SignatoryPrincipal, reason *string) (*order.SignatureOrder, *order.Signatory, error)
	Sign(ctx context.Context, sp signing.SignatoryPrincipal, in signing.SignInput) (*order.SignatureOrder, *order.Signatory, error)
	Track(ctx context.Context, sp signing.SignatoryPrincipal, download bool) (*order.SignatureOrder, *order.Signatory, error)
	StartLogin(ctx context.Context, sp signing.SignatoryPrincipal, in signing.LoginStart) (string, string, error)
	LoginState(state string) (evidence.LoginPurpose, error)
	CompleteViewLogin(ctx context.Context, sp signing.SignatoryPrincipal, code signing.LoginCode, browser string) (string, string, error)
	TakeLoginForm(ctx context.Context, sp signing.SignatoryPrincipal, state string) (signing.KeptLoginForm, error)
	ValidateViewer(ctx context.Context, sp signing.SignatoryPrincipal, header string) (signing.SignatoryPrincipal, error)
	Downloads
}

//go:embed templates static
var ownFS embed.FS

// vendorFS holds pdf.js as copied by scripts/signui-assets.sh; on a fresh clone only README.md.
//
//go:embed assets
var vendorFS embed.FS

// AssetsPath is where the page's scripts, styles and pdf.js are served.
const AssetsPath = "/signui/assets/"

// Cookies: the VIEW-stage login (provider id and ID token, sent back as Signatory-Validation) and the
// browser binding of a login in progress. Both are HttpOnly and scoped to the signing pages.
const (
	viewCookie    = "esign_view"
	browserCookie = "esign_login"
)

// maxFormBytes bounds a form post: a drawn signature (at most evidence.MaxImageBytes of PNG, base64 in
// a data URL) plus a name and a reason, and the values of the documents' own forms.
const maxFormBytes = evidence.MaxImageBytes*4/3 + 64<<10 + maxFormValueBytes

// Handler serves the signing pages.
type Handler struct {
	svc       Signing
	log       *slog.Logger
	publicURL string
	secure    bool // cookies only over https
	tmpl      *template.Template
	assets    *assets
	csrf      *http.CrossOriginProtection
	// trustedProxies may say who is behind them (TrustProxies).
	trustedProxies []netip.Prefix
}

// New builds the handler. publicURL is the service's external base URL: the OpenID Connect callback
// is publicURL+"/sign/callback".
func New(svc Signing, publicURL string, log *slog.Logger) (*Handler, error) {
	tmpl, err := template.New("").Funcs(template.FuncMap{}).ParseFS(ownFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse signing page templates: %w", err)
	}
	vendor, err := fs.Sub(vendorFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("signing page assets: %w", err)
	}
	own, err := fs.Sub(ownFS, "static")
	if err != nil {
		return nil, fmt.Errorf("signing page assets: %w", err)
	}
	a, err := loadAssets(own, vendor)
	if err != nil {
		return nil, err
	}
	return &Handler{svc: svc, log: log, publicURL: publicURL, secure: strings.HasPrefix(publicURL, "https://"),
		tmpl: tmpl, assets: a, csrf: http.NewCrossOriginProtection()}, nil
}

// Register adds the signing page's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /sign/{token}", h.acting(http.HandlerFunc(h.page)))
	mux.Handle("GET /sign/{token}/documents/{id}", h.acting(http.HandlerFunc(h.document)))
	mux.Handle("POST /sign/{token}/documents/{id}", h.acting(h.csrf.Handler(http.HandlerFunc(h.documentStatus))))
	mux.Handle("POST /sign/{token}/reject", h.acting(h.csrf.Handler(http.HandlerFunc(h.reject))))
	mux.Handle("POST /sign/{token}/sign", h.acting(h.csrf.Handler(http.HandlerFunc(h.sign))))
	mux.Handle("GET /sign/{token}/login", h.acting(http.HandlerFunc(h.login)))
	mux.Handle("POST /sign/{token}/login", h.acting(h.csrf.Handler(http.HandlerFunc(h.loginWithForm))))
	mux.Handle("GET /sign/callback", h.acting(http.HandlerFunc(h.callback)))
	h.registerDownload(mux)
	h.registerBatch(mux)
	mux.Handle("GET "+AssetsPath, http.StripPrefix(AssetsPath, h.assets))
}

// acting names the person behind a signing-page request for the audit trail: the connection's
// address (the page has no trusted-proxy setting, so X-Forwarded-For proves nothing here) and the
// user agent (signing.WithActor bounds and cleans both).
func (h *Handler) acting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := limits.ClientIP(r, h.trustedProxies)
		next.ServeHTTP(w, r.WithContext(signing.WithActor(r.Context(), order.Actor{IP: ip, UserAgent: r.UserAgent()})))
	})
}

// TrustProxies makes the page believe X-Forwarded-For from these proxies for the address the audit
// trail records (the API's TRUSTED_PROXIES); without, the connection's peer is the person's address.
func (h *Handler) TrustProxies(prefixes []netip.Prefix) { h.trustedProxies = prefixes }

// signatory is the signatory a request is for, with what they see and may do (their order is
// view.Order, they are view.Signatory).
type signatory struct {
	token string
	sp    signing.SignatoryPrincipal
	view  order.SignatoryView
	// After a refused sign post: what the signatory sent, shown again so that nothing typed is
	// lost, and the document form's refused values by input name.
	posted      url.Values
	fieldErrors map[string]string
}

func (s *signatory) base() string { return "/sign/" + s.token }

func (s *signatory) ui() order.UI { return s.view.UI }

// resolve authenticates the token of the path. When it answers false it has written the response.
func (h *Handler) resolve(w http.ResponseWriter, r *http.Request) (*signatory, bool) {
	token := r.PathValue("token")
	sp, ok, err := h.svc.AuthenticateSignatory(r.Context(), token)
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, false
	}
	if !ok {
		h.status(w, r, nil, http.StatusNotFound, "invalidLink")
		return nil, false
	}
	if c, err := r.Cookie(viewCookie); err == nil && c.Value != "" {
		if v, err := h.svc.ValidateViewer(r.Context(), sp, c.Value); err == nil {
			sp = v
		}
	}
	view, err := h.svc.SignatoryView(r.Context(), sp)
	if err != nil {
		h.fail(w, r, nil, err)
		return nil, false
	}
	return &signatory{token: token, sp: sp, view: view}, true
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	if _, _, err := h.svc.Track(r.Context(), s.sp, false); err != nil {
		h.log.WarnContext(r.Context(), "track signing link", "order", s.view.Order.ID, "err", err)
	}
	h.render(w, r, s, http.StatusOK, "")
}

// document answers the PDF (the current version) of one of the signatory's documents, and records
// that they opened it.
func (h *Handler) document(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	b, err := h.svc.SignatoryDocumentBytes(r.Context(), s.sp, id)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if b.Current == nil {
		h.status(w, r, s, http.StatusNotFound, "error")
		return
	}
	if s.view.Order.Status == order.StatusOpen && s.view.Signatory.Status == order.SignatoryOpen {
		if _, _, err := h.svc.SetDocumentStatus(r.Context(), s.sp, id, order.DocumentOpened); err != nil {
			if _, isDomain := fault.As(err); !isDomain {
				h.log.WarnContext(r.Context(), "record document opened", "order", s.view.Order.ID, "err", err)
			}
		}
	}
	securityHeaders(w, "default-src 'none'; sandbox")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "inline")
	_, _ = w.Write(b.Current)
}

func (h *Handler) documentStatus(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolveForm(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	switch r.PostFormValue("action") {
	case "approve":
		if _, _, err := h.svc.SetDocumentStatus(r.Context(), s.sp, id, order.DocumentApproved); err != nil {
			h.fail(w, r, s, err)
			return
		}
		h.done(w, r, s, "")
	case "reject":
		if _, _, err := h.svc.SetDocumentStatus(r.Context(), s.sp, id, order.DocumentRejected); err != nil {
			h.fail(w, r, s, err)
			return
		}
		h.rejectOrder(w, r, s, documentTitle(s.view.Order, id))
	default:
		h.status(w, r, s, http.StatusBadRequest, "error")
	}
}

func documentTitle(o *order.SignatureOrder, id string) string {
	if d := o.Document(id); d != nil {
		return d.Title
	}
	return ""
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolveForm(w, r)
	if !ok {
		return
	}
	h.rejectOrder(w, r, s, "")
}

// rejectOrder rejects the signing with the form's reason (prefixed with the document's title when a
// document was rejected).
func (h *Handler) rejectOrder(w http.ResponseWriter, r *http.Request, s *signatory, document string) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if document != "" {
		reason = strings.TrimSpace(document + ": " + reason)
	}
	var rp *string
	if reason != "" {
		rp = &reason
	}
	if _, _, err := h.svc.RejectOrder(r.Context(), s.sp, rp); err != nil {
		h.fail(w, r, s, err)
		return
	}
	h.done(w, r, s, "rejected")
}

func (h *Handler) sign(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolveForm(w, r)
	if !ok {
		return
	}
	in := signing.SignInput{ProviderID: r.PostFormValue("provider")}
	var p *order.EvidenceProvider
	for _, sp := range s.view.Providers {
		if sp.ID == in.ProviderID {
			p = &sp
		}
	}
	if p == nil {
		h.status(w, r, s, http.StatusBadRequest, "error")
		return
	}
	formEvidence := func(in *signing.SignInput) error {
		in.Noop = true
		if data := r.PostFormValue("image"); data != "" {
			img, err := decodePNGDataURL(data)
			if err != nil {
				return err
			}
			name := r.PostFormValue("name")
			in.Drawable = &signing.DrawableInput{Image: img, Name: &name}
		}
		return nil
	}
	if err := formEvidence(&in); err != nil {
		h.fail(w, r, s, err)
		return
	}
	if p.Kind == order.ProviderAllOf {
		member := in
		in.AllOf = &member
	}
	t := i18n.T(s.ui().Language)
	// From here on a refusal shows the page again with what was typed.
	s.posted = r.PostForm
	docs, inputs, problems, err := h.signForms(r, s)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if len(problems) > 0 {
		s.fieldErrors = problems
		h.render(w, r, s, http.StatusBadRequest, t("formInvalid"))
		return
	}
	in.Documents = docs
	if p.Kind == order.ProviderDrawable && in.Drawable == nil {
		h.render(w, r, s, http.StatusBadRequest, t("drawingMissing"))
		return
	}
	if _, _, err := h.svc.Sign(r.Context(), s.sp, in); err != nil {
		if input, msg := fieldProblem(err, inputs); input != "" {
			s.fieldErrors = map[string]string{input: msg}
			h.render(w, r, s, http.StatusBadRequest, t("formInvalid"))
			return
		}
		h.fail(w, r, s, err)
		return
	}
	h.done(w, r, s, "success")
}

func decodePNGDataURL(data string) ([]byte, error) {
	b64, ok := strings.CutPrefix(data, "data:image/png;base64,")
	if !ok {
		return nil, fault.Invalid("drawable.image", "must be a PNG image")
	}
	img, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fault.Invalid("drawable.image", "must be a PNG image")
	}
	return img, nil
}

// login starts an OpenID Connect login (stage VIEW or SIGN) and sends the browser to the provider.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	h.startLogin(w, r, s, signing.LoginStart{ProviderID: q.Get("provider"), AcrValue: q.Get("acr"), Stage: q.Get("stage")}, nil)
}

// loginWithForm starts a SIGN-stage login from the sign form (its "login" button): the document
// form's values go with it, kept on the server until the callback signs with them. For an allOf
// provider with a login member the drawn signature goes along too, refused here when missing.
func (h *Handler) loginWithForm(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolveForm(w, r)
	if !ok {
		return
	}
	var p *provider
	for _, vp := range s.view.Providers {
		if lp := signProviderView(vp, s.base()); (lp.LoginURL != "" || lp.AllOfLogin) && vp.ID == r.PostFormValue("login") {
			p = &lp
		}
	}
	if p == nil {
		h.status(w, r, s, http.StatusBadRequest, "error")
		return
	}
	t := i18n.T(s.ui().Language)
	s.posted = r.PostForm
	docs, inputs, problems, err := h.signForms(r, s)
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	if len(problems) > 0 {
		s.fieldErrors = problems
		h.render(w, r, s, http.StatusBadRequest, t("formInvalid"))
		return
	}
	in := signing.LoginStart{ProviderID: p.ID, AcrValue: p.acr, Stage: order.EvidenceStageSign, Form: docs}
	if p.AllOfLogin && p.Draw {
		data := r.PostFormValue("image")
		if data == "" {
			h.render(w, r, s, http.StatusBadRequest, t("drawingMissing"))
			return
		}
		img, err := decodePNGDataURL(data)
		if err != nil {
			h.fail(w, r, s, err)
			return
		}
		name := r.PostFormValue("name")
		in.Drawing = &signing.DrawableInput{Image: img, Name: &name}
	}
	h.startLogin(w, r, s, in, inputs)
}

// startLogin starts in, bound to this browser, and sends the browser to the identity provider.
// inputs name the page's inputs of in.Form, for a refused value.
func (h *Handler) startLogin(w http.ResponseWriter, r *http.Request, s *signatory, in signing.LoginStart, inputs [][]string) {
	browser := randomToken()
	in.RedirectURI, in.Browser = h.publicURL+"/sign/callback", browser
	authURL, _, err := h.svc.StartLogin(r.Context(), s.sp, in)
	if err != nil {
		if input, msg := fieldProblem(err, inputs); input != "" {
			s.fieldErrors = map[string]string{input: msg}
			h.render(w, r, s, http.StatusBadRequest, i18n.T(s.ui().Language)("formInvalid"))
			return
		}
		h.fail(w, r, s, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: browser, Path: "/sign/", MaxAge: int(evidence.LoginTTL.Seconds()),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	securityHeaders(w, "default-src 'none'")
	if r.Method != http.MethodPost {
		http.Redirect(w, r, authURL, http.StatusSeeOther)
		return
	}
	toProvider(w, authURL, s.ui().Language)
}

// toProvider answers a form post that starts a login with a page that navigates to the identity
// provider. A form post (the document's form went along) may not be redirected there: the page's
// CSP form-action allows this origin only, and browsers apply it to redirects. A navigation is not
// a form submission, so this page navigates there instead (a refresh, with a link for a browser
// that does not follow it).
func toProvider(w http.ResponseWriter, authURL, lang string) {
	u, text := template.HTMLEscapeString(authURL), template.HTMLEscapeString(i18n.T(lang)("continueLogin"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprintf(w, `<!doctype html><html lang="%s"><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=%s"><title>%s</title><p><a href="%s">%s</a></p></html>`,
		i18n.HTML(lang), u, text, u, text)
}

// callback is where the provider sends the browser back: a VIEW login stores the ID token for
// Signatory-Validation; a SIGN login signs.
//
// The state names the signatory, but it is no credential: it travels through the identity
// provider in the authorization URL (its logs, the browser history). Only the browser-binding
// cookie set when the login started proves that this is the browser that holds the signing link,
// so the callback refuses without it before it resolves the signatory, and none of its answers
// before that point, nor any of its error pages, carries the link's token.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	purpose, err := h.svc.LoginState(q.Get("state"))
	if err != nil {
		h.fail(w, r, nil, err)
		return
	}
	c, err := r.Cookie(browserCookie)
	if err != nil || c.Value == "" || purpose.Browser == "" ||
		subtle.ConstantTimeCompare([]byte(c.Value), []byte(purpose.Browser)) != 1 {
		h.log.InfoContext(r.Context(), "login callback without the browser binding of its start", "order", purpose.OrderID, "batch", purpose.Batch)
		h.status(w, r, nil, http.StatusForbidden, "loginElsewhere")
		return
	}
	browser := c.Value
	if purpose.Batch != "" {
		// Started on the batch page: one login signs every item of the batch.
		h.batchCallback(w, r, purpose, browser)
		return
	}
	r.SetPathValue("token", h.svc.SignatoryToken(purpose.SignatoryID))
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Path: "/sign/", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		// The signatory cancelled at the provider, or it refused: back to the page, nothing changed.
		h.log.InfoContext(r.Context(), "login not completed at the identity provider", "order", s.view.Order.ID, "error", e)
		http.Redirect(w, r, s.base(), http.StatusSeeOther)
		return
	}
	code := signing.LoginCode{Code: q.Get("code"), State: q.Get("state")}
	switch purpose.Stage {
	case order.EvidenceStageView:
		providerID, jwt, err := h.svc.CompleteViewLogin(r.Context(), s.sp, code, browser)
		if err != nil {
			h.failLogin(w, r, s, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: viewCookie, Value: providerID + ":" + jwt, Path: s.base(),
			HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, s.base(), http.StatusSeeOther)
	case order.LoginStageDownload:
		h.downloadCallback(w, r, s, code, browser)
	default:
		// The document form typed before the login, kept on the server; gone (expired, or this
		// callback ran already) is refused rather than signed without: the values were meant.
		kept, err := h.svc.TakeLoginForm(r.Context(), s.sp, code.State)
		if err != nil {
			h.failLogin(w, r, s, err)
			return
		}
		in := signing.SignInput{ProviderID: purpose.ProviderID, VerifyCode: &code, Browser: browser, Documents: kept.Documents}
		if providerKind(s.view.Providers, purpose.ProviderID) == order.ProviderAllOf {
			// One signature with the login and the other member: the drawing kept at the start
			// (an allOf with a drawable member signed without one is refused by Sign), or noop.
			in.VerifyCode = nil
			in.AllOf = &signing.SignInput{VerifyCode: &code, Drawable: kept.Drawing, Noop: true}
		}
		if _, _, err := h.svc.Sign(r.Context(), s.sp, in); err != nil {
			h.failLogin(w, r, s, err)
			return
		}
		h.done(w, r, s, "success")
	}
}

// providerKind is the kind of the provider with id among providers, "" for none.
func providerKind(providers []order.EvidenceProvider, id string) order.ProviderKind {
	for _, p := range providers {
		if p.ID == id {
			return p.Kind
		}
	}
	return ""
}

// failLogin answers a login that failed at the callback with what went wrong, on a page without
// the signatory's forms and links: the callback's URL (code and state) went through the identity
// provider, so its page carries no token. The signatory opens their link again to retry.
func (h *Handler) failLogin(w http.ResponseWriter, r *http.Request, s *signatory, err error) {
	de, ok := fault.As(err)
	if !ok {
		h.fail(w, r, s, err) // logged; a generic page without the token
		return
	}
	ui := s.ui()
	v := h.baseView(ui)
	v.Message, v.Error = i18n.T(ui.Language)("loginFailed"), de.Message
	h.write(w, httpStatus(de), "page.html", v, ui)
}

// resolveForm is resolve for form posts, with the body bounded.
func (h *Handler) resolveForm(w http.ResponseWriter, r *http.Request) (*signatory, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.status(w, r, nil, http.StatusRequestEntityTooLarge, "error")
		return nil, false
	}
	return h.resolve(w, r)
}

// done sends the browser on after an action: to signatoryRedirectUri with status (success, rejected)
// when the order has one and the signatory has finished, else back to the page, which then shows
// where things stand.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, s *signatory, status string) {
	view, err := h.svc.SignatoryView(r.Context(), s.sp)
	if err == nil && status == "" && view.Signatory.Status == order.SignatoryApproved {
		status = "success"
	}
	if err == nil && status != "" {
		if u := redirectURI(s.ui(), status); u != "" && view.Order != nil {
			http.Redirect(w, r, u, http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, s.base(), http.StatusSeeOther)
}

// redirectURI is signatoryRedirectUri with status added to its query, or "".
func redirectURI(ui order.UI, status string) string {
	if ui.SignatoryRedirectURI == nil || *ui.SignatoryRedirectURI == "" {
		return ""
	}
	// The API checks the URL; this re-check keeps a URL stored before the check was strict out of
	// the Location header and the page's links.
	u, err := order.ParseWebURL(*ui.SignatoryRedirectURI)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("status", status)
	u.RawQuery = q.Encode()
	return u.String()
}

// fail answers an error: a domain error re-renders the page with its message (the signatory can act
// on it); anything else is logged and answered with a generic page and a reference.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *signatory, err error) {
	if de, ok := fault.As(err); ok {
		code := httpStatus(de)
		if s == nil {
			h.status(w, r, nil, code, "invalidLink")
			return
		}
		// Reload: the order may have moved on.
		if view, err := h.svc.SignatoryView(r.Context(), s.sp); err == nil {
			s.view = view
		}
		h.render(w, r, s, code, de.Error())
		return
	}
	ref := randomToken()[:12]
	h.log.ErrorContext(r.Context(), "signing page failed", "reference", ref, "err", err)
	if fault.DependencyOf(err) != "" { // the database, the blob store or the HSM: retrying helps
		h.status(w, r, s, http.StatusServiceUnavailable, "unavailable")
		return
	}
	h.status(w, r, s, http.StatusInternalServerError, "error")
}

// httpStatus is the status a domain error is answered with on the signing pages.
func httpStatus(de *fault.Error) int {
	switch de.Code {
	case fault.CodeInvalid:
		return http.StatusBadRequest
	case fault.CodeUnauthorized, fault.CodeForbidden:
		return http.StatusForbidden
	case fault.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusConflict
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
