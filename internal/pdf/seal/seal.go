// Package seal is the document sealer the signing service uses: it turns a signature's evidence into
// a PAdES signature of the service's sealing identity, timestamped by the configured TSA.
package seal

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"esign/internal/evidence"
	"esign/internal/i18n"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pki"
)

// Request is what a seal needs to know beyond the PDF.
type Request struct {
	Evidence       evidence.Evidence
	SignatoryName  string
	Time           time.Time
	SealIndex      int // signatures this document already carries: the seal's slot on the seals page
	MaxSignatories int // sizes the seals page
	DocumentID     string
	Language       string // the signing page's language (i18n), for the seal's text
	Timezone       string // the order's IANA timezone, for the seal's time
	// Placements are where the signatory's visible seal goes on the document's own pages, resolved
	// by the domain (points, percent or anchor text) to rectangles; none: the seals page.
	Placements []Placement
	// Form are the values the signatory fills in the document's own form: written in an update
	// before the seal, so the signature covers them (a value the form cannot take is a
	// *pades.FormError).
	Form []pades.FormValue
	// Appearance, when given, is the order's or signatory's signatureAppearance rendered from the
	// evidence (order.RenderedAppearance): its lines replace the seal's default ones.
	Appearance *Appearance
	// DisplayDocumentID, when set (LEFT, RIGHT, TOP or BOTTOM), shows the document ID at that edge of
	// every page; added by the document's first seal.
	DisplayDocumentID string
	// SealsPageTemplate, when given, is the integrator's page the first seal appends as the seals
	// page instead of the generated one, the seals in its area.
	SealsPageTemplate *pades.SealsPageTemplate
}

// Appearance is the integrator's text for a visible seal, already filled from the evidence. Each
// part replaces its default: HeaderLeft goes above the rest (no default), DisplayName replaces
// the signatory's name after "Signed by", Footer replaces the kind of evidence; Identifier, when
// the evidence has it, is a line of its own under the name. The time and the document ID stay:
// they are what the seal attests.
type Appearance struct {
	HeaderLeft  []string
	DisplayName []string
	Identifier  string
	Footer      []string
}

// Placement is one rectangle on one page of the document, in PDF points in the page's default user
// space (origin at the lower left of its media box, before /Rotate), where a visible seal goes.
type Placement struct {
	Page                int // 1-based
	X, Y, Width, Height float64
}

// Sealer is the service's document sealer (signing.DocumentSealer).
type Sealer struct {
	Key pades.Key
	TSA pades.Timestamper
	// Admission holds back a seal until the process's PDF memory budget has room; nil admits all.
	Admission *pdf.Admission
}

// Seal signs pdf for one signatory. The evidence goes into /ContactInfo as the contract's JSON, and
// the visible seal goes at req.Placements on the document's own pages when there are any (widgets
// of the signature, added in its increment, so earlier signatures stay valid), else on the seals
// page, which the first unplaced seal of an unsigned document appends. A document that came signed
// already, or whose first seal was placed, gets invisible seals where there are no placements:
// adding a page would change what earlier signers signed.
func (s *Sealer) Seal(ctx context.Context, pdf []byte, req Request) ([]byte, error) {
	// Measured once here: reading the signatures and appending the seals page read the same bytes.
	ctx, release, err := s.Admission.Admit(ctx, pdf)
	if err != nil {
		return nil, fmt.Errorf("seal document %s: %w", req.DocumentID, err)
	}
	defer release()
	if len(req.Form) > 0 {
		if pdf, err = pades.FillForm(ctx, pdf, req.Form); err != nil {
			return nil, fmt.Errorf("seal document %s: fill form: %w", req.DocumentID, err)
		}
	}
	contact, err := req.Evidence.ContactInfo()
	if err != nil {
		return nil, err
	}
	sig := pades.Signature{Name: req.SignatoryName, Reason: "Signed", ContactInfo: contact, Time: req.Time}
	if req.DisplayDocumentID != "" && req.SealIndex == 0 {
		// Once, with the first seal: in its increment, so it covers them, and later seals see them.
		sig.DocumentID = &pades.DocumentIDMark{Text: i18n.T(req.Language)("seal.documentID") + " " + req.DocumentID, Edge: req.DisplayDocumentID}
	}
	visible := req.SealIndex > 0 // later seals go where the first one put the seals page
	if len(req.Placements) > 0 {
		sig.Widget = &pades.Widget{Lines: sealLines(req), Image: req.Evidence.Image, Placements: placements(req.Placements)}
		out, err := pades.Sign(ctx, pdf, s.Key, s.TSA, sig)
		if err != nil {
			return nil, fmt.Errorf("seal document %s: %w", req.DocumentID, err)
		}
		return out, nil
	}
	if req.SealIndex == 0 {
		earlier, err := pades.ReadSignatures(ctx, pdf)
		if err != nil {
			return nil, fmt.Errorf("seal document %s: %w", req.DocumentID, err)
		}
		if len(earlier) == 0 {
			if req.SealsPageTemplate != nil {
				pdf, err = pades.AppendTemplatePage(ctx, pdf, *req.SealsPageTemplate)
			} else {
				pdf, err = pades.AppendSealsPage(ctx, pdf, i18n.T(req.Language)("seal.title"))
			}
			if err != nil {
				return nil, fmt.Errorf("seal document %s: seals page: %w", req.DocumentID, err)
			}
			visible = true
		}
	}
	if visible {
		sig.Widget = &pades.Widget{Slot: req.SealIndex, Slots: max(req.MaxSignatories, req.SealIndex+1), Lines: sealLines(req),
			Image: req.Evidence.Image}
	}
	out, err := pades.Sign(ctx, pdf, s.Key, s.TSA, sig)
	if err != nil && visible && req.SealIndex > 0 {
		// No seals page (the document came signed): seal invisibly.
		sig.Widget = nil
		out, err = pades.Sign(ctx, pdf, s.Key, s.TSA, sig)
	}
	if err != nil {
		return nil, fmt.Errorf("seal document %s: %w", req.DocumentID, err)
	}
	return out, nil
}

