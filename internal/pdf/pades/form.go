package pades

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// FormValue is one value a signatory gives for a field of the document's own form (a PDF AcroForm).
// Field is the fully qualified name ("address.city"). A checkbox takes "true" or "false" (or its
// on-state's name), a radio group one of its options, a choice field one of its options (any text
// when the field is editable), a text field any text within its /MaxLen.
type FormValue struct {
	Field, Value string
	// Owned is a field the service created for the signatory (AddFields): filled although it is
	// read-only in the document, which keeps viewers from letting anyone else type into it.
	Owned bool
}

// FormError is a value the form cannot take; Index is its position among the values given. Nothing
// is written when any value is refused.
type FormError struct {
	Index  int
	Reason string
}

func (e *FormError) Error() string { return e.Reason }

// Field flags (PDF 32000-1, 12.7.3.1 and 12.7.4).
const (
	flagReadOnly  = 1 << 0
	flagMultiline = 1 << 12
	flagRadio     = 1 << 15
	flagPush      = 1 << 16
	flagCombo     = 1 << 17
	flagEdit      = 1 << 18
)

// maxFormDepth bounds the walk of the field tree (pdfcpu's own object walks stop at 100).
const maxFormDepth = 32

// formField is a terminal field of the form with the widgets that show it.
type formField struct {
	nr      int // object number of the field dictionary
	dict    types.Dict
	name    string
	ft      string
	flags   int
	widgets []int // object numbers of the widget annotations (the field's own when merged)
}

// FillForm writes values into the document's form as one incremental update before a signature:
// each field's /V, a checkbox's or radio group's /AS states, and for text and choice fields a new
// appearance stream (in the embedded seal font), so viewers show the value without regenerating
// appearances. Page content is not touched, so earlier signatures stay valid: filling a form is a
// change PAdES validators accept after a signature.
func FillForm(ctx context.Context, data []byte, values []FormValue) ([]byte, error) {
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	fields, err := doc.formFields(catalog)
	if err != nil {
		return nil, err
	}
	byName := map[string]*formField{}
	for i := range fields {
		byName[fields[i].name] = &fields[i]
	}
	inc := doc.increment()
	changed := map[int]types.Dict{}
	// The values are shown in the seal's embedded font (Go Regular, subset per increment), so every
	// viewer draws the same letters, Nordic ones included; numbered once, written after the last fill.
	u, err := newFontUse()
	if err != nil {
		return nil, err
	}
	fontNr := 0
	embedded := func() (*fontUse, int) {
		if fontNr == 0 {
			fontNr = inc.newObject()
		}
		return u, fontNr
	}
	rotations := &widgetRotations{doc: doc}
	seen := map[string]int{}
	for i, v := range values {
		fail := func(format string, args ...any) error {
			return &FormError{Index: i, Reason: fmt.Sprintf(format, args...)}
		}
		f := byName[v.Field]
		switch {
		case f == nil:
			return nil, fail("is not a field of the document's form")
		case f.ft == "Sig":
			return nil, fail("is a signature field: it is signed, not filled")
		case f.flags&flagReadOnly != 0 && !v.Owned:
			return nil, fail("is read-only in the document")
		}
		if j, dup := seen[v.Field]; dup {
			return nil, fail("is given twice (also at %d)", j)
		}
		seen[v.Field] = i
		if err := doc.fill(inc, changed, f, v.Value, embedded, rotations, fail); err != nil {
			return nil, err
		}
	}
	if fontNr != 0 {
		if err := u.objects(inc, fontNr); err != nil {
			return nil, err
		}
	}
	for nr, d := range changed {
		inc.set(nr, d.PDFString())
	}
	return inc.write()
}

