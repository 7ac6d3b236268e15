package pades

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/fault"
)

// Placement is a rectangle on one of the document's own pages where a visible seal goes: Page
// counts from 1; X, Y, Width and Height are points in the page's default user space measured from
// the lower left corner of its media box, before /Rotate (as the page is stored, not as shown).
type Placement struct {
	Page                int
	X, Y, Width, Height float64
}

// minPlacementSide is the smallest side a placed seal may have: below it no text is readable.
const minPlacementSide = 8.0

// widgetSpec is one widget annotation of the signature field: where it goes and how its appearance
// is drawn (aw × ah as the page is shown; matrix turns it upright on a rotated page).
type widgetSpec struct {
	page   *pageInfo
	rect   [4]float64
	aw, ah float64
	matrix string
	// appearance is the content stream, laid out for aw × ah.
	appearance string
}

// addSignatureField appends a signature field whose value is sigDict, then fills its /ByteRange
// and /Contents with sign's answer over the covered bytes. Without widget the field is invisible on
// the first page; with one it is visible: at widget.Placements on the document's pages (the first
// placement the field's own widget, the others stamp annotations showing the same seal), or else in
// widget.Slot of the seals page. Everything is in this one increment and no content stream changes:
// pages get the widgets in their /Annots, which validators accept after a signature.
//
// The catalog declares the ETSI extension at esicLevel (declareExtensions) when this increment
// changes the catalog anyway, when it holds the document's first signature, or for the document
// timestamp (esicLTVLevel), which closes the document. mark, when given, adds the document ID's
// stamps to every page in the same increment (docid.go).
func addSignatureField(ctx context.Context, data []byte, sigDict string, widget *Widget, mark *DocumentIDMark, esicLevel int, sign func(context.Context, []byte) ([]byte, error)) ([]byte, error) {
	doc, err := open(ctx, data)
	if err != nil {
		return nil, err
	}
	catalog, err := doc.xref.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	catalog = catalog.Clone().(types.Dict)
	inc := doc.increment()
	sigNr := inc.newObject()
	fieldNr := inc.newObject()

	specs, err := doc.widgetSpecs(widget)
	if err != nil {
		return nil, err
	}
	resources := ""
	var u *fontUse
	var img *sealImage
	if widget != nil {
		if u, err = newFontUse(); err != nil {
			return nil, err
		}
		xobjects := ""
		if len(widget.Image) > 0 {
			imgNr, maskNr := inc.newObject(), inc.newObject()
			rgb, alpha, w, h, err := imageXObjects(widget.Image, maskNr)
			if err != nil {
				return nil, err
			}
			inc.set(maskNr, alpha)
			inc.set(imgNr, rgb)
			img, xobjects = &sealImage{w: w, h: h}, fmt.Sprintf(" /XObject << /Im1 %d 0 R >>", imgNr)
		}
		fontNr := inc.newObject() // numbered now, written once every appearance has chosen its glyphs
		resources = fmt.Sprintf(" /Resources << /Font << /F1 %d 0 R >>%s >>", fontNr, xobjects)
		for _, s := range specs {
			s.appearance = sealAppearance(u, s.aw, s.ah, widget.Lines, img)
		}
		if err := u.objects(inc, fontNr); err != nil {
			return nil, err
		}
	}
	fieldName := textString(fmt.Sprintf("Signature%d", fieldNr))
	pageOf := func(s *widgetSpec) string {
		return fmt.Sprintf("/P %d %d R", s.page.ref.ObjectNumber.Value(), s.page.ref.GenerationNumber.Value())
	}
	annots := map[int][]int{} // page object number → new widgets on it
	var pageOrder []*pageInfo
	for i, s := range specs {
		rect := fmt.Sprintf("%s /Rect [%s %s %s %s]", pageOf(s), num(s.rect[0]), num(s.rect[1]), num(s.rect[2]), num(s.rect[3]))
		if widget != nil {
			// An invisible signature (zero-size widget: a document timestamp, a seal on a document
			// that came signed) gets no appearance: validators such as pyHanko count a new /AP as a
			// form-filling change, which would lift the earlier signatures' modification level above
			// what an LTA update is.
			apNr := inc.newObject()
			inc.set(apNr, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s]%s%s /Length %d >>\nstream\n%s\nendstream",
				num(s.aw), num(s.ah), s.matrix, resources, len(s.appearance), s.appearance))
			rect += fmt.Sprintf(" /AP << /N %d 0 R >>", apNr)
		}
		widgetNr := fieldNr
		if i == 0 {
			// The field's one widget, merged with it (flags: print, locked).
			inc.set(fieldNr, fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T %s /V %d 0 R %s /F 132 >>", fieldName, sigNr, rect))
		} else {
			// Further placements show the same seal as stamp annotations (print, read-only,
			// locked) rather than as more widgets of the field: poppler before 25 (Debian 12's
			// pdfsig, Evince, Okular) reports a signature field with /Kids as unsigned. The
			// stamps are in this signature's increment, so it covers them.
			widgetNr = inc.newObject()
			inc.set(widgetNr, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /Name /Approved %s /F 196 /Contents %s >>", rect, textString(strings.Join(widget.Lines, "\n"))))
		}
		nr := s.page.ref.ObjectNumber.Value()
		if _, seen := annots[nr]; !seen {
			pageOrder = append(pageOrder, s.page)
		}
		annots[nr] = append(annots[nr], widgetNr)
	}
	if mark != nil {
		if pageOrder, err = doc.addDocumentIDStamps(inc, mark, annots, pageOrder); err != nil {
			return nil, err
		}
	}
	for _, p := range pageOrder {
		if err := doc.addAnnots(inc, p, annots[p.ref.ObjectNumber.Value()]); err != nil {
			return nil, err
		}
	}
	first := firstSignature(doc, catalog)
	catalogChanged, err := doc.addField(inc, catalog, fieldNr)
	if err != nil {
		return nil, err
	}
	if (catalogChanged || first || esicLevel == esicLTVLevel) && declareExtensions(doc, catalog, esicLevel) {
		catalogChanged = true
	}
	if catalogChanged {
		inc.set(doc.xref.Root.ObjectNumber.Value(), catalog.PDFString())
	}
	inc.set(sigNr, sigDict)
	out, err := inc.write()
	if err != nil {
		return nil, err
	}
	return fillSignature(ctx, out, inc.offsets[sigNr], sign)
}

