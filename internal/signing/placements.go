package signing

import (
	"context"
	"errors"
	"fmt"

	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/seal"
)

// signatoryPlacements is the signatory's placements on document id, with the input path that named
// them (for errors), or nil: their seal goes on the seals page.
func signatoryPlacements(o *order.SignatureOrder, sig *order.Signatory, id string) []order.Placement {
	si := 0
	for i := range o.Signatories {
		if o.Signatories[i].ID == sig.ID {
			si = i
		}
	}
	for j, sd := range sig.Documents {
		if sd.ID == id {
			return order.PlacementsOf(fmt.Sprintf("signatories[%d].documents[%d]", si, j), sd)
		}
	}
	return nil
}

// resolvePlacements turns the signatory's placements on d into the sealer's rectangles. They are
// resolved on the ORIGINAL version, the document the integrator placed them on: the current version
// may end with a seals page, and its pages must not count as the document's nor be searched for
// anchors. Pages 1..n of every later version are the original's (signatures are incremental), so
// the rectangles hold on the version being sealed.
func (s *Service) resolvePlacements(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, d *order.Document) ([]seal.Placement, error) {
	ps := signatoryPlacements(o, sig, d.ID)
	if len(ps) == 0 {
		return nil, nil
	}
	orig := d.Original()
	if orig == nil {
		return nil, fault.Conflictf("document %q is no longer stored", d.Title)
	}
	data, err := s.readVersion(ctx, o, d, orig)
	if err != nil {
		return nil, err
	}
	var texts []string
	for _, p := range ps {
		if p.Anchor != nil {
			texts = append(texts, p.Anchor.Text)
		}
	}
	layout, err := s.layoutOf(ctx, d, data, texts, "; nothing was signed")
	if err != nil {
		return nil, err
	}
	rects, err := order.ResolvePlacements(ps, layoutPages{layout}, layoutPages{layout})
	if err != nil {
		return nil, err
	}
	out := make([]seal.Placement, len(rects))
	for i, r := range rects {
		out[i] = seal.Placement{Page: r.Page, X: r.X, Y: r.Y, Width: r.Width, Height: r.Height}
	}
	return out, nil
}

// CheckPlacementPages refuses, at intake, placements on a page beyond a document of pages pages,
// for the signatories of o that name document id (the count comes from pdf.Info.Pages). Anchors are
// checked when they are resolved, as the document is read then anyway.
func CheckPlacementPages(o *order.SignatureOrder, id string, pages int) error {
	for i := range o.Signatories {
		if err := order.CheckPlacementPages(signatoryPlacements(o, &o.Signatories[i], id), pages); err != nil {
			return err
		}
	}
	return nil
}

// layoutPages is a pdf.TextLayout as the domain's PageGeometry and AnchorFinder.
type layoutPages struct{ l *pdf.TextLayout }

func (p layoutPages) PageCount() int { return len(p.l.Pages) }

func (p layoutPages) PageBox(n int) (order.PageBox, error) {
	if n < 1 || n > len(p.l.Pages) {
		return order.PageBox{}, fmt.Errorf("page %d of %d", n, len(p.l.Pages))
	}
	// Percent placements are of the page as a viewer shows it: its visible (crop) box.
	g := p.l.Pages[n-1]
	return order.PageBox{LLX: g.Visible[0], LLY: g.Visible[1], URX: g.Visible[2], URY: g.Visible[3], Rotate: g.Rotate}, nil
}

func (p layoutPages) FindText(text string) ([]order.Rect, error) {
	for _, t := range p.l.Truncated {
		if t == text {
			return nil, fault.Invalid("", "the text %q occurs more than %d times in the document", text, pdf.MaxOccurrences)
		}
	}
	boxes := p.l.Found[text]
	out := make([]order.Rect, len(boxes))
	for i, b := range boxes {
		out[i] = order.Rect{Page: b.Page, X: b.X, Y: b.Y, Width: b.Width, Height: b.Height}
	}
	return out, nil
}

// layoutOf reads document d's pages and where texts stand on them (pdf.SearchText, admitted to the
// PDF memory budget). A document the PDF checks refuse is an INVALID error naming it with the rule,
// then after; anything else is the service's.
func (s *Service) layoutOf(ctx context.Context, d *order.Document, data []byte, texts []string, after string) (*pdf.TextLayout, error) {
	layout, err := pdf.SearchText(ctx, s.cfg.PDFAdmission, data, texts)
	if err != nil {
		var problem *pdf.Problem
		if errors.As(err, &problem) {
			return nil, fault.Invalid("", "Document %s %s%s", d.Title, problem.Reason, after)
		}
		return nil, fmt.Errorf("read the text layout of document %s: %w", d.ID, err)
	}
	return layout, nil
}
