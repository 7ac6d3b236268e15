package pades

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// The typed fields a signatory of an order fills (initials, text, date, checkbox, dropdown, radio
// buttons, text area) are created as AcroForm fields when the document is taken in, before anyone
// signs: validators count a field added after a signature as an "other" change, and filling an
// existing field as form filling (FillForm with Owned values, in the signatory's own increment).

// NewFieldKind is the kind of a form field the service creates.
type NewFieldKind string

const (
	NewText     NewFieldKind = "text"      // one line (/FT /Tx)
	NewTextArea NewFieldKind = "text_area" // /FT /Tx with the multiline flag
	NewCheckbox NewFieldKind = "checkbox"  // /FT /Btn, on-state /Yes
	NewRadio    NewFieldKind = "radio"     // /FT /Btn radio (and NoToggleToOff), one widget per option, on-state names = the option texts
	NewDropdown NewFieldKind = "dropdown"  // /FT /Ch combo, /Opt = Options
)

// NewField is a field to create: Name is its fully qualified name (a single partial name, no dots;
// must not be a field of the document already).
type NewField struct {
	Name    string
	Kind    NewFieldKind
	Tooltip string   // /TU: what the signing page calls it
	Options []string // radio and dropdown: 1..50 options
	MaxLen  int      // text kinds: /MaxLen when > 0
	// Rects are where the field shows: one widget per rect (a radio group's options are stacked top
	// to bottom inside each rect as the page is shown, one widget per option per rect).
	Rects []Placement
}

// FieldError is a field AddFields refuses; Index is its position among the fields given. Nothing
// is written when any field is refused.
type FieldError struct {
	Index  int
	Reason string
}

func (e *FieldError) Error() string { return e.Reason }

// Bounds on one call's work (the service's limits are below these).
const (
	maxNewFields      = 500
	maxNewWidgets     = 500
	maxFieldNameBytes = 255
	maxFieldOptions   = 50
	maxOptionRunes    = 100
	// maxStateNameBytes is PDF 1.7's limit on a name object (Annex C); a radio option is the name
	// of its widget's on state.
	maxStateNameBytes = 127
	maxTooltipRunes   = 1000
	// minFieldSide is the smallest side of a widget (a radio option's row included), in points.
	minFieldSide = 4.0
)

const flagNoToggleToOff = 1 << 14

// newWidget is one widget of a field to create: where it is on its page (default user space) and its
// appearance's size as shown (aw × ah, turned upright by matrix on a rotated page).
type newWidget struct {
	page   *pageInfo
	rect   [4]float64
	aw, ah float64
	matrix string
	state  string // a radio widget's on state: its option
}