func placements(in []Placement) []pades.Placement {
	out := make([]pades.Placement, len(in))
	for i, p := range in {
		out[i] = pades.Placement(p)
	}
	return out
}

// sealLines is the text of a visible seal, in the signing page's language and the order's timezone.
func sealLines(req Request) []string {
	t := i18n.T(req.Language)
	name := req.SignatoryName
	if name == "" {
		name = fmt.Sprintf("%s %d", t("seal.unnamed"), req.SealIndex+1)
	}
	kind := map[string]string{evidence.TypeDrawable: t("seal.drawn"), evidence.TypeJWT: t("seal.eid"), evidence.TypeComposite: t("seal.several")}[req.Evidence.Type]
	if kind == "" {
		kind = t("seal.test")
	}
	at := req.Time.UTC()
	if loc, err := time.LoadLocation(req.Timezone); err == nil && req.Timezone != "" {
		at = req.Time.In(loc)
	}
	stamp, docID := at.Format("2006-01-02 15:04:05 MST"), t("seal.documentID")+" "+req.DocumentID
	a := req.Appearance
	if a == nil {
		return []string{t("seal.signedBy") + " " + name, stamp, kind, docID}
	}
	lines := append([]string{}, a.HeaderLeft...)
	if len(a.DisplayName) > 0 {
		lines = append(lines, t("seal.signedBy")+" "+a.DisplayName[0])
		lines = append(lines, a.DisplayName[1:]...)
	} else {
		lines = append(lines, t("seal.signedBy")+" "+name)
	}
	if a.Identifier != "" {
		lines = append(lines, a.Identifier)
	}
	lines = append(lines, stamp)
	if len(a.Footer) > 0 {
		lines = append(lines, a.Footer...)
	} else {
		lines = append(lines, kind)
	}
	return append(lines, docID)
}

// Finalizer is the service's document finalizer (signing.DocumentFinalizer): at close, a DSS with the certificates of every
// signature and timestamp and OCSP/CRL answers for them, then a document timestamp over it all
// (PAdES B-LTA).
type Finalizer struct {
	TSA pades.Timestamper
	// Revocation gathers the DSS's validation data; nil leaves the DSS out.
	Revocation RevocationCollector
	// Admission holds back a close until the process's PDF memory budget has room; nil admits all.
	Admission *pdf.Admission
}

// RevocationCollector returns certificates with OCSP answers and CRLs for them (pki.Revocation).
type RevocationCollector interface {
	Collect(ctx context.Context, certs []*x509.Certificate) (pki.ValidationData, error)
}

// Finalize adds the DSS and the document timestamp.
func (f *Finalizer) Finalize(ctx context.Context, pdf []byte) ([]byte, error) {
	ctx, release, err := f.Admission.Admit(ctx, pdf)
	if err != nil {
		return nil, err
	}
	defer release()
	if f.Revocation != nil {
		sigs, err := pades.ReadSignatures(ctx, pdf)
		if err != nil {
			return nil, fmt.Errorf("read signatures: %w", err)
		}
		var certs []*x509.Certificate
		for _, s := range sigs {
			certs = append(certs, s.Certificates...)
		}
		if len(certs) > 0 {
			vd, err := f.Revocation.Collect(ctx, certs)
			if err != nil {
				return nil, fmt.Errorf("validation data: %w", err)
			}
			if pdf, err = pades.AddDSS(ctx, pdf, pades.ValidationData(vd)); err != nil {
				return nil, fmt.Errorf("add DSS: %w", err)
			}
		}
	}
	out, err := pades.DocumentTimestamp(ctx, pdf, f.TSA)
	if err != nil {
		return nil, fmt.Errorf("document timestamp: %w", err)
	}
	return out, nil
}
