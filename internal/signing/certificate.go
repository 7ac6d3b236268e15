package signing

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"esign/internal/fault"
	"esign/internal/i18n"
	"esign/internal/order"
	"esign/internal/pdf/certificate"
	"esign/internal/pki"
)

// The completion certificate: at a close that retains the documents, the order, its documents'
// SHA-256 before and after and its audit trail are rendered in the order's language
// (pdf/certificate), sealed invisibly by the service (CertificateSealer), finalized like the
// documents (DSS and document timestamp: PAdES B-LTA) and stored like a document version, bound
// to the order and order.CertificateDocumentID. It is deleted with the documents, on every path
// (order.DropDocuments).
//
// A close without retention keeps no certificate and renders none: the documents are deleted in
// the same change, and a certificate quoting them would outlive them; its answer (Closed) carries
// the documents only.

// CertificateSealer signs a rendered completion certificate with the service's seal and a
// signature timestamp, invisibly (seal.Sealer). Without one, closes keep no certificate.
type CertificateSealer interface {
	SealCertificate(ctx context.Context, pdf []byte, at time.Time) ([]byte, error)
}

// issuedCertificate is a certificate a close stored and has not yet recorded in the order.
type issuedCertificate struct {
	version order.DocumentVersion
	sha256  string
}

// versions is the certificate's blob for discardUncommitted (none for a nil certificate).
func (c *issuedCertificate) versions() []order.DocumentVersion {
	if c == nil {
		return nil
	}
	return []order.DocumentVersion{c.version}
}