// AddFields appends the fields to the document's AcroForm in ONE incremental update (creating
// /AcroForm when absent, keeping existing /Fields), each field read-only (/Ff bit 1) so that
// viewers do not let anyone type into it: values come only through the service (FillForm with
// Owned). Page content streams are not touched: the widgets go into the pages' /Annots.
//
// Unfilled, text and dropdown fields draw nothing (an optional field left empty leaves no box in the
// final document); a checkbox shows an empty square, a radio group its options' circles. Text and
// dropdown fields name /Helv in their /DA, which the form's /DR gets when it lacks it, so a viewer
// that regenerates appearances has the font. With no fields, data is returned as it is.
func AddFields(ctx context.Context, data []byte, fields []NewField) ([]byte, error) {
	if len(fields) == 0 {
		return data, nil
	}
	if len(fields) > maxNewFields {
		return nil, &FieldError{Index: maxNewFields, Reason: fmt.Sprintf("at most %d fields can be added at once", maxNewFields)}
	}
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	catalog = catalog.Clone().(types.Dict)
	existing, err := doc.fieldNames(catalog)
	if err != nil {
		return nil, err
	}
	count, err := doc.pageCount()
	if err != nil {
		return nil, err
	}
	pages := map[int]*pageInfo{}
	seen := map[string]int{}
	placed := make([][]newWidget, len(fields))
	widgets := 0
	for i, f := range fields {
		fail := func(format string, args ...any) error {
			return &FieldError{Index: i, Reason: fmt.Sprintf(format, args...)}
		}
		if err := checkNewField(f, fail); err != nil {
			return nil, err
		}
		if existing[f.Name] {
			return nil, fail("is already a field of the document")
		}
		if j, dup := seen[f.Name]; dup {
			return nil, fail("is given twice (also at %d)", j)
		}
		seen[f.Name] = i
		if placed[i], err = doc.placeNewField(f, count, pages, fail); err != nil {
			return nil, err
		}
		if widgets += len(placed[i]); widgets > maxNewWidgets {
			return nil, fail("the fields would have more than %d widgets in all", maxNewWidgets)
		}
	}

	inc := doc.increment()
	annots := map[int][]int{} // page object number → new widgets on it
	var pageOrder []*pageInfo
	refs := make(types.Array, 0, len(fields))
	for i, f := range fields {
		fieldNr := inc.newObject()
		refs = append(refs, *types.NewIndirectRef(fieldNr, 0))
		own, widgetKeys := newFieldEntries(f, placed[i]), make([]string, len(placed[i]))
		for j, w := range placed[i] {
			widgetKeys[j] = newWidgetEntries(inc, f.Kind, w)
		}
		nrs := []int{fieldNr}
		if len(placed[i]) == 1 {
			// One widget: merged with its field, so a fill changes one object, which validators
			// explain as form filling (they do not follow a field's widget kids).
			inc.set(fieldNr, "<< "+own+" "+widgetKeys[0]+" >>")
		} else {
			nrs = nrs[:0]
			kids := make([]string, len(placed[i]))
			for j := range placed[i] {
				nr := inc.newObject()
				nrs = append(nrs, nr)
				kids[j] = fmt.Sprintf("%d 0 R", nr)
				inc.set(nr, fmt.Sprintf("<< /Parent %d 0 R %s >>", fieldNr, widgetKeys[j]))
			}
			inc.set(fieldNr, fmt.Sprintf("<< %s /Kids [%s] >>", own, strings.Join(kids, " ")))
		}
		for j, w := range placed[i] {
			nr := w.page.ref.ObjectNumber.Value()
			if _, ok := annots[nr]; !ok {
				pageOrder = append(pageOrder, w.page)
			}
			annots[nr] = append(annots[nr], nrs[j])
		}
	}
	for _, p := range pageOrder {
		if err := doc.addAnnots(inc, p, annots[p.ref.ObjectNumber.Value()]); err != nil {
			return nil, err
		}
	}
	catalogChanged, err := doc.appendFormFields(inc, catalog, refs)
	if err != nil {
		return nil, err
	}
	if catalogChanged {
		inc.set(doc.xref.Root.ObjectNumber.Value(), catalog.PDFString())
	}
	return inc.write()
}

