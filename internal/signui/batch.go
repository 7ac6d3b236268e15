package signui

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/signing"
)

// The batch page (/batch/<token>): a batch signatory's person sees every document of every item,
// approves them all, gives one drawn (or noop) signature, and each order is signed on its own
// (signing.SignBatch); the answer shows each item's outcome. Its path is not under /sign/: a
// pattern "/sign/batch/{token}" would overlap "/sign/{token}/login" and the like, which ServeMux
// refuses. An eID login (oidc, criiptoVerify) signs every item at once: its state names the batch
// (signing.StartBatchLogin), and the signing page's /sign/callback completes it (batchCallback).
// An allOf provider with a login member is not offered here: its drawing would have to be kept
// across the login.

// BatchSigning is what the batch page needs from the signing service (*signing.Service).
type BatchSigning interface {
	AuthenticateBatchSignatory(ctx context.Context, token string) (signing.BatchPrincipal, bool, error)
	BatchView(ctx context.Context, bp signing.BatchPrincipal) (order.BatchView, error)
	BatchDocumentBytes(ctx context.Context, bp signing.BatchPrincipal, orderID, documentID string) (signing.DocumentBytes, error)
	ApproveBatch(ctx context.Context, bp signing.BatchPrincipal) (signing.BatchResult, error)
	SignBatch(ctx context.Context, bp signing.BatchPrincipal, in signing.SignInput) (signing.BatchResult, error)
	BatchSignatoryToken(batchID string) string
	StartBatchLogin(ctx context.Context, bp signing.BatchPrincipal, providerID, acrValue, redirectURI, browser string) (authURL, state string, err error)
	CompleteBatchLogin(ctx context.Context, bp signing.BatchPrincipal, code signing.LoginCode, browser string) (signing.BatchResult, error)
}

// BatchPath is where batch pages are served (signing.Service.BatchSignatoryHref links there).
const BatchPath = "/batch/"

// registerBatch adds the batch page's routes when the service has batches (the page's tests use
// services without).
func (h *Handler) registerBatch(mux *http.ServeMux) {
	svc, ok := h.svc.(BatchSigning)
	if !ok {
		return
	}
	b := &batchPages{h: h, svc: svc}
	mux.Handle("GET "+BatchPath+"{token}", h.acting(http.HandlerFunc(b.page)))
	mux.Handle("GET "+BatchPath+"{token}/documents/{order}/{id}", h.acting(http.HandlerFunc(b.document)))
	mux.Handle("POST "+BatchPath+"{token}/approve", h.acting(h.csrf.Handler(http.HandlerFunc(b.approve))))
	mux.Handle("POST "+BatchPath+"{token}/sign", h.acting(h.csrf.Handler(http.HandlerFunc(b.sign))))
	mux.Handle("POST "+BatchPath+"{token}/login", h.acting(h.csrf.Handler(http.HandlerFunc(b.login))))
}

type batchPages struct {
	h   *Handler
	svc BatchSigning
}

// batch is the batch a request is for, with what its person sees now.
type batch struct {
	token string
	bp    signing.BatchPrincipal
	view  order.BatchView
}

func (b *batch) base() string { return BatchPath + b.token }

// batchView is what batch.html is rendered with.
type batchView struct {
	view
	Items      []batchItem
	ApproveAll bool // some item that can act has a document to approve
	Outcome    bool // the answer to signing: each item says what became of it
	LoginOnly  bool // the items share only providers this page does not offer (allOf with a login)
	// LoginProviders sign every item with one eID login (their forms post to the login start).
	LoginProviders []provider
}

type batchItem struct {
	Heading   string
	Documents []document
	// Status says where the item stands (translated), "" while it can act; Failed marks a
	// failure of the step just taken.
	Status string
	Signed bool
	Failed bool
}