// fill applies one value to f; fail makes the caller's FormError.
func (d *document) fill(inc *increment, changed map[int]types.Dict, f *formField, value string, font func() (*fontUse, int),
	rotations *widgetRotations, fail func(string, ...any) error) error {
	dict := func(nr int) (types.Dict, error) {
		if c, ok := changed[nr]; ok {
			return c, nil
		}
		w, err := d.xref.DereferenceDict(types.IndirectRef{ObjectNumber: types.Integer(nr), GenerationNumber: types.Integer(inc.generation(nr))})
		if err != nil || w == nil {
			return nil, fmt.Errorf("form field %s: widget %d unreadable", f.name, nr)
		}
		w = w.Clone().(types.Dict)
		changed[nr] = w
		return w, nil
	}
	field, err := dict(f.nr)
	if err != nil {
		return err
	}
	switch f.ft {
	case "Tx":
		if limit := field.IntEntry("MaxLen"); limit != nil && len([]rune(value)) > *limit {
			return fail("must be at most %d characters", *limit)
		}
		if err := fieldShowable(font, value); err != nil {
			return fail("%v", err)
		}
		field["V"] = fieldText(value)
		return d.textAppearances(inc, f, dict, value, field, font, rotations)
	case "Ch":
		if f.flags&flagCombo == 0 {
			return fail("is a list box; filling list boxes is not supported (use a dropdown)")
		}
		options, err := d.choiceOptions(field)
		if err != nil {
			return err
		}
		if f.flags&flagEdit == 0 && value != "" && !fieldContains(options, value) {
			return fail("must be one of %s", strings.Join(fieldQuoted(options), ", "))
		}
		if err := fieldShowable(font, value); err != nil {
			return fail("%v", err)
		}
		field["V"] = fieldText(value)
		return d.textAppearances(inc, f, dict, value, field, font, rotations)
	case "Btn":
		if f.flags&flagPush != 0 {
			return fail("is a push button: it holds no value")
		}
		states := map[int]string{} // widget → its on-state name
		var names []string
		for _, nr := range f.widgets {
			w, err := dict(nr)
			if err != nil {
				return err
			}
			on := d.onState(w)
			states[nr] = on
			if on != "" && !fieldContains(names, on) {
				names = append(names, on)
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("form field %s: no widget has an on state", f.name)
		}
		chosen := ""
		switch {
		case f.flags&flagRadio != 0:
			if value != "" && !fieldContains(names, value) {
				return fail("must be one of %s", strings.Join(fieldQuoted(names), ", "))
			}
			chosen = value
		case value == "true" || value == names[0]:
			chosen = names[0]
		case value == "false" || value == "" || value == "Off":
		default:
			return fail(`must be "true" or "false"`)
		}
		field["V"] = types.Name(fieldOrOff(chosen))
		for _, nr := range f.widgets {
			w, _ := dict(nr)
			if states[nr] == chosen && chosen != "" {
				w["AS"] = types.Name(chosen)
			} else {
				w["AS"] = types.Name("Off")
			}
		}
		return nil
	}
	return fail("is a %s field, which cannot be filled", f.ft)
}

func fieldOrOff(s string) string {
	if s == "" {
		return "Off"
	}
	return s
}

// onState is the name of a button widget's "on" appearance (any /AP /N key but Off).
func (d *document) onState(w types.Dict) string {
	ap, _ := d.xref.DereferenceDict(w["AP"])
	n, _ := d.xref.DereferenceDict(ap["N"])
	for k := range n {
		if k != "Off" {
			return k
		}
	}
	return ""
}

// choiceOptions are the export values of a choice field's /Opt.
func (d *document) choiceOptions(field types.Dict) ([]string, error) {
	opts, err := d.xref.DereferenceArray(field["Opt"])
	if err != nil {
		return nil, fmt.Errorf("choice options: %w", err)
	}
	var out []string
	for _, o := range opts {
		if pair, err := d.xref.DereferenceArray(o); err == nil && len(pair) == 2 {
			o = pair[0]
		}
		s, err := d.xref.DereferenceText(o)
		if err != nil {
			return nil, fmt.Errorf("choice option: %w", err)
		}
		out = append(out, s)
	}
	return out, nil
}

// textAppearances gives every widget of a text or choice field a normal appearance showing text.
// The text is laid out in the widget's width × height as shown (after its rotation) and the
// appearance turned back by its /Matrix, as AddFields' widgets and the seals are, so it reads
// upright on a rotated page.
func (d *document) textAppearances(inc *increment, f *formField, dict func(int) (types.Dict, error), text string,
	field types.Dict, font func() (*fontUse, int), rotations *widgetRotations) error {
	u, fontNr := font()
	for _, nr := range f.widgets {
		w, err := dict(nr)
		if err != nil {
			return err
		}
		rect, err := d.xref.DereferenceArray(w["Rect"])
		if err != nil || len(rect) != 4 {
			return fmt.Errorf("form field %s: widget without /Rect", f.name)
		}
		var r [4]float64
		for i, o := range rect {
			if r[i], err = d.xref.DereferenceNumber(o); err != nil {
				return fmt.Errorf("form field %s: /Rect: %w", f.name, err)
			}
		}
		rotate, err := rotations.of(nr, w)
		if err != nil {
			return fmt.Errorf("form field %s: %w", f.name, err)
		}
		width, height := math.Abs(r[2]-r[0]), math.Abs(r[3]-r[1])
		if rotate == 90 || rotate == 270 {
			width, height = height, width
		}
		size := fieldFontSize(d.defaultAppearance(w, field))
		align := 0
		if q := field.IntEntry("Q"); q != nil {
			align = *q
		}
		content := fieldTextContent(u, text, width, height, size, align, f.flags&flagMultiline != 0)
		ap := inc.newObject()
		inc.set(ap, fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s]%s /Resources << /Font << /F1 %d 0 R >> >> /Length %d >>\nstream\n%s\nendstream",
			fieldNum(width), fieldNum(height), rotationMatrix(rotate, width, height), fontNr, len(content), content))
		w["AP"] = types.Dict{"N": types.IndirectRef{ObjectNumber: types.Integer(ap)}}
	}
	return nil
}