// checkNewField refuses what a field may not be, before the document is looked at.
func checkNewField(f NewField, fail func(string, ...any) error) error {
	switch {
	case f.Name == "":
		return fail("has no name")
	case len(f.Name) > maxFieldNameBytes:
		return fail("the name is %d bytes long, at most %d are allowed", len(f.Name), maxFieldNameBytes)
	case !utf8.ValidString(f.Name) || strings.ContainsFunc(f.Name, unicode.IsControl):
		return fail("the name holds control characters or is not UTF-8")
	case strings.Contains(f.Name, "."):
		return fail("the name must be a single partial name, without dots")
	case utf8.RuneCountInString(f.Tooltip) > maxTooltipRunes || !utf8.ValidString(f.Tooltip):
		return fail("the tooltip must be UTF-8 of at most %d characters", maxTooltipRunes)
	case len(f.Rects) == 0:
		return fail("has no rectangle to show it in")
	case f.MaxLen < 0:
		return fail("the maximum length must not be negative")
	}
	text := f.Kind == NewText || f.Kind == NewTextArea
	switch f.Kind {
	case NewText, NewTextArea, NewCheckbox:
		if len(f.Options) > 0 {
			return fail("a %s field takes no options", f.Kind)
		}
	case NewRadio, NewDropdown:
		if len(f.Options) < 1 || len(f.Options) > maxFieldOptions {
			return fail("a %s field needs 1 to %d options, not %d", f.Kind, maxFieldOptions, len(f.Options))
		}
	default:
		return fail("kind %q is not one of %s, %s, %s, %s, %s", f.Kind, NewText, NewTextArea, NewCheckbox, NewRadio, NewDropdown)
	}
	if f.MaxLen > 0 && !text {
		return fail("a maximum length applies to text fields only")
	}
	u, err := newFontUse()
	if err != nil {
		return err
	}
	font := func() (*fontUse, int) { return u, 0 }
	for j, o := range f.Options {
		if !utf8.ValidString(o) {
			return fail("option %d is not UTF-8", j)
		}
		if o == "" || strings.TrimSpace(o) == "" {
			return fail("option %d is empty", j)
		}
		if n := utf8.RuneCountInString(o); n > maxOptionRunes {
			return fail("option %d is %d characters long, at most %d are allowed", j, n, maxOptionRunes)
		}
		if strings.ContainsFunc(o, unicode.IsControl) {
			return fail("option %d holds control characters", j)
		}
		if strings.TrimSpace(o) != o {
			// Readers trim options (pdfcpu does), and the value would no longer be one of them.
			return fail("option %d starts or ends with a space", j)
		}
		if k := fieldIndex(f.Options[:j], o); k >= 0 {
			return fail("option %d repeats option %d (%q)", j, k, o)
		}
		if f.Kind == NewDropdown {
			// The chosen option is drawn in the embedded font when filled (FillForm).
			if err := fieldShowable(font, o); err != nil {
				return fail("option %d %v", j, err)
			}
			continue
		}
		// A radio option is the name of its widgets' on state.
		switch {
		case o == "Off":
			return fail(`option %d: "Off" is the name of a radio button's off state`, j)
		case strings.Contains(o, "#"):
			// pdfcpu decodes on-state names twice (form export), so a '#' would break reading the form.
			return fail("option %d: a radio option must not contain '#'", j)
		case len(o) > maxStateNameBytes:
			return fail("option %d is %d bytes long as a PDF name, at most %d are allowed", j, len(o), maxStateNameBytes)
		}
	}
	return nil
}

func fieldIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// placeNewField checks f's rects against the document's pages and lays its widgets out.
func (d *document) placeNewField(f NewField, count int, pages map[int]*pageInfo, fail func(string, ...any) error) ([]newWidget, error) {
	var out []newWidget
	for i, pl := range f.Rects {
		at := fmt.Sprintf("rects[%d]", i)
		if pl.Page < 1 || pl.Page > count {
			return nil, fail("%s: page %d does not exist: the document has %d pages", at, pl.Page, count)
		}
		for _, v := range []struct {
			name string
			v    float64
		}{{"x", pl.X}, {"y", pl.Y}, {"width", pl.Width}, {"height", pl.Height}} {
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
				return nil, fail("%s: %s must be a finite number of points", at, v.name)
			}
		}
		if pl.Width < minFieldSide || pl.Height < minFieldSide {
			return nil, fail("%s: a field must be at least %g × %g points, not %g × %g", at, minFieldSide, minFieldSide, pl.Width, pl.Height)
		}
		p := pages[pl.Page]
		if p == nil {
			var err error
			if p, err = d.pageAt(pl.Page - 1); err != nil {
				return nil, err
			}
			pages[pl.Page] = p
		}
		box := p.box
		rect := [4]float64{box[0] + pl.X, box[1] + pl.Y, box[0] + pl.X + pl.Width, box[1] + pl.Y + pl.Height}
		const slack = 0.01 // rounding in a caller's conversion from percent
		if pl.X < -slack || pl.Y < -slack || rect[2] > box[2]+slack || rect[3] > box[3]+slack {
			return nil, fail("%s: the rectangle %g,%g %g × %g is not inside page %d (%g × %g points)",
				at, pl.X, pl.Y, pl.Width, pl.Height, pl.Page, box[2]-box[0], box[3]-box[1])
		}
		if f.Kind != NewRadio {
			out = append(out, upright(p, rect, ""))
			continue
		}
		// The options one below the other as the page is shown, each a row across the rect.
		sw, sh := shownSize(p, rect)
		row := sh / float64(len(f.Options))
		if row < minFieldSide {
			return nil, fail("%s: %d options need at least %g points of height as shown, the rectangle has %g",
				at, len(f.Options), minFieldSide*float64(len(f.Options)), sh)
		}
		inRect := &pageInfo{box: rect, rotate: p.rotate} // the rect as a little page, for shownToUser
		for j, o := range f.Options {
			r := shownToUser(inRect, [4]float64{0, sh - float64(j+1)*row, sw, sh - float64(j)*row})
			out = append(out, upright(p, r, o))
		}
	}
	return out, nil
}

