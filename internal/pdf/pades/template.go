package pades

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/fault"
	"esign/internal/pdf"
)

// An integrator's seals page (sealsPageTemplate): their one-page PDF, imported as the document's
// seals page by the first seal, with the seals laid out in a grid inside an area of it. The page
// is copied, not referenced: its content streams and the resources they use become new objects of
// the increment, so the document stays one self-contained file. The page dictionary records the
// area and the grid, so later seals find their slot from the document alone.

// SealsPageTemplate is the page and where the seals go on it: Area is x1, y1, x2, y2 in points from
// the lower left corner of the template page's media box; Columns × Rows slots fill it, the first
// seal top left, row by row.
type SealsPageTemplate struct {
	Page          []byte
	Area          [4]float64
	Columns, Rows int
}

// Keys of the seals page dictionary that hold the template's layout (absolute user-space area).
const (
	sealsAreaKey = "EsignSealsArea"
	sealsGridKey = "EsignSealsGrid"
)

// minSlotWidth, minSlotHeight: the smallest slot a seal's text is readable in. (The domain bounds
// the grid itself: order.MaxSealsPageColumns, MaxSealsPageRows.)
const (
	minSlotWidth  = 60.0
	minSlotHeight = 24.0
)

// TemplatePage describes an integrator's seals page template: its page count and the first page's
// media box and rotation.
type TemplatePage struct {
	Pages  int
	Box    [4]float64
	Rotate int
}

// InspectTemplate reads a template (after the PDF intake's checks) for CheckTemplate.
func InspectTemplate(ctx context.Context, data []byte) (TemplatePage, error) {
	doc, err := open(ctx, data)
	if err != nil {
		return TemplatePage{}, err
	}
	n, err := doc.pageCount()
	if err != nil {
		return TemplatePage{}, err
	}
	p, err := doc.pageAt(0)
	if err != nil {
		return TemplatePage{}, err
	}
	return TemplatePage{Pages: n, Box: p.box, Rotate: p.rotate}, nil
}

// CheckTemplate applies the rules of a seals page template to what InspectTemplate found; field
// is the template's input path (…pdf.sealsPageTemplate). Errors are fault.Invalid.
func CheckTemplate(field string, page TemplatePage, t SealsPageTemplate) error {
	if page.Pages != 1 {
		return fault.Invalid(field+".blob", "must be a PDF of exactly one page, not %d", page.Pages)
	}
	if page.Rotate != 0 {
		return fault.Invalid(field+".blob", "the page must not be rotated (/Rotate %d): the area is measured on the upright page", page.Rotate)
	}
	w, h := page.Box[2]-page.Box[0], page.Box[3]-page.Box[1]
	a := t.Area
	for i, name := range []string{"x1", "y1", "x2", "y2"} {
		if math.IsNaN(a[i]) || math.IsInf(a[i], 0) {
			return fault.Invalid(field+".area."+name, "must be a finite number of points")
		}
	}
	if a[2] <= a[0] || a[3] <= a[1] {
		return fault.Invalid(field+".area", "x2 must be greater than x1 and y2 greater than y1")
	}
	if a[0] < 0 || a[1] < 0 || a[2] > w || a[3] > h {
		return fault.Invalid(field+".area", "the area %g,%g–%g,%g is not inside the template page (%g × %g points)", a[0], a[1], a[2], a[3], w, h)
	}
	if t.Columns < 1 {
		return fault.Invalid(field+".expectedColumns", "must be at least 1, not %d", t.Columns)
	}
	if t.Rows < 1 {
		return fault.Invalid(field+".expectedRows", "must be at least 1, not %d", t.Rows)
	}
	r := gridSlot([4]float64{0, 0, a[2] - a[0], a[3] - a[1]}, t.Columns, t.Rows, 0)
	if r[2]-r[0] < minSlotWidth || r[3]-r[1] < minSlotHeight {
		return fault.Invalid(field+".area", "%d × %d seals in %g × %g points leave %.0f × %.0f points for each; a seal needs at least %g × %g",
			t.Columns, t.Rows, a[2]-a[0], a[3]-a[1], r[2]-r[0], r[3]-r[1], minSlotWidth, minSlotHeight)
	}
	return nil
}

