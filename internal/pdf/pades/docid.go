package pades

import (
	"errors"
	"fmt"
	"math"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/fault"
)

// The document ID on every page (displayDocumentID): a stamp annotation per page with its own
// appearance, added in the increment of the document's first seal, so that signature covers them.
// Page content streams are never changed: earlier signatures (a document that came signed) stay
// valid, and validators accept new annotations after a signature.

// DocumentIDMark asks for Text (the document ID with its label) at Edge of every page: LEFT, RIGHT,
// TOP or BOTTOM of the page as it is shown (after /Rotate). At LEFT and RIGHT the text runs up the
// edge, turned 90°.
type DocumentIDMark struct {
	Text string
	Edge string
}

// Edges of the page where a DocumentIDMark may go (the contract's DocumentIDLocation).
const (
	EdgeLeft   = "LEFT"
	EdgeRight  = "RIGHT"
	EdgeTop    = "TOP"
	EdgeBottom = "BOTTOM"
)

const (
	docIDFontSize = 7.0
	docIDMargin   = 6.0 // from the page's edge
	docIDPadding  = 2.0
)

// allPages lists every page in order with its inherited media box and rotation, in one walk of the
// page tree (pageAt per page would walk it once per page).
func (d *document) allPages() ([]*pageInfo, error) {
	catalog, err := d.xref.Catalog()
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var out []*pageInfo
	seen := map[int]bool{}
	var walk func(node types.Object, inherited [2]types.Object, depth int) error
	walk = func(node types.Object, inherited [2]types.Object, depth int) error {
		if depth > 64 {
			return errors.New("page tree: too deep")
		}
		ref, ok := node.(types.IndirectRef)
		if !ok {
			return errors.New("page tree: node is not an indirect object")
		}
		if seen[ref.ObjectNumber.Value()] {
			return errors.New("page tree: a node appears twice")
		}
		seen[ref.ObjectNumber.Value()] = true
		dict, err := d.xref.DereferenceDict(ref)
		if err != nil || dict == nil {
			return fmt.Errorf("page tree: %w", errors.Join(err, errors.New("missing node")))
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
				return fmt.Errorf("page tree: /Rotate %d is not a multiple of 90", p.rotate)
			}
			out = append(out, p)
			return nil
		}
		kids, err := d.xref.DereferenceArray(dict["Kids"])
		if err != nil {
			return fmt.Errorf("page tree kids: %w", err)
		}
		for _, kid := range kids {
			if err := walk(kid, inherited, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(catalog["Pages"], [2]types.Object{}, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// addDocumentIDStamps adds mark's stamp to every page: into annots (page object number → new
// annotations), reusing the pages already in pageOrder (so a page that also gets a seal widget is
// rewritten once, with both) and appending the others to it.
func (d *document) addDocumentIDStamps(inc *increment, mark *DocumentIDMark, annots map[int][]int, pageOrder []*pageInfo) ([]*pageInfo, error) {
	switch mark.Edge {
	case EdgeLeft, EdgeRight, EdgeTop, EdgeBottom:
	default:
		return nil, fault.Invalid("displayDocumentID", "must be LEFT, RIGHT, TOP or BOTTOM, not %q", mark.Edge)
	}
	pages, err := d.allPages()
	if err != nil {
		return nil, err
	}
	known := map[int]*pageInfo{}
	for _, p := range pageOrder {
		known[p.ref.ObjectNumber.Value()] = p
	}
	u, err := newFontUse()
	if err != nil {
		return nil, err
	}
	fontNr := inc.newObject()
	turned := mark.Edge == EdgeLeft || mark.Edge == EdgeRight
	// One appearance per size and rotation: most documents have one page size, so one stream.
	type key struct {
		w, h   float64
		matrix string
	}
	forms := map[key]int{}
	var bodies []func() // written once every text has chosen its glyphs
	for _, p := range pages {
		if k, ok := known[p.ref.ObjectNumber.Value()]; ok {
			p = k
		} else {
			pageOrder = append(pageOrder, p)
			known[p.ref.ObjectNumber.Value()] = p
		}
		// The page as shown: its width and height after /Rotate.
		bw, bh := p.box[2]-p.box[0], p.box[3]-p.box[1]
		sw, sh := bw, bh
		if p.rotate == 90 || p.rotate == 270 {
			sw, sh = bh, bw
		}
		along := sw // the room along the edge, as shown
		if turned {
			along = sh
		}
		size := docIDFontSize
		if w := u.width(mark.Text, size) + 2*docIDPadding; w > along-2*docIDMargin {
			size *= math.Max(along-2*docIDMargin, 1) / w
		}
		// The stamp's text box, laid out horizontally: tw along the text, th across it.
		tw, th := u.width(mark.Text, size)+2*docIDPadding, size*1.5
		// Its rectangle on the shown page.
		var sr [4]float64
		switch mark.Edge {
		case EdgeBottom:
			sr = [4]float64{(sw - tw) / 2, docIDMargin, (sw + tw) / 2, docIDMargin + th}
		case EdgeTop:
			sr = [4]float64{(sw - tw) / 2, sh - docIDMargin - th, (sw + tw) / 2, sh - docIDMargin}
		case EdgeLeft:
			sr = [4]float64{docIDMargin, (sh - tw) / 2, docIDMargin + th, (sh + tw) / 2}
		case EdgeRight:
			sr = [4]float64{sw - docIDMargin - th, (sh - tw) / 2, sw - docIDMargin, (sh + tw) / 2}
		}
		rect := shownToUser(p, sr)
		// The text turns counter-clockwise by 90° at the side edges, and by the page's /Rotate so it
		// reads as intended on the shown page (a viewer turns the page clockwise by /Rotate).
		angle := p.rotate
		if turned {
			angle += 90
		}
		matrix := rotationMatrix(angle%360, tw, th)
		k := key{math.Round(tw*1000) / 1000, math.Round(th*1000) / 1000, matrix}
		apNr, ok := forms[k]
		if !ok {
			apNr = inc.newObject()
			forms[k] = apNr
			text := u.encode(mark.Text)
			content := fmt.Sprintf("BT 0.3 0.3 0.3 rg /F1 %s Tf %s %s Td %s Tj ET\n", num(size), num(docIDPadding), num(size*0.45), text)
			bodies = append(bodies, func() {
				inc.set(apNr, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s]%s /Resources << /Font << /F1 %d 0 R >> >> /Length %d >>\nstream\n%s\nendstream",
					num(tw), num(th), matrix, fontNr, len(content), content))
			})
		}
		nr := inc.newObject()
		// Print, read-only, locked: the ID is part of what is signed, not something to move.
		inc.set(nr, fmt.Sprintf("<< /Type /Annot /Subtype /Stamp /Name /EsignDocumentID /P %d %d R /Rect [%s %s %s %s] /F 196 /AP << /N %d 0 R >> /Contents %s >>",
			p.ref.ObjectNumber.Value(), p.ref.GenerationNumber.Value(), num(rect[0]), num(rect[1]), num(rect[2]), num(rect[3]), apNr, textString(mark.Text)))
		annots[p.ref.ObjectNumber.Value()] = append(annots[p.ref.ObjectNumber.Value()], nr)
	}
	for _, b := range bodies {
		b()
	}
	if err := u.objects(inc, fontNr); err != nil {
		return nil, err
	}
	return pageOrder, nil
}

// shownToUser maps a rectangle on page p as shown (origin at its lower left after /Rotate) to the
// page's default user space.
func shownToUser(p *pageInfo, r [4]float64) [4]float64 {
	x0, y0, x1, y1 := p.box[0], p.box[1], p.box[2], p.box[3]
	pt := func(sx, sy float64) (float64, float64) {
		switch p.rotate {
		case 90: // shown = user turned clockwise: the user's bottom edge is shown on the left
			return x1 - sy, y0 + sx
		case 180:
			return x1 - sx, y1 - sy
		case 270:
			return x0 + sy, y1 - sx
		}
		return x0 + sx, y0 + sy
	}
	ax, ay := pt(r[0], r[1])
	bx, by := pt(r[2], r[3])
	return [4]float64{math.Min(ax, bx), math.Min(ay, by), math.Max(ax, bx), math.Max(ay, by)}
}

// rotationMatrix is the /Matrix that turns a w × h form counter-clockwise by angle (0, 90, 180,
// 270), translated back into the positive quadrant.
func rotationMatrix(angle int, w, h float64) string {
	switch angle {
	case 90:
		return fmt.Sprintf(" /Matrix [0 1 -1 0 %s 0]", num(h))
	case 180:
		return fmt.Sprintf(" /Matrix [-1 0 0 -1 %s %s]", num(w), num(h))
	case 270:
		return fmt.Sprintf(" /Matrix [0 -1 1 0 0 %s]", num(w))
	}
	return ""
}