// shownSize is rect's width and height as page p is shown (after /Rotate).
func shownSize(p *pageInfo, rect [4]float64) (float64, float64) {
	w, h := rect[2]-rect[0], rect[3]-rect[1]
	if p.rotate == 90 || p.rotate == 270 {
		return h, w
	}
	return w, h
}

// upright is a widget at rect whose appearance is drawn as the page is shown and turned back by
// its /Matrix, so it reads upright on a rotated page (as the seals do, widgets.go).
func upright(p *pageInfo, rect [4]float64, state string) newWidget {
	aw, ah := shownSize(p, rect)
	return newWidget{page: p, rect: rect, aw: aw, ah: ah, matrix: rotationMatrix(p.rotate, aw, ah), state: state}
}

// newFieldEntries are the field's own keys: name, type, flags, value and, for variable text, its /DA.
func newFieldEntries(f NewField, widgets []newWidget) string {
	var b strings.Builder
	b.WriteString("/T " + textString(f.Name))
	if f.Tooltip != "" {
		b.WriteString(" /TU " + textString(f.Tooltip))
	}
	flags := flagReadOnly
	switch f.Kind {
	case NewText, NewTextArea:
		if f.Kind == NewTextArea {
			flags |= flagMultiline
		}
		fmt.Fprintf(&b, " /FT /Tx /Ff %d", flags)
		if f.MaxLen > 0 {
			fmt.Fprintf(&b, " /MaxLen %d", f.MaxLen)
		}
		fmt.Fprintf(&b, " /DA (/Helv %s Tf 0 g)", num(newFieldFontSize(f.Kind, widgets)))
	case NewDropdown:
		opts := make([]string, len(f.Options))
		for i, o := range f.Options {
			opts[i] = textLiteral(o)
		}
		fmt.Fprintf(&b, " /FT /Ch /Ff %d /Opt [%s] /DA (/Helv %s Tf 0 g)", flags|flagCombo, strings.Join(opts, " "), num(newFieldFontSize(f.Kind, widgets)))
	case NewCheckbox:
		fmt.Fprintf(&b, " /FT /Btn /Ff %d /V /Off", flags)
	case NewRadio:
		fmt.Fprintf(&b, " /FT /Btn /Ff %d /V /Off", flags|flagRadio|flagNoToggleToOff)
	}
	return b.String()
}

// newFieldFontSize is the /DA size for text in the field's lowest widget (as shown): 60% of its
// height, at most 12 points (10 in a text area, whose lines are set at this size), at least 4.
func newFieldFontSize(kind NewFieldKind, widgets []newWidget) float64 {
	h := math.Inf(1)
	for _, w := range widgets {
		h = math.Min(h, w.ah)
	}
	most := 12.0
	if kind == NewTextArea {
		most = 10
	}
	return math.Round(math.Max(4, math.Min(most, h*0.6))*10) / 10
}