// widgetSpecs says where the signature's widgets go: one invisible on the first page (widget nil),
// widget's placements, or its slot on the seals page.
func (d *document) widgetSpecs(widget *Widget) ([]*widgetSpec, error) {
	if widget == nil {
		p, err := d.pageAt(0)
		if err != nil {
			return nil, err
		}
		return []*widgetSpec{{page: p}}, nil
	}
	if len(widget.Placements) == 0 {
		p, err := d.pageAt(-1)
		if err != nil {
			return nil, err
		}
		if v, ok := p.dict[sealsMarker].(types.Boolean); !ok || !v.Value() {
			return nil, errors.New("visible seal: the last page is not the seals page")
		}
		r := slotRect(p.box, widget.Slot, widget.Slots)
		// An integrator's template page has its own area and grid (template.go).
		if tr, ok, err := templateSlot(d, p, widget.Slot); err != nil {
			return nil, err
		} else if ok {
			r = tr
		}
		return []*widgetSpec{{page: p, rect: r, aw: r[2] - r[0], ah: r[3] - r[1]}}, nil
	}
	count, err := d.pageCount()
	if err != nil {
		return nil, err
	}
	pages := map[int]*pageInfo{}
	var specs []*widgetSpec
	for i, pl := range widget.Placements {
		field := fmt.Sprintf("placements[%d]", i)
		if pl.Page < 1 || pl.Page > count {
			return nil, fault.Invalid(field+".page", "page %d does not exist: the document has %d pages", pl.Page, count)
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"x", pl.X}, {"y", pl.Y}, {"width", pl.Width}, {"height", pl.Height}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
				return nil, fault.Invalid(field+"."+v.name, "must be a finite number of points")
			}
		}
		if pl.Width < minPlacementSide || pl.Height < minPlacementSide {
			return nil, fault.Invalid(field, "a seal must be at least %g × %g points, not %g × %g", minPlacementSide, minPlacementSide, pl.Width, pl.Height)
		}
		p := pages[pl.Page]
		if p == nil {
			if p, err = d.pageAt(pl.Page - 1); err != nil {
				return nil, err
			}
			pages[pl.Page] = p
		}
		box := p.box
		rect := [4]float64{box[0] + pl.X, box[1] + pl.Y, box[0] + pl.X + pl.Width, box[1] + pl.Y + pl.Height}
		const slack = 0.01 // rounding in a caller's conversion from percent
		if pl.X < -slack || pl.Y < -slack || rect[2] > box[2]+slack || rect[3] > box[3]+slack {
			return nil, fault.Invalid(field, "the rectangle %g,%g %g × %g is not inside page %d (%g × %g points)",
				pl.X, pl.Y, pl.Width, pl.Height, pl.Page, box[2]-box[0], box[3]-box[1])
		}
		s := &widgetSpec{page: p, rect: rect, aw: pl.Width, ah: pl.Height}
		// On a rotated page the appearance is drawn as the page is shown (its width along the
		// shown page's width) and turned back by /Matrix, so the seal reads upright.
		switch p.rotate {
		case 90:
			s.aw, s.ah = pl.Height, pl.Width
			s.matrix = fmt.Sprintf(" /Matrix [0 1 -1 0 %s 0]", num(s.ah))
		case 180:
			s.matrix = fmt.Sprintf(" /Matrix [-1 0 0 -1 %s %s]", num(s.aw), num(s.ah))
		case 270:
			s.aw, s.ah = pl.Height, pl.Width
			s.matrix = fmt.Sprintf(" /Matrix [0 -1 1 0 0 %s]", num(s.aw))
		}
		specs = append(specs, s)
	}
	return specs, nil
}