func (p *batchPages) resolve(w http.ResponseWriter, r *http.Request) (*batch, bool) {
	token := r.PathValue("token")
	bp, ok, err := p.svc.AuthenticateBatchSignatory(r.Context(), token)
	if err != nil {
		p.h.fail(w, r, nil, err)
		return nil, false
	}
	if !ok {
		p.h.status(w, r, nil, http.StatusNotFound, "invalidLink")
		return nil, false
	}
	v, err := p.svc.BatchView(r.Context(), bp)
	if err != nil {
		p.h.fail(w, r, nil, err)
		return nil, false
	}
	return &batch{token: token, bp: bp, view: v}, true
}

func (p *batchPages) resolveForm(w http.ResponseWriter, r *http.Request) (*batch, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.h.status(w, r, nil, http.StatusRequestEntityTooLarge, "error")
		return nil, false
	}
	return p.resolve(w, r)
}

func (p *batchPages) page(w http.ResponseWriter, r *http.Request) {
	b, ok := p.resolve(w, r)
	if !ok {
		return
	}
	p.render(w, b, http.StatusOK, "", nil)
}

// document answers the current PDF of one document of one item.
func (p *batchPages) document(w http.ResponseWriter, r *http.Request) {
	b, ok := p.resolve(w, r)
	if !ok {
		return
	}
	doc, err := p.svc.BatchDocumentBytes(r.Context(), b.bp, r.PathValue("order"), r.PathValue("id"))
	if err != nil {
		p.fail(w, r, b, err)
		return
	}
	if doc.Current == nil {
		p.h.status(w, r, nil, http.StatusNotFound, "error")
		return
	}
	securityHeaders(w, "default-src 'none'; sandbox")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "inline")
	_, _ = w.Write(doc.Current)
}

func (p *batchPages) approve(w http.ResponseWriter, r *http.Request) {
	b, ok := p.resolveForm(w, r)
	if !ok {
		return
	}
	res, err := p.svc.ApproveBatch(r.Context(), b.bp)
	if err != nil {
		p.fail(w, r, b, err)
		return
	}
	if len(res.Failed()) > 0 {
		// Shown with each item's reason; the rest are approved.
		p.reload(r, b)
		p.render(w, b, http.StatusOK, i18n.T(b.view.UI.Language)("batchPartial"), &res)
		return
	}
	http.Redirect(w, r, b.base(), http.StatusSeeOther)
}

func (p *batchPages) sign(w http.ResponseWriter, r *http.Request) {
	b, ok := p.resolveForm(w, r)
	if !ok {
		return
	}
	t := i18n.T(b.view.UI.Language)
	chosen := b.view.Provider(r.PostFormValue("provider"))
	if chosen == nil || isLogin(chosen.Provider) {
		p.h.status(w, r, nil, http.StatusBadRequest, "error")
		return
	}
	in := signing.SignInput{ProviderID: chosen.ID(), Noop: true}
	if data := r.PostFormValue("image"); data != "" {
		img, err := decodePNGDataURL(data)
		if err != nil {
			p.fail(w, r, b, err)
			return
		}
		name := r.PostFormValue("name")
		in.Drawable = &signing.DrawableInput{Image: img, Name: &name}
	}
	if chosen.Provider.Kind == order.ProviderAllOf {
		member := in
		in.AllOf = &member
	}
	if signProviderView(chosen.Provider, b.base()).Draw && in.Drawable == nil {
		p.render(w, b, http.StatusBadRequest, t("drawingMissing"), nil)
		return
	}
	res, err := p.svc.SignBatch(r.Context(), b.bp, in)
	if err != nil && len(res.Items) == 0 {
		p.fail(w, r, b, err)
		return
	}
	p.reload(r, b)
	msg := t("batchDone")
	if len(res.Failed()) > 0 {
		msg = t("batchPartial")
	}
	if err != nil {
		msg = p.message(r, b, err)
	}
	p.render(w, b, http.StatusOK, msg, &res)
}