// newWidgetEntries are a widget's keys (print flag, page, rect, rotation, appearances), with its
// appearance streams added to inc.
func newWidgetEntries(inc *increment, kind NewFieldKind, w newWidget) string {
	keys := fmt.Sprintf("/Type /Annot /Subtype /Widget /F 4 /P %d %d R /Rect [%s %s %s %s]",
		w.page.ref.ObjectNumber.Value(), w.page.ref.GenerationNumber.Value(), num(w.rect[0]), num(w.rect[1]), num(w.rect[2]), num(w.rect[3]))
	if w.page.rotate != 0 {
		// A viewer that draws the field itself turns it with the page.
		keys += fmt.Sprintf(" /MK << /R %d >>", w.page.rotate)
	}
	form := func(content string) int {
		nr := inc.newObject()
		inc.set(nr, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s]%s /Length %d >>\nstream\n%s\nendstream",
			num(w.aw), num(w.ah), w.matrix, len(content), content))
		return nr
	}
	switch kind {
	case NewCheckbox:
		on, off := form(checkboxAppearance(w.aw, w.ah, true)), form(checkboxAppearance(w.aw, w.ah, false))
		return keys + fmt.Sprintf(" /AS /Off /AP << /N << /Yes %d 0 R /Off %d 0 R >> >>", on, off)
	case NewRadio:
		on, off := form(radioAppearance(w.aw, w.ah, true)), form(radioAppearance(w.aw, w.ah, false))
		return keys + fmt.Sprintf(" /AS /Off /AP << /N << %s %d 0 R /Off %d 0 R >> >>", types.Name(w.state).PDFString(), on, off)
	}
	// Text and dropdown: nothing drawn until filled.
	return keys + fmt.Sprintf(" /AP << /N %d 0 R >>", form(""))
}

// checkboxAppearance is a square outline, centred in the aw × ah box, with a check mark in it when on:
// vector paths only, so no font is needed.
func checkboxAppearance(aw, ah float64, on bool) string {
	s := math.Min(aw, ah)
	x, y := (aw-s)/2, (ah-s)/2
	var b strings.Builder
	fmt.Fprintf(&b, "q 0.6 w 0.25 G %s %s %s %s re S Q", num(x+0.5), num(y+0.5), num(s-1), num(s-1))
	if on {
		pt := func(fx, fy float64) string { return num(x+fx*s) + " " + num(y+fy*s) }
		fmt.Fprintf(&b, "\nq 1 J 1 j %s w 0 G %s m %s l %s l S Q", num(math.Max(0.8, s*0.12)), pt(0.2, 0.52), pt(0.42, 0.27), pt(0.8, 0.78))
	}
	return b.String()
}

// radioAppearance is a circle outline at the left of the aw × ah row, with a filled dot in it when on.
func radioAppearance(aw, ah float64, on bool) string {
	r := math.Min(aw, ah)/2 - 0.5
	cx, cy := r+0.5, ah/2
	var b strings.Builder
	fmt.Fprintf(&b, "q 0.6 w 0.25 G %s S Q", circlePath(cx, cy, r))
	if on {
		fmt.Fprintf(&b, "\nq 0 g %s f Q", circlePath(cx, cy, r*0.5))
	}
	return b.String()
}

// circlePath is a circle as four Bézier curves.
func circlePath(cx, cy, r float64) string {
	k := r * 0.5523 // the control point distance that best approximates a quarter circle
	p := func(x, y float64) string { return num(cx+x) + " " + num(cy+y) }
	return fmt.Sprintf("%s m %s %s %s c %s %s %s c %s %s %s c %s %s %s c h",
		p(r, 0), p(r, k), p(k, r), p(0, r), p(-k, r), p(-r, k), p(-r, 0), p(-r, -k), p(-k, -r), p(0, -r), p(k, -r), p(r, -k), p(r, 0))
}

// fieldNames are the names a new root field may not take: every root field's partial name (a
// non-terminal one included) and every terminal field's fully qualified name.
func (d *document) fieldNames(catalog types.Dict) (map[string]bool, error) {
	names := map[string]bool{}
	if catalog["AcroForm"] == nil {
		return names, nil
	}
	acro, err := d.xref.DereferenceDict(catalog["AcroForm"])
	if err != nil {
		return nil, fmt.Errorf("/AcroForm: %w", err)
	}
	roots, err := d.xref.DereferenceArray(acro["Fields"])
	if err != nil {
		return nil, fmt.Errorf("/AcroForm /Fields: %w", err)
	}
	for _, o := range roots {
		if f, err := d.xref.DereferenceDict(o); err == nil && f != nil {
			if t, err := d.xref.DereferenceText(f["T"]); err == nil && t != "" {
				names[t] = true
			}
		}
	}
	terminals, err := d.formFields(catalog)
	if err != nil {
		return nil, err
	}
	for _, f := range terminals {
		names[f.name] = true
	}
	return names, nil
}