// gridSlot is slot's rectangle when area is split into columns × rows, the first top left, with a
// gap between neighbours (sealsGap, less when the cells are small).
func gridSlot(area [4]float64, columns, rows, slot int) [4]float64 {
	cw, ch := (area[2]-area[0])/float64(columns), (area[3]-area[1])/float64(rows)
	gap := math.Min(sealsGap, math.Min(cw, ch)/10)
	col, row := slot%columns, slot/columns
	x := area[0] + float64(col)*cw
	top := area[3] - float64(row)*ch
	return [4]float64{x + gap/2, top - ch + gap/2, x + cw - gap/2, top - gap/2}
}

// templateSlot is slot's rectangle on a seals page imported from a template, or false when p is
// a generated seals page.
func templateSlot(d *document, p *pageInfo, slot int) ([4]float64, bool, error) {
	areaObj, ok := p.dict[sealsAreaKey]
	if !ok {
		return [4]float64{}, false, nil
	}
	area := boxOf(d, areaObj)
	grid, err := d.xref.DereferenceArray(p.dict[sealsGridKey])
	if err != nil || len(grid) != 2 {
		return [4]float64{}, true, errors.New("seals page template: no grid")
	}
	cols, ok1 := grid[0].(types.Integer)
	rows, ok2 := grid[1].(types.Integer)
	if !ok1 || !ok2 || cols.Value() < 1 || rows.Value() < 1 {
		return [4]float64{}, true, errors.New("seals page template: bad grid")
	}
	if slot >= cols.Value()*rows.Value() {
		return [4]float64{}, true, fmt.Errorf("seals page template has room for %d seals, this is seal %d", cols.Value()*rows.Value(), slot+1)
	}
	return gridSlot(area, cols.Value(), rows.Value(), slot), true, nil
}

// AppendTemplatePage adds t's page to data as its seals page, in one increment: the page's
// resources and content streams are copied (with everything they reference) as new objects, its
// annotations and structure are left behind (a template's links or form fields have no place among
// the signatures), and the page dictionary records the area and the grid.
func AppendTemplatePage(ctx context.Context, data []byte, t SealsPageTemplate) ([]byte, error) {
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	rootRef, root, err := doc.pageTreeRoot(catalog)
	if err != nil {
		return nil, err
	}
	tmpl, err := pdf.Read(ctx, t.Page)
	if err != nil {
		return nil, fmt.Errorf("seals page template: %w", err)
	}
	if err := tmpl.EnsurePageCount(); err != nil {
		return nil, fmt.Errorf("seals page template: %w", err)
	}
	if tmpl.PageCount != 1 {
		return nil, fmt.Errorf("seals page template has %d pages, not one", tmpl.PageCount)
	}
	// Resources consolidated: those the page inherits from its tree are copied onto it.
	page, _, inherited, err := tmpl.PageDict(1, true)
	if err != nil || page == nil || inherited == nil || inherited.MediaBox == nil {
		return nil, fmt.Errorf("seals page template: page 1: %w", errors.Join(err, errors.New("unreadable")))
	}
	mb := inherited.MediaBox
	box := [4]float64{math.Min(mb.LL.X, mb.UR.X), math.Min(mb.LL.Y, mb.UR.Y), math.Max(mb.LL.X, mb.UR.X), math.Max(mb.LL.Y, mb.UR.Y)}
	if err := CheckTemplate("sealsPageTemplate", TemplatePage{Pages: 1, Box: box, Rotate: inherited.Rotate}, t); err != nil {
		return nil, err
	}
	inc := doc.increment()
	im := &importer{src: tmpl.XRefTable, inc: inc, nrs: map[int]int{}}
	resources, err := im.copy(inherited.Resources, 0)
	if err != nil {
		return nil, fmt.Errorf("seals page template resources: %w", err)
	}
	contents, err := im.copy(page["Contents"], 0)
	if err != nil {
		return nil, fmt.Errorf("seals page template contents: %w", err)
	}
	pageNr := inc.newObject()
	nd := types.Dict{
		"Type":       types.Name("Page"),
		"Parent":     rootRef,
		"MediaBox":   types.NewNumberArray(box[0], box[1], box[2], box[3]),
		sealsMarker:  types.Boolean(true),
		sealsAreaKey: types.NewNumberArray(box[0]+t.Area[0], box[1]+t.Area[1], box[0]+t.Area[2], box[1]+t.Area[3]),
		sealsGridKey: types.Array{types.Integer(t.Columns), types.Integer(t.Rows)},
	}
	if resources != nil {
		nd["Resources"] = resources
	} else {
		nd["Resources"] = types.Dict{}
	}
	if contents != nil {
		nd["Contents"] = contents
	}
	for _, key := range []string{"CropBox", "Group"} {
		if v, ok := page[key]; ok {
			if nd[key], err = im.copy(v, 0); err != nil {
				return nil, fmt.Errorf("seals page template %s: %w", key, err)
			}
		}
	}
	inc.set(pageNr, nd.PDFString())
	if err := doc.appendPage(inc, rootRef, root, pageNr); err != nil {
		return nil, err
	}
	return inc.write()
}