// issueCertificate renders, seals, finalizes and stores the completion certificate of o, being
// closed at closing with retainDays; bytes are the documents as the close finalized them. It
// returns nil without an error when there is nothing to keep (no retention, no sealer) or the
// certificate is over its bounds (logged: the close goes on without one, since no retry would
// help). A seal or timestamp that fails is retryable, like the documents' finalization.
func (s *Service) issueCertificate(ctx context.Context, p Principal, o *order.SignatureOrder, bytes map[string]DocumentBytes,
	closing time.Time, retainDays *int) (*issuedCertificate, error) {
	if retainDays == nil || s.cfg.Certificates == nil {
		return nil, nil
	}
	trail, err := s.AuditTrail(ctx, p, o.ID)
	if err != nil {
		return nil, fmt.Errorf("completion certificate of order %s: %w", o.ID, err)
	}
	// The close is recorded in the change that stores the certificate; the certificate shows it.
	trail = append(trail, order.AuditEntry{At: closing, Kind: order.AuditOrderClosed,
		Details: map[string]string{"retainDocumentsForDays": strconv.Itoa(*retainDays)}})
	pages := map[string]int{}
	for id, b := range bytes {
		if b.Current == nil {
			continue
		}
		if info, err := s.inspect(ctx, b.Current); err == nil {
			pages[id] = info.Pages
		} else {
			s.log.WarnContext(ctx, "completion certificate: page count unknown", "order", o.ID, "document", id, "err", err)
		}
	}
	rendered, err := certificate.Render(ctx, certificateOf(o, trail, bytes, pages, closing))
	if errors.Is(err, certificate.ErrTooLarge) {
		s.log.ErrorContext(ctx, "completion certificate over its bounds: the order closes without one", "order", o.ID, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("completion certificate of order %s: %w", o.ID, err)
	}
	sealed, err := s.cfg.Certificates.SealCertificate(ctx, rendered, closing)
	if err != nil {
		s.log.ErrorContext(ctx, "completion certificate seal failed", "order", o.ID, "err", err)
		return nil, fault.Retryablef("The completion certificate could not be sealed right now; the order is still open, please try again")
	}
	if s.cfg.Finalizer != nil {
		if sealed, err = s.cfg.Finalizer.Finalize(ctx, sealed); err != nil {
			s.log.ErrorContext(ctx, "completion certificate finalize failed", "order", o.ID, "err", err)
			if errors.Is(err, pki.ErrRevoked) {
				return nil, fault.Conflictf("The completion certificate cannot be sealed: the seal's or timestamp's certificate is revoked; the order is still open (the service's operator must replace the certificate)")
			}
			return nil, fault.Retryablef("The completion certificate could not be timestamped right now; the order is still open, please try again")
		}
	}
	v, err := s.putCertificate(ctx, o, sealed)
	if err != nil {
		return nil, err
	}
	return &issuedCertificate{version: v, sha256: fmt.Sprintf("%x", sha256.Sum256(sealed))}, nil
}

// CompletionCertificate is the completion certificate of one of the caller's orders (a sealed,
// timestamped PDF): nil when the order is unknown to the caller, kept none (closed without
// retention, before certificates existed, or not closed) or its documents are deleted. READ_ONLY
// keys may read it, like the documents.
func (s *Service) CompletionCertificate(ctx context.Context, p Principal, orderID string) ([]byte, error) {
	o, err := s.Order(ctx, p, orderID)
	if err != nil || o == nil || o.Certificate == nil {
		return nil, err
	}
	return s.readCertificate(ctx, o)
}

// certificateOf is what the certificate shows: the order, each document's SHA-256 as stored at
// creation and as finalized (bytes; none for a document nobody signed), each signatory with the
// trail's entries about them and a summary of their evidence, and the rest of the trail as the
// order's events (a deleted signatory's among them), all worded in the order's language.
func certificateOf(o *order.SignatureOrder, trail []order.AuditEntry, bytes map[string]DocumentBytes, pages map[string]int, closing time.Time) certificate.Certificate {
	lang := o.UI.Language
	t := i18n.T(lang)
	c := certificate.Certificate{Language: lang, Timezone: o.Timezone, OrderID: o.ID, Title: deref(o.Title),
		CreatedAt: o.CreatedAt, ClosedAt: closing, Status: worded(t, "certificate.status."+string(order.StatusClosed), string(order.StatusClosed)),
		IssuedAt: closing}
	for _, d := range o.Documents {
		b := bytes[d.ID]
		doc := certificate.Document{Title: d.Title, ID: d.ID, Pages: pages[d.ID]}
		if b.Original != nil {
			doc.SHA256Original = fmt.Sprintf("%x", sha256.Sum256(b.Original))
		}
		if cur := d.Current(); cur != nil && cur.SignedBy != "" && b.Current != nil {
			doc.SHA256Signed = fmt.Sprintf("%x", sha256.Sum256(b.Current))
		}
		c.Documents = append(c.Documents, doc)
	}
	bySignatory := map[string]int{}
	for i, s := range o.Signatories {
		bySignatory[s.ID] = i
		c.Signatories = append(c.Signatories, certificate.Signatory{Reference: deref(s.Reference),
			Role:   worded(t, "certificate.role."+string(s.SignatoryRole), string(s.SignatoryRole)),
			Status: worded(t, "certificate.status."+string(s.Status), string(s.Status))})
	}
	for _, e := range trail {
		ev := certificate.Event{At: e.At, Text: eventText(t, o, e)}
		if e.Actor != nil {
			ev.IP, ev.UserAgent = e.Actor.IP, e.Actor.UserAgent
		}
		i, ok := bySignatory[e.SignatoryID]
		if !ok {
			c.Events = append(c.Events, ev)
			continue
		}
		sig := &c.Signatories[i]
		sig.Events = append(sig.Events, ev)
		sig.Evidence = append(sig.Evidence, evidenceLines(t, o, e)...)
		if name := e.Details["name"]; name != "" && e.Kind == order.AuditSignatorySigned {
			sig.Name = name
		}
	}
	for i := range c.Signatories {
		if c.Signatories[i].Name == "" {
			c.Signatories[i].Name = fmt.Sprintf("%s %d", t("seal.unnamed"), i+1)
		}
	}
	return c
}

// eventText words an entry: its kind's text (the kind's name where there is none), and the
// document it is about.
func eventText(t func(string) string, o *order.SignatureOrder, e order.AuditEntry) string {
	text := worded(t, "certificate.event."+string(e.Kind), string(e.Kind))
	if d := o.Document(e.DocumentID); d != nil {
		text += ": " + d.Title
	}
	return text
}

// evidenceLines summarizes the evidence of a login or a signature entry: the provider, the name
// the evidence shows and its claims' names (never their values, which the trail does not hold).
func evidenceLines(t func(string) string, o *order.SignatureOrder, e order.AuditEntry) []string {
	var label string
	switch e.Kind {
	case order.AuditSignatorySigned:
		label = t("certificate.evidence.signature")
	case order.AuditSignatoryLogin:
		label = strings.ReplaceAll(t("certificate.evidence.login"), "{stage}", e.Details["stage"])
	default:
		return nil
	}
	lines := []string{label + " " + providerName(t, o, e.Details["provider"], e.Details["providerKind"])}
	if name := e.Details["name"]; name != "" {
		lines = append(lines, t("certificate.evidence.name")+": "+name)
	}
	if claims := e.Details["claims"]; claims != "" {
		lines = append(lines, t("certificate.evidence.claims")+": "+strings.ReplaceAll(claims, ",", ", "))
	}
	return lines
}

// providerName is how the certificate names an evidence provider of the order.
func providerName(t func(string) string, o *order.SignatureOrder, id, kind string) string {
	for _, p := range o.EvidenceProviders {
		if p.ID != id {
			continue
		}
		switch {
		case p.OIDC != nil:
			return p.OIDC.Name
		case p.CriiptoVerify != nil:
			return "Criipto Verify (" + p.CriiptoVerify.Domain + ")"
		case p.Noop != nil && p.Noop.Name != "":
			return p.Noop.Name
		case p.Drawable != nil:
			return t("seal.drawn")
		case len(p.AllOf) > 0:
			return t("seal.several")
		}
	}
	if kind != "" {
		return kind
	}
	return id
}

// worded is key's text, or fallback where the table has none.
func worded(t func(string) string, key, fallback string) string {
	if text := t(key); text != key {
		return text
	}
	return fallback
}