// num writes a coordinate with at most three decimals and no trailing zeros.
func num(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// pageInfo is a page as the seal needs it: its dictionary (a copy), reference, and the inheritable
// attributes resolved: media box and rotation (0, 90, 180 or 270).
type pageInfo struct {
	dict   types.Dict
	ref    types.IndirectRef
	box    [4]float64
	rotate int
}

func (d *document) pageCount() (int, error) {
	catalog, err := d.xref.Catalog()
	if err != nil {
		return 0, fmt.Errorf("catalog: %w", err)
	}
	root, err := d.xref.DereferenceDict(catalog["Pages"])
	if err != nil || root == nil {
		return 0, errors.New("page tree root unreadable")
	}
	n, ok := root["Count"].(types.Integer)
	if !ok {
		return 0, errors.New("page tree root has no /Count")
	}
	return n.Value(), nil
}

// pageAt walks the page tree to the page with index (from 0; -1 is the last page) by the nodes'
// /Count, reading only the nodes on the way: much cheaper than pdfcpu's full validation, which a
// 20 MB file would otherwise pay on every signature.
func (d *document) pageAt(index int) (*pageInfo, error) {
	catalog, err := d.xref.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	node := catalog["Pages"]
	var inherited [2]types.Object // MediaBox, Rotate
	last := index < 0
	for depth := 0; depth < 64; depth++ {
		ref, ok := node.(types.IndirectRef)
		if !ok {
			return nil, errors.New("page tree: node is not an indirect object")
		}
		dict, err := d.xref.DereferenceDict(ref)
		if err != nil || dict == nil {
			return nil, fmt.Errorf("page tree: %w", errors.Join(err, errors.New("missing node")))
		}
		for i, key := range []string{"MediaBox", "Rotate"} {
			if v, ok := dict[key]; ok {
				inherited[i] = v
			}
		}
		if t := dict.NameEntry("Type"); t != nil && *t == "Page" {
			p := &pageInfo{dict: dict.Clone().(types.Dict), ref: ref, box: boxOf(d, inherited[0])}
			if r, err := d.xref.DereferenceInteger(inherited[1]); err == nil && r != nil {
				p.rotate = ((r.Value() % 360) + 360) % 360
			}
			if p.rotate%90 != 0 {
				return nil, fmt.Errorf("page tree: /Rotate %d is not a multiple of 90", p.rotate)
			}
			return p, nil
		}
		kids, err := d.xref.DereferenceArray(dict["Kids"])
		if err != nil || len(kids) == 0 {
			return nil, errors.New("page tree: a node without kids")
		}
		if last {
			node = kids[len(kids)-1]
			continue
		}
		node = nil
		for _, kid := range kids {
			n, err := d.leaves(kid)
			if err != nil {
				return nil, err
			}
			if index < n {
				node = kid
				break
			}
			index -= n
		}
		if node == nil {
			return nil, errors.New("page tree: fewer pages than /Count says")
		}
	}
	return nil, errors.New("page tree: too deep")
}

// leaves is how many pages the page tree node kid holds.
func (d *document) leaves(kid types.Object) (int, error) {
	dict, err := d.xref.DereferenceDict(kid)
	if err != nil || dict == nil {
		return 0, errors.New("page tree: unreadable kid")
	}
	if t := dict.NameEntry("Type"); t != nil && *t == "Page" {
		return 1, nil
	}
	n, ok := dict["Count"].(types.Integer)
	if !ok {
		if ref, isRef := dict["Count"].(types.IndirectRef); isRef {
			if v, err := d.xref.DereferenceInteger(ref); err == nil && v != nil {
				return v.Value(), nil
			}
		}
		return 0, errors.New("page tree: a node without /Count")
	}
	return n.Value(), nil
}

// boxOf reads a rectangle (normalised: lower left first), A4 when missing or unreadable.
func boxOf(d *document, o types.Object) [4]float64 {
	box := [4]float64{0, 0, 595, 842}
	arr, err := d.xref.DereferenceArray(o)
	if err != nil || len(arr) != 4 {
		return box
	}
	for i, v := range arr {
		if obj, err := d.xref.Dereference(v); err == nil {
			v = obj
		}
		switch n := v.(type) {
		case types.Integer:
			box[i] = float64(n.Value())
		case types.Float:
			box[i] = n.Value()
		default:
			return [4]float64{0, 0, 595, 842}
		}
	}
	return [4]float64{math.Min(box[0], box[2]), math.Min(box[1], box[3]), math.Max(box[0], box[2]), math.Max(box[1], box[3])}
}

// addAnnots puts widgets into the page's /Annots, rewriting the page (or its indirect array).
func (d *document) addAnnots(inc *increment, p *pageInfo, widgetNrs []int) error {
	var refs types.Array
	for _, nr := range widgetNrs {
		refs = append(refs, *types.NewIndirectRef(nr, 0))
	}
	switch annots := p.dict["Annots"].(type) {
	case types.IndirectRef:
		arr, err := d.xref.DereferenceArray(annots)
		if err != nil {
			return fmt.Errorf("page annotations: %w", err)
		}
		inc.set(annots.ObjectNumber.Value(), append(arr, refs...).PDFString())
		return nil
	case types.Array:
		p.dict["Annots"] = append(annots, refs...)
	default:
		p.dict["Annots"] = refs
	}
	inc.set(p.ref.ObjectNumber.Value(), p.dict.PDFString())
	return nil
}
