package order

import (
	"errors"
	"fmt"
	"math"

	"esign/internal/fault"
)

// A placement is where a signatory's mark (their visible seal) goes on one document. The three
// edges say it three ways, and each way means what its contract says:
//
//   - Points (Criipto pdfSealPositions): page, x and y in PDF points in "the PDF coordinate system
//     (bottom-left as 0,0)", i.e. the page's default user space, unrotated. x, y is the seal's
//     lower-left corner; the seal has its standard size (SealWidth × SealHeight) times the
//     position's scale (0.2–1.0, default 1, rounded down to a tenth at intake).
//   - Percent (the /v1/signatures fields): page, x and y in percent of the page's width and height
//     with the origin at the TOP-LEFT corner of the page as a viewer shows it (after /Rotate),
//     width and height in percent too.
//   - Anchor (the /v1/signatures anchorTags): a literal text; EVERY occurrence, on every page, gets
//     a mark whose top-left corner is the occurrence's top-left corner moved by the offsets (points,
//     right and down as the page is shown), of width × height points (default AnchorWidth ×
//     AnchorHeight). A text that is not in the document is an error unless IgnoreIfMissing.
//
// ResolvePlacements turns them into rectangles in points (Rect), which is what the sealer draws.

// The sizes of a mark where its input gives none, in points.
const (
	// SealWidth and SealHeight are the standard seal, the size of a seal on a seals page of an A4
	// document with two columns, so that a seal placed on the document reads like one there.
	SealWidth  = 250.0
	SealHeight = 110.0
	// AnchorWidth and AnchorHeight are an anchor's mark when the anchor gives no size: room for a
	// seal's four lines of text at the smallest size it still reads well.
	AnchorWidth  = 200.0
	AnchorHeight = 80.0
)

// Placement is one placement of a signatory's mark: exactly one of Points, Percent and Anchor.
type Placement struct {
	// Field is the input path the placement came from ("signatories[0].documents[1].pdfSealPositions[2]",
	// "anchorTags[3]"), named in the errors about it, at intake and when it is resolved at signing.
	Field   string            `json:"field,omitempty"`
	Points  *PointPlacement   `json:"points,omitempty"`
	Percent *PercentPlacement `json:"percent,omitempty"`
	Anchor  *AnchorPlacement  `json:"anchor,omitempty"`
	// DefaultSize is the mark's size in points where a percent or anchor placement gives none
	// (width and height 0); nil: a percent placement must give its size, an anchor's mark is
	// AnchorWidth × AnchorHeight.
	DefaultSize *Size `json:"defaultSize,omitempty"`
}