// widgetRotations answers how far a widget is turned counter-clockwise from its page's default user
// space, so that its appearance reads upright as the page is shown: its /MK /R when it has one (a
// multiple of 90), else the /Rotate of the page whose /Annots lists it (read once per fill).
type widgetRotations struct {
	doc     *document
	byAnnot map[int]int // annotation object number → its page's /Rotate; nil until needed
}

func (r *widgetRotations) of(nr int, w types.Dict) (int, error) {
	x := r.doc.xref
	if mk, err := x.DereferenceDict(w["MK"]); err == nil && mk != nil {
		if v, err := x.DereferenceInteger(mk["R"]); err == nil && v != nil {
			if deg := (v.Value()%360 + 360) % 360; deg%90 == 0 {
				return deg, nil
			}
		}
	}
	if r.byAnnot == nil {
		pages, err := r.doc.allPages()
		if err != nil {
			return 0, fmt.Errorf("widget rotation: %w", err)
		}
		r.byAnnot = map[int]int{}
		for _, p := range pages {
			annots, err := x.DereferenceArray(p.dict["Annots"])
			if err != nil || p.rotate == 0 {
				continue
			}
			for _, a := range annots {
				if ref, ok := a.(types.IndirectRef); ok {
					r.byAnnot[ref.ObjectNumber.Value()] = p.rotate
				}
			}
		}
	}
	return r.byAnnot[nr], nil
}

// defaultAppearance is the widget's /DA, else the field's, else the form's.
func (d *document) defaultAppearance(w, field types.Dict) string {
	for _, dict := range []types.Dict{w, field} {
		if s, err := d.xref.DereferenceText(dict["DA"]); err == nil && s != "" {
			return s
		}
	}
	return ""
}

// fontSize is the size a /DA string's Tf sets; 0 (auto) when it sets none.
func fieldFontSize(da string) float64 {
	parts := strings.Fields(da)
	for i, p := range parts {
		if p == "Tf" && i >= 1 {
			if v, err := strconv.ParseFloat(parts[i-1], 64); err == nil && v > 0 && v < 200 {
				return v
			}
		}
	}
	return 0
}

// fieldTextContent lays text out in a width × height box in the embedded font: one line shrunk
// to fit (aligned by Q: 0 left, 1 centred, 2 right) or, for multiline fields, wrapped at spaces
// from the top; clipped to the box either way.
func fieldTextContent(u *fontUse, text string, width, height, size float64, align int, multiline bool) string {
	const pad = 2.0
	var b strings.Builder
	fmt.Fprintf(&b, "/Tx BMC\nq\n%s %s %s %s re W n\nBT\n0 g\n", fieldNum(1), fieldNum(1), fieldNum(math.Max(width-2, 0)), fieldNum(math.Max(height-2, 0)))
	if !multiline {
		if size == 0 {
			size = math.Min(12, (height-2*pad)*0.75)
		}
		if w := u.width(text, size); w > width-2*pad && w > 0 {
			size = math.Max(4, size*(width-2*pad)/w)
		}
		w := u.width(text, size)
		x := pad
		switch align {
		case 1:
			x = (width - w) / 2
		case 2:
			x = width - pad - w
		}
		y := (height-size)/2 + 0.22*size
		fmt.Fprintf(&b, "/F1 %s Tf\n%s %s Td\n%s Tj\n", fieldNum(size), fieldNum(x), fieldNum(y), u.encode(text))
	} else {
		if size == 0 {
			size = 10
		}
		lead := size * 1.15
		fmt.Fprintf(&b, "/F1 %s Tf\n%s TL\n%s %s Td\n", fieldNum(size), fieldNum(lead), fieldNum(pad), fieldNum(height-pad-size))
		for i, line := range fieldWrap(u, text, width-2*pad, size) {
			if i > 0 {
				b.WriteString("T*\n")
			}
			b.WriteString(u.encode(line) + " Tj\n")
		}
	}
	b.WriteString("ET\nQ\nEMC")
	return b.String()
}

