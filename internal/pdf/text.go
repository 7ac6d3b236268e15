package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"

	pdffont "github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Anchor text search: where a literal text is shown on a document's pages, for placements relative
// to it ("{{sign_here}}"). pdfcpu parses the document (objects, page tree, inherited attributes,
// decoded content streams, the standard 14 fonts' widths) but exports no content-stream tokenizer
// and no ToUnicode reader, and the Go text extractors served (ledongthuc/pdf and its forks of
// rsc.io/pdf) measure two-byte codes with one-byte widths and ignore /W, which puts every glyph of
// a Chromium PDF (Type0, Identity-H) at the wrong place. So the text-showing operators are
// interpreted here, on pdfcpu's objects: the text state, text matrix and CTM, form XObjects, simple
// fonts (ToUnicode, or WinAnsi/Standard/MacRoman with /Differences) and Type0 fonts with two-byte
// codes and ToUnicode.

// The bounds of one search: what it reads is bounded by the document's decode budget (Admit);
// these bound what it interprets and keeps.
const (
	// MaxTextPages is the most pages a search reads; a longer document is refused with a *Problem.
	MaxTextPages = 2000
	// MaxPageGlyphs is the most glyphs one page may show (a dense page shows a few thousand); the
	// page's glyphs are all a search holds at a time.
	MaxPageGlyphs = 200_000
	// MaxPageContent is the most content-stream bytes interpreted for one page, form XObjects
	// counted each time they are drawn (one form drawn 10,000 times is not a page).
	MaxPageContent = 64 << 20
	// MaxOccurrences is the most occurrences of one text reported; the rest are dropped and the
	// search says so (TextLayout.Truncated).
	MaxOccurrences = 500
	maxFormDepth   = 8
)

const reasonTooMuchText = "has too much text to search for anchor text (at most %d pages of at most %d characters each)"

// TextBox is one occurrence of a text: its page (from 1) and the box of its glyphs in PDF points in
// the page's default user space (lower-left X, Y; before /Rotate).
type TextBox struct {
	Page                int
	X, Y, Width, Height float64
}

// PageGeometry is a page's media box (llx, lly, urx, ury), the part of it a viewer shows (the
// crop box clipped to the media box, ISO 32000-1 14.11.2; the media box when there is none) and
// its /Rotate (degrees, as written).
type PageGeometry struct {
	MediaBox [4]float64
	Visible  [4]float64
	Rotate   int
}

// TextLayout is what SearchText found.
type TextLayout struct {
	Pages []PageGeometry
	// Found has, for each text searched, its occurrences in page order, then in the order the page
	// shows them.
	Found map[string][]TextBox
	// Truncated names the texts that occur more than MaxOccurrences times.
	Truncated []string
}

// SearchText reads data's page geometry and finds every occurrence of each of texts on every page
// (none: geometry only). It runs within adm's budget (nil admits all). A text split over several
// show operators, over kerning arrays or one operator per glyph, is found; a text broken over
// two lines is not. A document beyond the bounds above is refused with a *Problem.
func SearchText(ctx context.Context, adm *Admission, data []byte, texts []string) (*TextLayout, error) {
	ctx, release, err := adm.Admit(ctx, data)
	if err != nil {
		return nil, err
	}
	defer release()
	pc, err := Read(ctx, data)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, damaged(err)
	}
	return guard(func() (*TextLayout, error) { return searchText(ctx, pc, texts) })
}