// reload reads the batch again after a step (the orders moved on).
func (p *batchPages) reload(r *http.Request, b *batch) {
	if v, err := p.svc.BatchView(r.Context(), b.bp); err == nil {
		b.view = v
	}
}

// message is what the person reads about err: a domain error's message, else the generic text
// (and err is logged with a reference).
func (p *batchPages) message(r *http.Request, b *batch, err error) string {
	if de, ok := fault.As(err); ok {
		return de.Error()
	}
	ref := randomToken()[:12]
	p.h.log.ErrorContext(r.Context(), "batch page failed", "reference", ref, "err", err)
	return i18n.T(b.view.UI.Language)("error")
}

func (p *batchPages) fail(w http.ResponseWriter, r *http.Request, b *batch, err error) {
	de, ok := fault.As(err)
	if !ok {
		p.h.fail(w, r, nil, err)
		return
	}
	p.reload(r, b)
	p.render(w, b, httpStatus(de), de.Error(), nil)
}

func isLogin(p order.EvidenceProvider) bool {
	v := signProviderView(p, "")
	return v.LoginURL != "" || v.AllOfLogin
}

// login starts the eID login that signs every item (its form's "login" button), bound to this
// browser by the signing page's cookie, which /sign/callback reads.
func (p *batchPages) login(w http.ResponseWriter, r *http.Request) {
	b, ok := p.resolveForm(w, r)
	if !ok {
		return
	}
	chosen := b.view.Provider(r.PostFormValue("login"))
	if chosen == nil {
		p.h.status(w, r, nil, http.StatusBadRequest, "error")
		return
	}
	lp := signProviderView(chosen.Provider, b.base())
	if lp.LoginURL == "" {
		p.h.status(w, r, nil, http.StatusBadRequest, "error")
		return
	}
	browser := randomToken()
	authURL, _, err := p.svc.StartBatchLogin(r.Context(), b.bp, chosen.ID(), lp.acr, p.h.publicURL+"/sign/callback", browser)
	if err != nil {
		p.fail(w, r, b, err)
		return
	}
	// Path /sign/: the callback is the signing page's.
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: browser, Path: "/sign/", MaxAge: int(evidence.LoginTTL.Seconds()),
		HttpOnly: true, Secure: p.h.secure, SameSite: http.SameSiteLaxMode})
	securityHeaders(w, "default-src 'none'")
	toProvider(w, authURL, b.view.UI.Language)
}

// batchCallback is /sign/callback for a login started on the batch page (purpose.Batch), once the
// browser binding is checked: it signs every item that can sign with the login and shows the batch
// page with each item's outcome. A login refused before anything was signed is answered without
// the batch's links, as the signing page's failed logins are: the callback's URL went through the
// identity provider.
func (h *Handler) batchCallback(w http.ResponseWriter, r *http.Request, purpose evidence.LoginPurpose, browser string) {
	svc, ok := h.svc.(BatchSigning)
	if !ok {
		h.status(w, r, nil, http.StatusNotFound, "invalidLink")
		return
	}
	p := &batchPages{h: h, svc: svc}
	r.SetPathValue("token", svc.BatchSignatoryToken(purpose.Batch))
	b, ok := p.resolve(w, r)
	if !ok {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Path: "/sign/", MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		// Cancelled at the provider, or it refused: back to the page, nothing changed.
		h.log.InfoContext(r.Context(), "batch login not completed at the identity provider", "batch", purpose.Batch, "error", e)
		http.Redirect(w, r, b.base(), http.StatusSeeOther)
		return
	}
	res, err := svc.CompleteBatchLogin(r.Context(), b.bp, signing.LoginCode{Code: q.Get("code"), State: q.Get("state")}, browser)
	if err != nil && len(res.Items) == 0 {
		de, ok := fault.As(err)
		if !ok {
			h.fail(w, r, nil, err) // logged; a generic page without the token
			return
		}
		ui := b.view.UI
		v := h.baseView(ui)
		v.Message, v.Error = i18n.T(ui.Language)("loginFailed"), de.Message
		h.write(w, httpStatus(de), "page.html", v, ui)
		return
	}
	p.reload(r, b)
	t := i18n.T(b.view.UI.Language)
	msg := t("batchDone")
	if len(res.Failed()) > 0 {
		msg = t("batchPartial")
	}
	if err != nil {
		msg = p.message(r, b, err)
	}
	p.render(w, b, http.StatusOK, msg, &res)
}

