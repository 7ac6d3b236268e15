package signui

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/signing"
)

// The hosted download page (Signatory.downloadHref, /sign/<token>/download): the signed documents of
// a signatory once the order is closed with its documents retained, after a fresh login with the
// provider they signed with when their signature used one (signing.SignatoryDownload decides).
// The login is the signing page's (GET /sign/<token>/login, stage DOWNLOAD, and /sign/callback);
// its ID token is kept in a cookie scoped to the download paths and presented as the
// DownloadVerification on every request, so it is checked again each time.

// Downloads is what the download page needs from the signing service.
type Downloads interface {
	SignatoryDownload(ctx context.Context, sp signing.SignatoryPrincipal, v *signing.DownloadVerification) (signing.Download, error)
	SignatoryDownloadDocument(ctx context.Context, sp signing.SignatoryPrincipal, v *signing.DownloadVerification, documentID string) (signing.DocumentBytes, error)
	CompleteDownloadLogin(ctx context.Context, sp signing.SignatoryPrincipal, code signing.LoginCode, browser string) (string, string, error)
}

// downloadCookie holds "<evidenceProviderId>:<ID token>" of the download login, for the download
// paths only (HttpOnly, as long as the login counts: order.MaxDownloadLoginAge).
const downloadCookie = "esign_download"

// downloadView is what download.html is rendered with.
type downloadView struct {
	T          func(string) string
	Lang       string
	TitleKey   string // "downloadTitle"
	Assets     map[string]string
	PDFJS      bool // never set: the download page lists links, it shows no document
	Logo       *logo
	Stylesheet string
	Message    string
	Error      string
	Login      []provider
	Documents  []document
}

func (h *Handler) registerDownload(mux *http.ServeMux) {
	mux.Handle("GET /sign/{token}/download", h.acting(http.HandlerFunc(h.downloadPage)))
	mux.Handle("GET /sign/{token}/download/{id}", h.acting(http.HandlerFunc(h.downloadDocument)))
}

func (s *signatory) downloadBase() string { return s.base() + "/download" }

// downloadVerification is the download login the browser holds, nil for none.
func downloadVerification(r *http.Request) *signing.DownloadVerification {
	c, err := r.Cookie(downloadCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	providerID, jwt, ok := strings.Cut(c.Value, ":")
	if !ok || jwt == "" {
		return nil
	}
	return &signing.DownloadVerification{ProviderID: providerID, JWT: jwt}
}

func (h *Handler) forgetDownloadLogin(w http.ResponseWriter, s *signatory) {
	http.SetCookie(w, &http.Cookie{Name: downloadCookie, Path: s.downloadBase(), MaxAge: -1, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
}

// downloadPage shows the signatory's signed documents, the login that the download asks for, or why
// there is nothing to download; opening it is SIGNATORY_DOWNLOAD_LINK_OPENED.
func (h *Handler) downloadPage(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	if _, _, err := h.svc.Track(r.Context(), s.sp, true); err != nil {
		h.log.WarnContext(r.Context(), "track download link", "order", s.view.Order.ID, "err", err)
	}
	ui := s.ui()
	t := i18n.T(ui.Language)
	v := h.downloadBaseView(ui)
	verification := downloadVerification(r)
	d, err := h.svc.SignatoryDownload(r.Context(), s.sp, verification)
	if de, isDomain := fault.As(err); isDomain && verification != nil {
		// The kept login no longer counts (too old, another person): say why and offer it again.
		h.forgetDownloadLogin(w, s)
		v.Error = de.Message
		d, err = h.svc.SignatoryDownload(r.Context(), s.sp, nil)
	}
	if err != nil {
		h.fail(w, r, s, err)
		return
	}
	switch {
	case !d.Exists:
		v.Message = t("downloadNotYet")
	case d.Expired:
		v.Message = t("downloadExpired")
	case d.Documents == nil && d.VerificationProvider != nil:
		if lp := downloadLoginView(*d.VerificationProvider, s.base()); lp.LoginURL != "" {
			v.Login = append(v.Login, lp)
		}
	default:
		for _, doc := range d.Documents {
			v.Documents = append(v.Documents, document{ID: doc.ID, Title: doc.Title, URL: s.downloadBase() + "/" + url.PathEscape(doc.ID)})
		}
	}
	h.write(w, http.StatusOK, "download.html", v, ui)
}

// downloadLoginView is the login button of the download's provider (an allOf provider logs in with
// its login member, started under the allOf's id).
func downloadLoginView(p order.EvidenceProvider, base string) provider {
	if p.Kind == order.ProviderAllOf {
		for _, sub := range p.AllOf {
			if sub.OIDC != nil || sub.CriiptoVerify != nil {
				sub.ID = p.ID
				return loginProviderView(sub, base, order.LoginStageDownload)
			}
		}
	}
	return loginProviderView(p, base, order.LoginStageDownload)
}

// downloadDocument answers one signed document as an attachment.
func (h *Handler) downloadDocument(w http.ResponseWriter, r *http.Request) {
	s, ok := h.resolve(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	b, err := h.svc.SignatoryDownloadDocument(r.Context(), s.sp, downloadVerification(r), id)
	if err != nil {
		if _, isDomain := fault.As(err); isDomain {
			http.Redirect(w, r, s.downloadBase(), http.StatusSeeOther)
			return
		}
		h.fail(w, r, s, err)
		return
	}
	if b.Current == nil {
		h.status(w, r, s, http.StatusNotFound, "downloadExpired")
		return
	}
	securityHeaders(w, "default-src 'none'; sandbox")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(documentTitle(s.view.Order, id))}))
	_, _ = w.Write(b.Current)
}

// fileName is a document's title as a file name: no path separators or control characters.
func fileName(title string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\"`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(title))
	if name == "" {
		name = "document"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	return name
}

// downloadCallback completes a download login: the ID token is kept for the download paths, and
// the browser goes back to the download page, which now lists the documents.
func (h *Handler) downloadCallback(w http.ResponseWriter, r *http.Request, s *signatory, code signing.LoginCode, browser string) {
	providerID, jwt, err := h.svc.CompleteDownloadLogin(r.Context(), s.sp, code, browser)
	if err != nil {
		h.failLogin(w, r, s, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: downloadCookie, Value: providerID + ":" + jwt, Path: s.downloadBase(),
		MaxAge: int(order.MaxDownloadLoginAge.Seconds()), HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.downloadBase(), http.StatusSeeOther)
}

func (h *Handler) downloadBaseView(ui order.UI) downloadView {
	b := h.baseView(ui)
	return downloadView{T: b.T, Lang: b.Lang, TitleKey: "downloadTitle", Assets: b.Assets, Logo: b.Logo, Stylesheet: b.Stylesheet}
}