func searchText(ctx context.Context, pc *model.Context, texts []string) (*TextLayout, error) {
	x := pc.XRefTable
	if err := x.EnsurePageCount(); err != nil {
		return nil, damaged(err)
	}
	var needles []string
	for _, t := range texts {
		if t != "" {
			needles = append(needles, t)
		}
	}
	if len(needles) > 0 && x.PageCount > MaxTextPages {
		return nil, &Problem{Reason: fmt.Sprintf(reasonTooMuchText, MaxTextPages, MaxPageGlyphs)}
	}
	out := &TextLayout{Found: map[string][]TextBox{}}
	fonts := map[int]*textFont{} // by object number: pages share their fonts
	for n := 1; n <= x.PageCount; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d, _, inh, err := x.PageDict(n, false)
		if err != nil || d == nil || inh == nil {
			return nil, damaged(fmt.Errorf("page %d: %v", n, err))
		}
		g := PageGeometry{MediaBox: [4]float64{0, 0, 612, 792}, Rotate: inh.Rotate} // Letter: ISO 32000's default
		if mb := inh.MediaBox; mb != nil {
			g.MediaBox = normalBox(mb)
		}
		g.Visible = g.MediaBox
		if cb := inh.CropBox; cb != nil {
			c := normalBox(cb)
			v := [4]float64{math.Max(c[0], g.MediaBox[0]), math.Max(c[1], g.MediaBox[1]), math.Min(c[2], g.MediaBox[2]), math.Min(c[3], g.MediaBox[3])}
			if v[0] < v[2] && v[1] < v[3] { // a crop box outside the media box shows nothing: ignored
				g.Visible = v
			}
		}
		out.Pages = append(out.Pages, g)
		if len(needles) == 0 {
			continue
		}
		content, err := x.PageContent(d, n)
		if errors.Is(err, model.ErrNoContent) {
			continue
		}
		if err != nil {
			return nil, damaged(fmt.Errorf("page %d content: %w", n, err))
		}
		p := &pageReader{x: x, fonts: fonts}
		if err := p.run(content, inh.Resources, identity, 0); err != nil {
			return nil, err
		}
		for _, t := range needles {
			for _, b := range p.find(t) {
				if len(out.Found[t]) == MaxOccurrences {
					if !containsString(out.Truncated, t) {
						out.Truncated = append(out.Truncated, t)
					}
					break
				}
				b.Page = n
				out.Found[t] = append(out.Found[t], b)
			}
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// matrix is [a b c d e f] as PDF writes it: x' = a x + c y + e, y' = b x + d y + f.
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul is m then n (m × n in the PDF's row-vector convention).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

func (m matrix) apply(x, y float64) (float64, float64) {
	return m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]
}

// glyph is one shown glyph: its text and its box in user space.
type glyph struct {
	text           string
	x0, y0, x1, y1 float64
}

type textState struct {
	ctm                  matrix
	tc, tw, th, tl, rise float64
	font                 *textFont
	size                 float64
}

// pageReader interprets one page's content and keeps its glyphs as a searchable string.
type pageReader struct {
	x     *model.XRefTable
	fonts map[int]*textFont
	work  int // content bytes interpreted

	glyphs []glyph
	text   strings.Builder
	owner  []int32 // glyph index of each byte of text; -1 for a separator the layout implies
	// where the last glyph ended, to tell a glyph that continues a word from one elsewhere
	lastX, lastY, lastDX, lastDY, lastSize float64
	hasLast                                bool
}

func (p *pageReader) run(content []byte, res types.Dict, ctm matrix, depth int) error {
	p.work += len(content)
	if p.work > MaxPageContent || depth > maxFormDepth {
		return &Problem{Reason: fmt.Sprintf(reasonTooMuchText, MaxTextPages, MaxPageGlyphs)}
	}
	gs := textState{ctm: ctm, th: 1}
	var stack []textState
	var tm, tlm matrix
	lx := lexer{data: content}
	var ops []operand
	for {
		tok, ok := lx.next()
		if !ok {
			return nil
		}
		if tok.kind != tokOp {
			if len(ops) < 64 { // no operator takes more; a flood of operands is not kept
				ops = append(ops, tok)
			}
			continue
		}
		args := ops
		ops = ops[:0]
		switch tok.str {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, gs)
			}
		case "Q":
			if len(stack) > 0 {
				gs, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
		case "cm":
			if m, ok := matrixOf(args); ok {
				gs.ctm = m.mul(gs.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tc":
			gs.tc = num(args, 0)
		case "Tw":
			gs.tw = num(args, 0)
		case "Tz":
			gs.th = num(args, 0) / 100
		case "TL":
			gs.tl = num(args, 0)
		case "Ts":
			gs.rise = num(args, 0)
		case "Tf":
			if len(args) >= 2 {
				gs.font = p.font(res, args[len(args)-2].str)
				gs.size = args[len(args)-1].num
			}
		case "Td", "TD":
			if len(args) >= 2 {
				tx, ty := args[len(args)-2].num, args[len(args)-1].num
				if tok.str == "TD" {
					gs.tl = -ty
				}
				tlm = matrix{1, 0, 0, 1, tx, ty}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if m, ok := matrixOf(args); ok {
				tm, tlm = m, m
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -gs.tl}.mul(tlm)
			tm = tlm
		case "Tj", "'", "\"":
			if tok.str != "Tj" {
				if tok.str == "\"" && len(args) >= 3 {
					gs.tw, gs.tc = args[len(args)-3].num, args[len(args)-2].num
				}
				tlm = matrix{1, 0, 0, 1, 0, -gs.tl}.mul(tlm)
				tm = tlm
			}
			if len(args) > 0 {
				if err := p.show(&gs, &tm, args[len(args)-1].str); err != nil {
					return err
				}
			}
		case "TJ":
			if len(args) == 0 {
				break
			}
			for _, e := range args[len(args)-1].arr {
				if e.kind == tokNumber {
					tm = matrix{1, 0, 0, 1, -e.num / 1000 * gs.size * gs.th, 0}.mul(tm)
				} else if e.kind == tokString {
					if err := p.show(&gs, &tm, e.str); err != nil {
						return err
					}
				}
			}
		case "Do":
			if len(args) > 0 {
				if err := p.form(res, args[len(args)-1].str, gs.ctm, depth); err != nil {
					return err
				}
			}
		case "ID":
			lx.skipInlineImage()
		}
	}
}

func num(args []operand, i int) float64 {
	if len(args) <= i {
		return 0
	}
	return args[len(args)-1-i].num
}

func matrixOf(args []operand) (matrix, bool) {
	if len(args) < 6 {
		return matrix{}, false
	}
	var m matrix
	for i, a := range args[len(args)-6:] {
		if a.kind != tokNumber {
			return matrix{}, false
		}
		m[i] = a.num
	}
	return m, true
}

// form draws a form XObject: its content with its own resources (or the page's), under its matrix.
func (p *pageReader) form(res types.Dict, name string, ctm matrix, depth int) error {
	xobjs := p.dict(res, "XObject")
	if xobjs == nil {
		return nil
	}
	o, ok := xobjs.Find(name)
	if !ok {
		return nil
	}
	sd, _, err := p.x.DereferenceStreamDict(o)
	if err != nil || sd == nil || sd.Subtype() == nil || *sd.Subtype() != "Form" {
		return nil // images and broken references show no text
	}
	if err := sd.Decode(); err != nil {
		return damaged(fmt.Errorf("form XObject %s: %w", name, err))
	}
	m := identity
	if arr, err := p.x.DereferenceArray(sd.Dict["Matrix"]); err == nil && len(arr) == 6 {
		for i, v := range arr {
			m[i] = number(v)
		}
	}
	fres := p.dict(sd.Dict, "Resources")
	if fres == nil {
		fres = res
	}
	return p.run(sd.Content, fres, m.mul(ctm), depth+1)
}

func (p *pageReader) dict(d types.Dict, key string) types.Dict {
	if d == nil {
		return nil
	}
	o, ok := d.Find(key)
	if !ok {
		return nil
	}
	out, err := p.x.DereferenceDict(o)
	if err != nil {
		return nil
	}
	return out
}

func number(o types.Object) float64 {
	switch v := o.(type) {
	case types.Integer:
		return float64(v.Value())
	case types.Float:
		return v.Value()
	}
	return 0
}

// show places the glyphs of one string: each code's box from the font's width, ascent and descent,
// through the text rendering matrix, and advances the text matrix as ISO 32000 9.4.4 says.
func (p *pageReader) show(gs *textState, tm *matrix, s string) error {
	f := gs.font
	if f == nil {
		f = fallbackFont
	}
	for i := 0; i < len(s); {
		code, n := f.code(s[i:])
		i += n
		w := f.width(code) * f.scale
		m := matrix{gs.size * gs.th, 0, 0, gs.size, 0, gs.rise}.mul(*tm).mul(gs.ctm)
		text := f.unicode(code)
		// Corners of the glyph's box in glyph space units of the font size: [0, w] × [descent, ascent].
		xs, ys := [4]float64{}, [4]float64{}
		for k, c := range [4][2]float64{{0, f.descent}, {w, f.descent}, {0, f.ascent}, {w, f.ascent}} {
			xs[k], ys[k] = m.apply(c[0], c[1])
		}
		ox, oy := m.apply(0, 0)
		ex, ey := m.apply(w, 0)
		dx, dy := m[0], m[1] // the baseline's direction
		size := math.Hypot(m[2], m[3])
		if err := p.add(glyph{text: text, x0: min4(xs), y0: min4(ys), x1: max4(xs), y1: max4(ys)}, ox, oy, ex, ey, dx, dy, size); err != nil {
			return err
		}
		tx := w*gs.size + gs.tc
		if n == 1 && code == ' ' {
			tx += gs.tw
		}
		*tm = matrix{1, 0, 0, 1, tx * gs.th, 0}.mul(*tm)
	}
	return nil
}

func min4(v [4]float64) float64 { return math.Min(math.Min(v[0], v[1]), math.Min(v[2], v[3])) }
func max4(v [4]float64) float64 { return math.Max(math.Max(v[0], v[1]), math.Max(v[2], v[3])) }

// add appends a glyph to the page's text, after a separator when it does not continue where the
// last glyph ended: a space when it is further along the same line (words set by positioning, not
// by a space glyph), a line break when it is on another line or goes back. Glyphs of one word
// shown by separate operators (Chromium, LibreOffice) or kerned apart stay together.
func (p *pageReader) add(g glyph, ox, oy, ex, ey, dx, dy, size float64) error {
	if len(p.glyphs) >= MaxPageGlyphs {
		return &Problem{Reason: fmt.Sprintf(reasonTooMuchText, MaxTextPages, MaxPageGlyphs)}
	}
	if p.hasLast {
		l := math.Hypot(p.lastDX, p.lastDY)
		if l > 0 {
			ux, uy := p.lastDX/l, p.lastDY/l
			rx, ry := ox-p.lastX, oy-p.lastY
			along, across := rx*ux+ry*uy, math.Abs(-rx*uy+ry*ux)
			unit := math.Max(p.lastSize, size)
			switch {
			case across > 0.5*unit || along < -0.5*unit:
				p.separate('\n')
			case along > 0.15*unit:
				p.separate(' ')
			}
		}
	}
	p.glyphs = append(p.glyphs, g)
	idx := int32(len(p.glyphs) - 1)
	p.text.WriteString(g.text)
	for range len(g.text) {
		p.owner = append(p.owner, idx)
	}
	p.lastX, p.lastY, p.lastDX, p.lastDY, p.lastSize, p.hasLast = ex, ey, dx, dy, size, true
	return nil
}

func (p *pageReader) separate(c byte) {
	s := p.text.String()
	if len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\n') {
		return
	}
	p.text.WriteByte(c)
	p.owner = append(p.owner, -1)
}

// find returns the boxes of every occurrence of t on the page (Page left 0).
func (p *pageReader) find(t string) []TextBox {
	s := p.text.String()
	var out []TextBox
	for from := 0; from <= len(s)-len(t); {
		i := strings.Index(s[from:], t)
		if i < 0 {
			break
		}
		i += from
		box := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
		for _, o := range p.owner[i : i+len(t)] {
			if o < 0 {
				continue
			}
			g := p.glyphs[o]
			box = [4]float64{math.Min(box[0], g.x0), math.Min(box[1], g.y0), math.Max(box[2], g.x1), math.Max(box[3], g.y1)}
		}
		if !math.IsInf(box[0], 0) {
			out = append(out, TextBox{X: box[0], Y: box[1], Width: box[2] - box[0], Height: box[3] - box[1]})
		}
		from = i + len(t)
	}
	return out
}

// textFont is what showing text needs of a font.
type textFont struct {
	twoByte         bool // Type0: codes of two bytes (Identity-H/V and the CMaps producers embed)
	first           int
	widths          []float64
	cidWidths       map[int]float64
	defaultWidth    float64
	core            string // a standard 14 font without /Widths: pdfcpu's metrics
	scale           float64
	ascent, descent float64
	toUnicode       *cmap
	encoding        *[256]rune
}

// fallbackFont stands in for a missing or unreadable font, so that the text around it is still found.
var fallbackFont = &textFont{scale: 0.001, defaultWidth: 500, ascent: 0.75, descent: -0.25, encoding: &winAnsi}

func (f *textFont) code(s string) (int, int) {
	if f.twoByte && len(s) >= 2 {
		return int(s[0])<<8 | int(s[1]), 2
	}
	return int(s[0]), 1
}

func (f *textFont) width(code int) float64 {
	if f.twoByte {
		if w, ok := f.cidWidths[code]; ok {
			return w
		}
		return f.defaultWidth
	}
	if i := code - f.first; f.widths != nil && i >= 0 && i < len(f.widths) {
		return f.widths[i]
	}
	if f.core != "" {
		if w, err := pdffont.CharWidth(f.core, rune(code)); err == nil {
			return float64(w)
		}
	}
	return f.defaultWidth
}

func (f *textFont) unicode(code int) string {
	if f.toUnicode != nil {
		if s, ok := f.toUnicode.lookup(code); ok {
			return s
		}
	}
	if !f.twoByte && f.encoding != nil && code < 256 {
		if r := f.encoding[code]; r != 0 {
			return string(r)
		}
	}
	return "\uFFFD"
}

// font reads the font a page's resources name, once per font object.
func (p *pageReader) font(res types.Dict, name string) *textFont {
	fonts := p.dict(res, "Font")
	if fonts == nil {
		return fallbackFont
	}
	o, ok := fonts.Find(name)
	if !ok {
		return fallbackFont
	}
	key := -1
	if ir, ok := o.(types.IndirectRef); ok {
		key = ir.ObjectNumber.Value()
		if f, ok := p.fonts[key]; ok {
			return f
		}
	}
	f := p.readFont(o)
	if key >= 0 {
		p.fonts[key] = f
	}
	return f
}

func (p *pageReader) readFont(o types.Object) *textFont {
	d, err := p.x.DereferenceDict(o)
	if err != nil || d == nil {
		return fallbackFont
	}
	f := &textFont{scale: 0.001, ascent: 0.75, descent: -0.25}
	subtype := ""
	if s := d.Subtype(); s != nil {
		subtype = *s
	}
	if tu, ok := d.Find("ToUnicode"); ok {
		if sd, _, err := p.x.DereferenceStreamDict(tu); err == nil && sd != nil && sd.Decode() == nil {
			f.toUnicode = parseCMap(sd.Content)
		}
	}
	descriptor := p.dict(d, "FontDescriptor")
	if subtype == "Type0" {
		f.twoByte = true
		f.defaultWidth = 1000
		if arr, err := p.x.DereferenceArray(d["DescendantFonts"]); err == nil && len(arr) > 0 {
			if cid, err := p.x.DereferenceDict(arr[0]); err == nil && cid != nil {
				if dw, ok := cid.Find("DW"); ok {
					f.defaultWidth = p.num(dw)
				}
				f.cidWidths = p.cidWidths(cid["W"])
				descriptor = p.dict(cid, "FontDescriptor")
			}
		}
	} else {
		f.encoding = p.simpleEncoding(d)
		if ws, err := p.x.DereferenceArray(d["Widths"]); err == nil && ws != nil {
			f.first = int(p.num(d["FirstChar"]))
			f.widths = make([]float64, len(ws))
			for i, w := range ws {
				f.widths[i] = p.num(w)
			}
		}
		if base := d.NameEntry("BaseFont"); base != nil && f.widths == nil && pdffont.IsCoreFont(*base) {
			f.core = *base
		}
		if subtype == "Type3" {
			if fm, err := p.x.DereferenceArray(d["FontMatrix"]); err == nil && len(fm) == 6 {
				f.scale = p.num(fm[0])
			}
		}
	}
	if descriptor != nil {
		if v := p.num(descriptor["MissingWidth"]); v > 0 && !f.twoByte {
			f.defaultWidth = v
		}
		// Some producers write 0 or nonsense; such values would give glyphs no height.
		if a := p.num(descriptor["Ascent"]) / 1000; a > 0.2 && a < 2 {
			f.ascent = a
		}
		if dsc := p.num(descriptor["Descent"]) / 1000; dsc < 0 && dsc > -1 {
			f.descent = dsc
		}
	}
	if f.defaultWidth == 0 && !f.twoByte {
		f.defaultWidth = 500
	}
	return f
}

func (p *pageReader) num(o types.Object) float64 {
	if o == nil {
		return 0
	}
	v, err := p.x.Dereference(o)
	if err != nil {
		return 0
	}
	return number(v)
}

// cidWidths reads a CIDFont's /W: "c [w1 w2 …]" and "cfirst clast w" entries.
func (p *pageReader) cidWidths(o types.Object) map[int]float64 {
	out := map[int]float64{}
	arr, err := p.x.DereferenceArray(o)
	if err != nil {
		return out
	}
	for i := 0; i < len(arr); {
		first := int(p.num(arr[i]))
		if i+1 >= len(arr) {
			break
		}
		next, _ := p.x.Dereference(arr[i+1])
		if ws, ok := next.(types.Array); ok {
			for k, w := range ws {
				out[first+k] = p.num(w)
			}
			i += 2
			continue
		}
		if i+2 >= len(arr) {
			break
		}
		last, w := int(p.num(arr[i+1])), p.num(arr[i+2])
		for c := first; c <= last && c-first < 1<<16; c++ {
			out[c] = w
		}
		i += 3
	}
	return out
}

// simpleEncoding is a simple font's code → Unicode map for when it has no ToUnicode: the base
// encoding it names (WinAnsi for anything else, which is what producers of Latin text write) with
// its /Differences, by glyph name.
func (p *pageReader) simpleEncoding(d types.Dict) *[256]rune {
	enc := winAnsi
	o, ok := d.Find("Encoding")
	if !ok {
		return &enc
	}
	v, err := p.x.Dereference(o)
	if err != nil {
		return &enc
	}
	var diffs types.Array
	switch e := v.(type) {
	case types.Name:
		if e.Value() == "MacRomanEncoding" {
			enc = macRomanLow()
		}
	case types.Dict:
		if b := e.NameEntry("BaseEncoding"); b != nil && *b == "MacRomanEncoding" {
			enc = macRomanLow()
		}
		diffs, _ = p.x.DereferenceArray(e["Differences"])
	}
	code := 0
	for _, x := range diffs {
		switch t := x.(type) {
		case types.Integer:
			code = t.Value()
		case types.Name:
			if code >= 0 && code < 256 {
				if r := glyphRune(t.Value()); r != 0 {
					enc[code] = r
				}
			}
			code++
		}
	}
	return &enc
}

// winAnsi is WinAnsiEncoding (ISO 32000 Annex D): Latin-1 with the Windows-1252 additions.
var winAnsi = func() [256]rune {
	var t [256]rune
	for c := 0x20; c < 0x7f; c++ {
		t[c] = rune(c)
	}
	for c := 0xa0; c < 0x100; c++ {
		t[c] = rune(c)
	}
	extra := map[int]rune{0x80: '€', 0x82: '‚', 0x83: 'ƒ', 0x84: '„', 0x85: '…', 0x86: '†', 0x87: '‡', 0x88: 'ˆ',
		0x89: '‰', 0x8a: 'Š', 0x8b: '‹', 0x8c: 'Œ', 0x8e: 'Ž', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”',
		0x95: '•', 0x96: '–', 0x97: '—', 0x98: '˜', 0x99: '™', 0x9a: 'š', 0x9b: '›', 0x9c: 'œ', 0x9e: 'ž', 0x9f: 'Ÿ'}
	for c, r := range extra {
		t[c] = r
	}
	return t
}()

// macRomanLow is MacRomanEncoding's ASCII half; its upper half (accented letters in Mac order) is
// left unknown, which only matters for anchors with such letters in such fonts.
func macRomanLow() [256]rune {
	var t [256]rune
	for c := 0x20; c < 0x7f; c++ {
		t[c] = rune(c)
	}
	return t
}

// glyphNames are the names of the printable ASCII glyphs (the Adobe standard names) that are not a
// single letter or digit name.
var glyphNames = map[string]rune{
	"space": ' ', "exclam": '!', "quotedbl": '"', "numbersign": '#', "dollar": '$', "percent": '%',
	"ampersand": '&', "quotesingle": '\'', "quoteright": '’', "quoteleft": '‘', "parenleft": '(',
	"parenright": ')', "asterisk": '*', "plus": '+', "comma": ',', "hyphen": '-', "period": '.',
	"slash": '/', "colon": ':', "semicolon": ';', "less": '<', "equal": '=', "greater": '>',
	"question": '?', "at": '@', "bracketleft": '[', "backslash": '\\', "bracketright": ']',
	"asciicircum": '^', "underscore": '_', "grave": '`', "braceleft": '{', "bar": '|',
	"braceright": '}', "asciitilde": '~', "zero": '0', "one": '1', "two": '2', "three": '3',
	"four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
	"endash": '–', "emdash": '—', "bullet": '•', "ellipsis": '…', "nbspace": '\u00a0',
}

// glyphRune maps a glyph name to its character: the names above, one-letter names, and the
// "uniXXXX" and "uXXXX[XX]" forms of the Adobe Glyph List specification.
func glyphRune(name string) rune {
	if r, ok := glyphNames[name]; ok {
		return r
	}
	if len(name) == 1 && (name[0] >= 'A' && name[0] <= 'Z' || name[0] >= 'a' && name[0] <= 'z') {
		return rune(name[0])
	}
	for _, prefix := range []string{"uni", "u"} {
		if h, ok := strings.CutPrefix(name, prefix); ok && len(h) >= 4 && len(h) <= 6 {
			if v, err := strconv.ParseUint(h[:min(len(h), 6)], 16, 32); err == nil && v < 0x110000 {
				if prefix == "uni" {
					v, _ = strconv.ParseUint(h[:4], 16, 32)
				}
				return rune(v)
			}
		}
	}
	return 0
}

// cmap is a ToUnicode CMap: single codes and ranges.
type cmap struct {
	single map[int]string
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi int
	dst    []uint16 // the first code's UTF-16; the last unit counts up along the range
	list   []string // or one string per code
}

func (c *cmap) lookup(code int) (string, bool) {
	if s, ok := c.single[code]; ok {
		return s, true
	}
	for _, r := range c.ranges {
		if code < r.lo || code > r.hi {
			continue
		}
		if r.list != nil {
			if i := code - r.lo; i < len(r.list) {
				return r.list[i], true
			}
			return "", false
		}
		u := append([]uint16(nil), r.dst...)
		u[len(u)-1] += uint16(code - r.lo)
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// parseCMap reads the bfchar and bfrange sections of a ToUnicode CMap with the content lexer (a
// CMap is PostScript of the same tokens). What it cannot read it leaves out.
func parseCMap(data []byte) *cmap {
	c := &cmap{single: map[int]string{}}
	lx := lexer{data: data}
	var ops []operand
	for {
		tok, ok := lx.next()
		if !ok {
			return c
		}
		if tok.kind != tokOp {
			if len(ops) < 3*100+1 { // a section holds at most 100 entries
				ops = append(ops, tok)
			}
			continue
		}
		switch tok.str {
		case "endbfchar":
			for i := 0; i+1 < len(ops); i += 2 {
				if ops[i].kind == tokString && ops[i+1].kind == tokString && len(c.single) < 1<<17 {
					c.single[codeOf(ops[i].str)] = utf16String(ops[i+1].str)
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(ops); i += 3 {
				lo, hi, dst := ops[i], ops[i+1], ops[i+2]
				if lo.kind != tokString || hi.kind != tokString || len(c.ranges) >= 1<<14 {
					continue
				}
				r := cmapRange{lo: codeOf(lo.str), hi: codeOf(hi.str)}
				switch dst.kind {
				case tokString:
					if len(dst.str) < 2 {
						continue
					}
					r.dst = utf16Units(dst.str)
				case tokArray:
					for _, e := range dst.arr {
						r.list = append(r.list, utf16String(e.str))
					}
				default:
					continue
				}
				c.ranges = append(c.ranges, r)
			}
		}
		ops = ops[:0]
	}
}

func codeOf(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 4; i++ {
		n = n<<8 | int(s[i])
	}
	return n
}

func utf16Units(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return u
}

func utf16String(s string) string {
	if len(s) == 1 { // some producers write one byte
		return string(rune(s[0]))
	}
	return string(utf16.Decode(utf16Units(s)))
}

// The content-stream lexer (ISO 32000 7.2, 7.8.2): operands are numbers, strings, names, arrays
// and dictionaries; anything else is an operator.
type tokenKind int

const (
	tokOp tokenKind = iota
	tokNumber
	tokString
	tokName
	tokArray
	tokOther // dictionaries, booleans, null: operands no text operator uses
)

type operand struct {
	kind tokenKind
	num  float64
	str  string // string bytes, name, operator
	arr  []operand
}

type lexer struct {
	data  []byte
	pos   int
	depth int
}

func isWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isDelimiter(c byte) bool {
	return strings.IndexByte("()<>[]{}/%", c) >= 0
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		switch {
		case isWhite(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

func (l *lexer) next() (operand, bool) {
	l.skipSpace()
	if l.pos >= len(l.data) {
		return operand{}, false
	}
	c := l.data[l.pos]
	switch {
	case c == '(':
		return operand{kind: tokString, str: l.literal()}, true
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		l.skipUntil(">>")
		return operand{kind: tokOther}, true
	case c == '<':
		return operand{kind: tokString, str: l.hex()}, true
	case c == '/':
		l.pos++
		return operand{kind: tokName, str: l.regular()}, true
	case c == '[':
		l.pos++
		return l.array(), true
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.pos++ // stray delimiter: skipped
		return l.next()
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9':
		word := l.regular()
		v, err := strconv.ParseFloat(word, 64)
		if err != nil {
			// "--1" and the like: read as 0 like most readers rather than failing the page
			v = 0
		}
		return operand{kind: tokNumber, num: v}, true
	}
	word := l.regular()
	if word == "" {
		l.pos++
		return l.next()
	}
	switch word {
	case "true", "false", "null":
		return operand{kind: tokOther}, true
	}
	return operand{kind: tokOp, str: word}, true
}

func (l *lexer) regular() string {
	start := l.pos
	for l.pos < len(l.data) && !isWhite(l.data[l.pos]) && !isDelimiter(l.data[l.pos]) {
		l.pos++
	}
	s := string(l.data[start:l.pos])
	if strings.IndexByte(s, '#') >= 0 {
		s = unescapeName([]byte(s))
	}
	return s
}

func (l *lexer) array() operand {
	a := operand{kind: tokArray}
	l.depth++
	defer func() { l.depth-- }()
	for {
		l.skipSpace()
		if l.pos >= len(l.data) {
			return a
		}
		if l.data[l.pos] == ']' {
			l.pos++
			return a
		}
		if l.depth > 32 { // nested arrays are no text operand: skip to the end
			l.skipUntil("]")
			return a
		}
		t, ok := l.next()
		if !ok {
			return a
		}
		if t.kind == tokOp { // an operator inside an array is malformed: end the array there
			return a
		}
		if len(a.arr) < 1<<16 {
			a.arr = append(a.arr, t)
		}
	}
}

func (l *lexer) skipUntil(end string) {
	i := bytes.Index(l.data[l.pos:], []byte(end))
	if i < 0 {
		l.pos = len(l.data)
		return
	}
	l.pos += i + len(end)
}

func (l *lexer) literal() string {
	l.pos++ // (
	var b []byte
	depth := 1
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return string(b)
			}
		case '\\':
			if l.pos >= len(l.data) {
				return string(b)
			}
			e := l.data[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.data) && l.data[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.data) && l.data[l.pos] >= '0' && l.data[l.pos] <= '7'; k++ {
						v = v*8 + int(l.data[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		b = append(b, c)
	}
	return string(b)
}

func (l *lexer) hex() string {
	l.pos++ // <
	var b []byte
	hi, half := 0, false
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		if c == '>' {
			break
		}
		v := unhex(c)
		if v < 0 {
			continue
		}
		if half {
			b = append(b, byte(hi<<4|v))
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		b = append(b, byte(hi<<4))
	}
	return string(b)
}

// skipInlineImage skips an inline image's data after ID: up to an EI between white space (the data
// is binary and has no length of its own before PDF 2.0).
func (l *lexer) skipInlineImage() {
	if l.pos < len(l.data) && isWhite(l.data[l.pos]) {
		l.pos++
	}
	for l.pos < len(l.data) {
		i := bytes.Index(l.data[l.pos:], []byte("EI"))
		if i < 0 {
			l.pos = len(l.data)
			return
		}
		at := l.pos + i
		l.pos = at + 2
		if at > 0 && isWhite(l.data[at-1]) && (l.pos >= len(l.data) || isWhite(l.data[l.pos])) {
			return
		}
	}
}

// normalBox is r as llx, lly, urx, ury with the lower-left corner first, however it was written.
func normalBox(r *types.Rectangle) [4]float64 {
	return [4]float64{math.Min(r.LL.X, r.UR.X), math.Min(r.LL.Y, r.UR.Y), math.Max(r.LL.X, r.UR.X), math.Max(r.LL.Y, r.UR.Y)}
}