// appendFormFields adds refs to the AcroForm's /Fields and /Helv (Helvetica) to its /DR fonts when
// missing, rewriting the AcroForm object, or changing catalog (the caller's copy; changed answers
// true) when the form is inline or missing.
func (d *document) appendFormFields(inc *increment, catalog types.Dict, refs types.Array) (changed bool, err error) {
	form := types.Dict{}
	formRef, indirect := catalog["AcroForm"].(types.IndirectRef)
	if af, err := d.xref.DereferenceDict(catalog["AcroForm"]); err != nil {
		return false, fmt.Errorf("/AcroForm: %w", err)
	} else if af != nil {
		form = af.Clone().(types.Dict)
	}
	switch fields := form["Fields"].(type) {
	case types.IndirectRef:
		arr, err := d.xref.DereferenceArray(fields)
		if err != nil {
			return false, fmt.Errorf("form fields: %w", err)
		}
		inc.set(fields.ObjectNumber.Value(), append(arr, refs...).PDFString())
	case types.Array:
		form["Fields"] = append(fields, refs...)
	default:
		form["Fields"] = refs
	}
	if err := d.addHelvetica(inc, form); err != nil {
		return false, err
	}
	switch {
	case indirect:
		inc.set(formRef.ObjectNumber.Value(), form.PDFString())
		return false, nil
	case catalog["AcroForm"] == nil:
		nr := inc.newObject()
		inc.set(nr, form.PDFString())
		catalog["AcroForm"] = *types.NewIndirectRef(nr, 0)
	default:
		catalog["AcroForm"] = form
	}
	return true, nil
}

// addHelvetica gives form's /DR a /Helv font (Helvetica, WinAnsiEncoding) unless it has one, rewriting
// the /DR or its /Font dictionary where they are indirect objects.
func (d *document) addHelvetica(inc *increment, form types.Dict) error {
	dr, err := d.xref.DereferenceDict(form["DR"])
	if err != nil {
		return fmt.Errorf("/AcroForm /DR: %w", err)
	}
	fonts, err := d.xref.DereferenceDict(dr["Font"])
	if err != nil {
		return fmt.Errorf("/AcroForm /DR /Font: %w", err)
	}
	if _, ok := fonts["Helv"]; ok {
		return nil
	}
	helv := inc.newObject()
	inc.set(helv, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	newFonts := types.Dict{}
	if fonts != nil {
		newFonts = fonts.Clone().(types.Dict)
	}
	newFonts["Helv"] = *types.NewIndirectRef(helv, 0)
	if ref, ok := dr["Font"].(types.IndirectRef); ok {
		inc.set(ref.ObjectNumber.Value(), newFonts.PDFString())
		return nil
	}
	newDR := types.Dict{}
	if dr != nil {
		newDR = dr.Clone().(types.Dict)
	}
	newDR["Font"] = newFonts
	if ref, ok := form["DR"].(types.IndirectRef); ok {
		inc.set(ref.ObjectNumber.Value(), newDR.PDFString())
		return nil
	}
	form["DR"] = newDR
	return nil
}

// textLiteral is s as a PDF text string in a literal: PDFDocEncoding's ASCII part as it is, else
// UTF-16BE with a byte-order mark, escaped. Choice options are literals, since some readers (pdfcpu's
// form export) take no hex strings in /Opt.
func textLiteral(s string) string {
	ascii := true
	for _, r := range s {
		ascii = ascii && r >= 0x20 && r <= 0x7e
	}
	raw := []byte(s)
	if !ascii {
		raw = []byte{0xFE, 0xFF}
		for _, u := range utf16.Encode([]rune(s)) {
			raw = append(raw, byte(u>>8), byte(u))
		}
	}
	var b strings.Builder
	b.WriteByte('(')
	for _, c := range raw {
		switch {
		case c == '\\' || c == '(' || c == ')':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(')')
	return b.String()
}