// importer copies objects from a template's cross-reference table into an increment, numbering
// each indirect object anew once (shared fonts stay shared, cycles end).
type importer struct {
	src *model.XRefTable
	inc *increment
	nrs map[int]int
}

// maxImportDepth bounds the recursion over a template's object graph, as the intake does.
const maxImportDepth = 100

func (im *importer) copy(o types.Object, depth int) (types.Object, error) {
	if depth > maxImportDepth {
		return nil, errors.New("object graph too deep")
	}
	switch v := o.(type) {
	case types.IndirectRef:
		old := v.ObjectNumber.Value()
		if nr, ok := im.nrs[old]; ok {
			return *types.NewIndirectRef(nr, 0), nil
		}
		nr := im.inc.newObject()
		im.nrs[old] = nr
		obj, err := im.src.Dereference(v)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", old, err)
		}
		body, err := im.body(obj, depth)
		if err != nil {
			return nil, err
		}
		im.inc.set(nr, body)
		return *types.NewIndirectRef(nr, 0), nil
	case types.Dict:
		out := types.Dict{}
		for k, val := range v {
			// Links back into the template's page tree would pull in its pages.
			if k == "Parent" || k == "P" {
				continue
			}
			c, err := im.copy(val, depth+1)
			if err != nil {
				return nil, err
			}
			if c != nil {
				out[k] = c
			}
		}
		return out, nil
	case types.Array:
		out := make(types.Array, 0, len(v))
		for _, val := range v {
			c, err := im.copy(val, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	case types.StreamDict:
		return nil, errors.New("a stream that is not an indirect object")
	}
	return o, nil
}

// body is the text of a copied indirect object: a stream keeps its encoded bytes and filters.
func (im *importer) body(obj types.Object, depth int) (string, error) {
	if obj == nil {
		return "null", nil
	}
	sd, ok := obj.(types.StreamDict)
	if !ok {
		c, err := im.copy(obj, depth+1)
		if err != nil {
			return "", err
		}
		if c == nil {
			return "null", nil
		}
		return c.PDFString(), nil
	}
	if sd.Raw == nil && sd.StreamLength != nil && *sd.StreamLength > 0 {
		return "", errors.New("stream data not loaded")
	}
	c, err := im.copy(sd.Dict, depth+1)
	if err != nil {
		return "", err
	}
	d := c.(types.Dict)
	d["Length"] = types.Integer(len(sd.Raw))
	return d.PDFString() + "\nstream\n" + string(sd.Raw) + "\nendstream", nil
}