// PointPlacement is a Criipto seal position (see Placement).
type PointPlacement struct {
	Page  int     `json:"page"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Scale float64 `json:"scale,omitempty"` // 0 means 1
}

// PercentPlacement is a rectangle in percent of the shown page, origin top-left (see Placement).
type PercentPlacement struct {
	Page   int     `json:"page"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

// AnchorPlacement is a mark relative to every occurrence of a text (see Placement).
type AnchorPlacement struct {
	Text string `json:"text"`
	// OffsetX and OffsetY move the mark's top-left corner from the text's, in points, right and
	// down as the page is shown.
	OffsetX float64 `json:"offsetX,omitempty"`
	OffsetY float64 `json:"offsetY,omitempty"`
	// Width and Height are the mark's size in points; 0 means AnchorWidth, AnchorHeight.
	Width           float64 `json:"width,omitempty"`
	Height          float64 `json:"height,omitempty"`
	IgnoreIfMissing bool    `json:"ignoreIfMissing,omitempty"`
}

// Rect is a resolved mark: a rectangle on one page, in PDF points in the page's default user space
// (origin where the page's coordinates have it, normally the media box's lower-left corner; before
// /Rotate). X, Y is its lower-left corner.
type Rect struct {
	Page                int
	X, Y, Width, Height float64
}

// PageBox is what resolving needs to know of one page: the box a viewer shows (its crop box
// within its media box) and /Rotate (0, 90, 180 or 270: degrees clockwise the page is turned when
// shown).
type PageBox struct {
	LLX, LLY, URX, URY float64
	Rotate             int
}

// PageGeometry answers a document's page count and each page's box.
type PageGeometry interface {
	PageCount() int
	// PageBox returns page n's box, 1 ≤ n ≤ PageCount().
	PageBox(n int) (PageBox, error)
}

// AnchorFinder finds every occurrence of a literal text in a document, each as the rectangle of
// its glyphs in the page's default user space (Rect). An error is the document's, not the text's:
// no occurrence is an empty answer.
type AnchorFinder interface {
	FindText(text string) ([]Rect, error)
}

// PlacementsOf is where a signatory document's seal goes: its Criipto seal positions and its
// signature fields.
func PlacementsOf(field string, sd SignatoryDocument) []Placement {
	out := make([]Placement, 0, len(sd.SealPositions))
	for i, p := range sd.SealPositions {
		pp := &PointPlacement{Page: p.Page, X: p.X, Y: p.Y}
		if p.Scale != nil {
			pp.Scale = *p.Scale
		}
		out = append(out, Placement{Field: fmt.Sprintf("%s.pdfSealPositions[%d]", field, i), Points: pp})
	}
	for i, f := range sd.Fields {
		if f.Kind == FieldSignature {
			p := f.Placement
			p.Field = fmt.Sprintf("%s.fields[%d]", field, i)
			out = append(out, p)
		}
	}
	return out
}

// FieldPlacements is where the form fields of a signatory document's fields go, one per field that
// is not a signature field (FieldsOf's order), with their input paths.
func FieldPlacements(field string, sd SignatoryDocument) []Placement {
	var out []Placement
	for i, f := range sd.Fields {
		if f.Kind != FieldSignature {
			p := f.Placement
			p.Field = fmt.Sprintf("%s.fields[%d]", field, i)
			out = append(out, p)
		}
	}
	return out
}

// Validate checks a placement's own rules; pages are checked against the document by
// CheckPlacementPages and ResolvePlacements. Errors name p.Field and the sub-field.
func (p Placement) Validate() error {
	n := 0
	for _, set := range []bool{p.Points != nil, p.Percent != nil, p.Anchor != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fault.Invalid(p.Field, "a placement needs exactly one of points, percent or anchor text, got %d", n)
	}
	switch {
	case p.Points != nil:
		q := p.Points
		if err := checkPage(p.sub("page"), q.Page); err != nil {
			return err
		}
		if err := checkRange(p.sub("x"), q.X, 0, MaxPagePoints, "points"); err != nil {
			return err
		}
		if err := checkRange(p.sub("y"), q.Y, 0, MaxPagePoints, "points"); err != nil {
			return err
		}
		if q.Scale != 0 && (math.IsNaN(q.Scale) || q.Scale < 0.2 || q.Scale > 1) {
			return fault.Invalid(p.sub("scale"), "must be between 0.2 and 1.0")
		}
	case p.Percent != nil:
		q := p.Percent
		if err := checkPage(p.sub("page"), q.Page); err != nil {
			return err
		}
		if err := checkRange(p.sub("x"), q.X, 0, 100, "percent of the page width"); err != nil {
			return err
		}
		if err := checkRange(p.sub("y"), q.Y, 0, 100, "percent of the page height"); err != nil {
			return err
		}
		// 0 is "not given" when the mark has a default size.
		if q.Width != 0 || p.DefaultSize == nil {
			if err := checkSize(p.sub("width"), q.Width, 100, "percent of the page width"); err != nil {
				return err
			}
		}
		if q.Height != 0 || p.DefaultSize == nil {
			if err := checkSize(p.sub("height"), q.Height, 100, "percent of the page height"); err != nil {
				return err
			}
		}
	default:
		q := p.Anchor
		if q.Text == "" {
			return fault.Invalid(p.sub("text"), "must be 1 to %d characters, got none", MaxAnchorTextLen)
		}
		if err := checkLine(p.sub("text"), q.Text, MaxAnchorTextLen); err != nil {
			return err
		}
		if err := checkRange(p.sub("offsetX"), q.OffsetX, -MaxPagePoints, MaxPagePoints, "points"); err != nil {
			return err
		}
		if err := checkRange(p.sub("offsetY"), q.OffsetY, -MaxPagePoints, MaxPagePoints, "points"); err != nil {
			return err
		}
		// 0 is "not given" (the default size); anything given must be a size.
		if q.Width != 0 {
			if err := checkSize(p.sub("width"), q.Width, MaxAnchorSize, "points"); err != nil {
				return err
			}
		}
		if q.Height != 0 {
			if err := checkSize(p.sub("height"), q.Height, MaxAnchorSize, "points"); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidatePlacements checks each placement and their number.
func ValidatePlacements(field string, ps []Placement) error {
	if err := checkList(field, len(ps), MaxPlacementsInput); err != nil {
		return err
	}
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// CheckPlacementPages refuses a placement on a page the document does not have, for when the page
// count is known before the document is read again (at intake).
func CheckPlacementPages(ps []Placement, pages int) error {
	for _, p := range ps {
		if page := p.page(); page > pages {
			return pageBeyond(p.sub("page"), page, pages)
		}
	}
	return nil
}

// ResolvePlacements turns a signatory's placements on one document into the rectangles their
// marks take, in the order given (an anchor's occurrences in the finder's order). anchors may be
// nil when no placement is an anchor. A page beyond the document, or an anchor text it does not
// contain (unless ignored), is an INVALID error naming the placement's field.
func ResolvePlacements(ps []Placement, pages PageGeometry, anchors AnchorFinder) ([]Rect, error) {
	var out []Rect
	add := func(field string, r Rect) error {
		if len(out) >= MaxPlacedRects {
			return fault.Invalid(field, "the placements put more than %d marks on the document", MaxPlacedRects)
		}
		out = append(out, r)
		return nil
	}
	count := pages.PageCount()
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if page := p.page(); page > count {
			return nil, pageBeyond(p.sub("page"), page, count)
		}
		switch {
		case p.Points != nil:
			q := p.Points
			scale := q.Scale
			if scale == 0 {
				scale = 1
			}
			if err := add(p.Field, Rect{Page: q.Page, X: q.X, Y: q.Y, Width: SealWidth * scale, Height: SealHeight * scale}); err != nil {
				return nil, err
			}
		case p.Percent != nil:
			q := p.Percent
			box, err := pages.PageBox(q.Page)
			if err != nil {
				return nil, fmt.Errorf("%s: page %d: %w", p.Field, q.Page, err)
			}
			w, h := box.shownSize()
			mw, mh := q.Width/100*w, q.Height/100*h
			if q.Width == 0 && p.DefaultSize != nil {
				mw = p.DefaultSize.Width
			}
			if q.Height == 0 && p.DefaultSize != nil {
				mh = p.DefaultSize.Height
			}
			r := box.fromShown(q.Page, q.X/100*w, q.Y/100*h, mw, mh)
			if err := add(p.Field, r); err != nil {
				return nil, err
			}
		default:
			q := p.Anchor
			if anchors == nil {
				return nil, errors.New("resolve placements: an anchor placement needs an anchor finder")
			}
			hits, err := anchors.FindText(q.Text)
			if err != nil {
				return nil, err
			}
			if len(hits) == 0 && !q.IgnoreIfMissing {
				return nil, fault.Invalid(p.sub("text"), "the text %q is not in the document", q.Text)
			}
			width, height := q.Width, q.Height
			size := Size{AnchorWidth, AnchorHeight}
			if p.DefaultSize != nil {
				size = *p.DefaultSize
			}
			if width == 0 {
				width = size.Width
			}
			if height == 0 {
				height = size.Height
			}
			for _, hit := range hits {
				box, err := pages.PageBox(hit.Page)
				if err != nil {
					return nil, fmt.Errorf("%s: page %d: %w", p.Field, hit.Page, err)
				}
				// The mark hangs from the text's top-left corner as the page is shown, so that a
				// rotated page gets it where the reader sees the text.
				u, v := box.toShown(hit.X, hit.Y)
				u2, v2 := box.toShown(hit.X+hit.Width, hit.Y+hit.Height)
				left, top := math.Min(u, u2), math.Min(v, v2)
				if err := add(p.Field, box.fromShown(hit.Page, left+q.OffsetX, top+q.OffsetY, width, height)); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func (p Placement) sub(name string) string {
	if p.Field == "" {
		return name
	}
	return p.Field + "." + name
}

// page is the page a placement names (0 for an anchor, which finds its own).
func (p Placement) page() int {
	switch {
	case p.Points != nil:
		return p.Points.Page
	case p.Percent != nil:
		return p.Percent.Page
	}
	return 0
}

func pageBeyond(field string, page, pages int) error {
	noun := "pages"
	if pages == 1 {
		noun = "page"
	}
	return fault.Invalid(field, "page %d is beyond the end of the document, which has %d %s", page, pages, noun)
}

func checkPage(field string, page int) error {
	if page < 1 {
		return fault.Invalid(field, "must be a page number from 1, got %d", page)
	}
	return nil
}

func checkRange(field string, v, lo, hi float64, unit string) error {
	if math.IsNaN(v) || v < lo || v > hi {
		return fault.Invalid(field, "must be from %g to %g (%s), got %g", lo, hi, unit, v)
	}
	return nil
}

func checkSize(field string, v, hi float64, unit string) error {
	if math.IsNaN(v) || v <= 0 || v > hi {
		return fault.Invalid(field, "must be more than 0 and at most %g (%s), got %g", hi, unit, v)
	}
	return nil
}

// rotation is /Rotate as 0, 90, 180 or 270 (ISO 32000 allows any multiple of 90, negative too).
func (b PageBox) rotation() int {
	return ((b.Rotate % 360) + 360) % 360 / 90 * 90
}

// shownSize is the page's width and height as a viewer shows it.
func (b PageBox) shownSize() (w, h float64) {
	w, h = b.URX-b.LLX, b.URY-b.LLY
	if r := b.rotation(); r == 90 || r == 270 {
		return h, w
	}
	return w, h
}

// toShown maps a point of default user space to the shown page: u right, v down from its top-left
// corner. Turning a page clockwise by 90° brings its lower-left corner to the top-left, by 180°
// its lower-right, by 270° its upper-right.
func (b PageBox) toShown(x, y float64) (u, v float64) {
	switch b.rotation() {
	case 90:
		return y - b.LLY, x - b.LLX
	case 180:
		return b.URX - x, y - b.LLY
	case 270:
		return b.URY - y, b.URX - x
	}
	return x - b.LLX, b.URY - y
}

// toUser is toShown's inverse.
func (b PageBox) toUser(u, v float64) (x, y float64) {
	switch b.rotation() {
	case 90:
		return b.LLX + v, b.LLY + u
	case 180:
		return b.URX - u, b.LLY + v
	case 270:
		return b.URX - v, b.URY - u
	}
	return b.LLX + u, b.URY - v
}

// fromShown is the user-space rectangle of a rectangle of the shown page (top-left u, v; size w, h).
func (b PageBox) fromShown(page int, u, v, w, h float64) Rect {
	x1, y1 := b.toUser(u, v)
	x2, y2 := b.toUser(u+w, v+h)
	return Rect{Page: page, X: math.Min(x1, x2), Y: math.Min(y1, y2), Width: math.Abs(x2 - x1), Height: math.Abs(y2 - y1)}
}