// batchBlockedText is the text key of why an item cannot act.
var batchBlockedText = map[order.Blocked]string{
	order.BlockedGone:      "batchGone",
	order.BlockedViewLogin: "batchViewLogin",
	order.BlockedNotSigner: "batchNotSigner",
}

// render writes the batch page as things stand; errMsg is shown on top, and res (when not nil)
// marks each item with the outcome of the step just taken.
func (p *batchPages) render(w http.ResponseWriter, b *batch, code int, errMsg string, res *signing.BatchResult) {
	ui := b.view.UI
	t := i18n.T(ui.Language)
	v := batchView{view: p.h.baseView(ui), Outcome: res != nil}
	v.TitleKey = "batchTitle"
	v.Base = b.base()
	if res != nil && len(res.Failed()) == 0 {
		v.Message = errMsg
	} else {
		v.Error = errMsg
	}
	actionable := 0
	for i, it := range b.view.Items {
		item := batchItem{Heading: fmt.Sprintf("%s %d", t("batchItem"), i+1)}
		if it.Order != nil && it.Order.Title != nil && strings.TrimSpace(*it.Order.Title) != "" {
			item.Heading = *it.Order.Title
		}
		if it.View != nil && it.Blocked != order.BlockedViewLogin {
			for _, vd := range it.View.Documents {
				d := vd.Document
				doc := document{ID: d.ID, Title: d.Title, Approved: vd.Approved(),
					URL: b.base() + "/documents/" + url.PathEscape(it.Item.OrderID) + "/" + url.PathEscape(d.ID)}
				if vd.Status != nil && documentStatusText[*vd.Status] != "" {
					doc.Status = t(documentStatusText[*vd.Status])
				}
				item.Documents = append(item.Documents, doc)
				v.ApproveAll = v.ApproveAll || (it.Actionable() && !vd.Approved() && vd.Role != order.RoleViewer)
			}
		}
		switch {
		case it.Actionable():
			actionable++
		case it.View != nil && it.View.Signatory.Status == order.SignatorySigned:
			item.Status, item.Signed = t("batchSigned"), true
		case batchBlockedText[it.Blocked] != "":
			item.Status = t(batchBlockedText[it.Blocked])
		default:
			item.Status = t(blockedText[it.Blocked])
		}
		if res != nil && i < len(res.Items) && res.Items[i].Err != nil && !item.Signed {
			item.Failed = true
			if item.Status == "" {
				// Still able to act, yet the step failed for it: say why in the service's words.
				if de, ok := fault.As(res.Items[i].Err); ok {
					item.Status = t("batchNotSigned") + " " + de.Message
				} else {
					item.Status = t("batchNotSigned") + " " + t("error")
				}
			}
		}
		v.Items = append(v.Items, item)
		v.Documents = append(v.Documents, item.Documents...)
	}
	if actionable == 0 && v.Message == "" && v.Error == "" {
		v.Message = t("batchNothing")
	}
	if actionable > 0 && !v.ApproveAll {
		v.SignReady = true
		for _, bp := range b.view.Providers {
			switch pv := signProviderView(bp.Provider, b.base()); {
			case pv.LoginURL != "":
				v.LoginProviders = append(v.LoginProviders, pv)
			case !pv.AllOfLogin:
				v.Providers = append(v.Providers, pv)
			}
		}
		v.LoginOnly = len(v.Providers) == 0 && len(v.LoginProviders) == 0
	}
	p.h.write(w, code, "batch.html", v, ui)
}