// fieldWrap breaks text into lines at most width wide, at spaces where it can and inside a word
// where it must; newlines in the text are kept.
func fieldWrap(u *fontUse, text string, width, size float64) []string {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Split(para, " ") {
			candidate := word
			if line != "" {
				candidate = line + " " + word
			}
			if u.width(candidate, size) <= width || line == "" && utf8.RuneCountInString(word) <= 1 {
				line = candidate
				continue
			}
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			for w := []rune(word); len(w) > 0; {
				n := len(w)
				for n > 1 && u.width(string(w[:n]), size) > width {
					n--
				}
				if n == len(w) {
					line = string(w)
					break
				}
				lines = append(lines, string(w[:n]))
				w = w[n:]
			}
		}
		lines = append(lines, line)
	}
	return lines
}

var errFieldNotShowable = errors.New("holds characters the form's font cannot show")

// fieldShowable refuses text the embedded font has no glyph for (it would show as boxes) and
// control characters other than line breaks.
func fieldShowable(font func() (*fontUse, int), s string) error {
	u, _ := font()
	for _, r := range s {
		if r < 0x20 && r != '\n' {
			return errors.New("holds control characters")
		}
		if r == '\n' || r == ' ' {
			continue
		}
		if gi, _ := u.glyph(r); gi == 0 {
			return errFieldNotShowable
		}
	}
	return nil
}

// fieldText is s as a PDF text string in a literal (textLiteral: printable ASCII as it is, else
// UTF-16BE with a byte-order mark), for text and choice fields alike: pdfcpu's form export reads a
// choice's /V only from a literal string, and some readers take nothing else there.
func fieldText(s string) types.StringLiteral {
	lit := textLiteral(s)
	return types.StringLiteral(lit[1 : len(lit)-1]) // the literal's contents, without its parentheses
}

func fieldNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func fieldContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fieldQuoted(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// formFields walks the catalog's /AcroForm field tree to its terminal fields, with their fully
// qualified names, inherited /FT and /Ff, and widgets.
func (d *document) formFields(catalog types.Dict) ([]formField, error) {
	acro, err := d.xref.DereferenceDict(catalog["AcroForm"])
	if err != nil {
		return nil, fmt.Errorf("/AcroForm: %w", err)
	}
	roots, err := d.xref.DereferenceArray(acro["Fields"])
	if err != nil {
		return nil, fmt.Errorf("/AcroForm /Fields: %w", err)
	}
	var out []formField
	seen := map[int]bool{}
	var walk func(refs types.Array, prefix, ft string, flags, depth int) error
	walk = func(refs types.Array, prefix, ft string, flags, depth int) error {
		if depth > maxFormDepth {
			return errors.New("form field tree nested too deep")
		}
		for _, o := range refs {
			ref, ok := o.(types.IndirectRef)
			if !ok || seen[ref.ObjectNumber.Value()] {
				continue
			}
			seen[ref.ObjectNumber.Value()] = true
			f, err := d.xref.DereferenceDict(ref)
			if err != nil || f == nil {
				continue
			}
			name := prefix
			if t, err := d.xref.DereferenceText(f["T"]); err == nil && t != "" {
				if name != "" {
					name += "."
				}
				name += t
			}
			fieldFT, fieldFlags := ft, flags
			if n := f.NameEntry("FT"); n != nil {
				fieldFT = *n
			}
			if v := f.IntEntry("Ff"); v != nil {
				fieldFlags = *v
			}
			kids, _ := d.xref.DereferenceArray(f["Kids"])
			var children types.Array
			var widgets []int
			for _, k := range kids {
				kr, ok := k.(types.IndirectRef)
				if !ok {
					continue
				}
				kd, err := d.xref.DereferenceDict(kr)
				if err != nil || kd == nil {
					continue
				}
				if _, named := kd["T"]; named {
					children = append(children, kr)
				} else {
					widgets = append(widgets, kr.ObjectNumber.Value())
				}
			}
			if len(children) > 0 {
				if err := walk(children, name, fieldFT, fieldFlags, depth+1); err != nil {
					return err
				}
			}
			if len(children) == 0 || len(widgets) > 0 {
				if len(kids) == 0 {
					widgets = []int{ref.ObjectNumber.Value()} // field and widget merged
				}
				out = append(out, formField{nr: ref.ObjectNumber.Value(), dict: f, name: name, ft: fieldFT, flags: fieldFlags, widgets: widgets})
			}
		}
		return nil
	}
	if err := walk(roots, "", "", 0, 0); err != nil {
		return nil, err
	}
	return out, nil
}
