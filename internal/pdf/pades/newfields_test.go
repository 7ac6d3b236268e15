package pades_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"image"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// signatoryFields is one field of each kind on a two-page document: the initials on both pages
// (two widgets), the others once on page 1.
func signatoryFields() []pades.NewField {
	return []pades.NewField{
		{Name: "initials", Kind: pades.NewText, Tooltip: "Initials", MaxLen: 4,
			Rects: []pades.Placement{{Page: 1, X: 450, Y: 60, Width: 60, Height: 20}, {Page: 2, X: 450, Y: 60, Width: 60, Height: 20}}},
		{Name: "full_name", Kind: pades.NewText, Tooltip: "Full name", Rects: []pades.Placement{{Page: 1, X: 72, Y: 600, Width: 220, Height: 20}}},
		{Name: "bemærkninger", Kind: pades.NewTextArea, Tooltip: "Remarks", Rects: []pades.Placement{{Page: 1, X: 72, Y: 480, Width: 250, Height: 80}}},
		{Name: "accept", Kind: pades.NewCheckbox, Tooltip: "I accept", Rects: []pades.Placement{{Page: 1, X: 72, Y: 440, Width: 14, Height: 14}}},
		{Name: "tier", Kind: pades.NewRadio, Tooltip: "Tier", Options: []string{"Basic", "Premium plan", "Ærlig"},
			Rects: []pades.Placement{{Page: 1, X: 360, Y: 380, Width: 120, Height: 48}}},
		{Name: "city", Kind: pades.NewDropdown, Tooltip: "City", Options: []string{"Oslo", "Stockholm", "Århus"},
			Rects: []pades.Placement{{Page: 1, X: 72, Y: 380, Width: 150, Height: 20}}},
	}
}

func xrefStreamPDF(t *testing.T, pages int) []byte {
	t.Helper()
	conf := pdf.ReadConfig()
	conf.WriteXRefStream, conf.WriteObjectStream = true, true
	var buf bytes.Buffer
	if err := api.Optimize(bytes.NewReader(pdftest.Make(t, pages, 0)), &buf, conf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/XRef")) {
		t.Fatal("the fixture has no cross-reference stream")
	}
	return buf.Bytes()
}

// TestAddFieldsReadBack: on documents without a form, with one, with an xref stream and with rotated
// pages, the created fields pass qpdf, read back through pdf.FormFields as what was asked (kind,
// options, pages, locked), their widgets sit at the rects given, and no page content changed.
func TestAddFieldsReadBack(t *testing.T) {
	ctx := context.Background()
	a4 := [4]float64{0, 0, 595, 842}
	docs := []struct {
		name     string
		doc      []byte
		existing int // form fields the document has already
	}{
		{"no form", pdftest.Make(t, 2, 0), 0},
		{"xref stream", xrefStreamPDF(t, 2), 0},
		{"form with text field", pdftest.Build(t, pdftest.Spec{Pages: 2, TextField: true}), 1},
		{"full form", pdftest.Form(t), 6},
		{"rotated 90 and 270", hand([][4]float64{a4, a4}, []int{90, 270}, false), 0},
		{"rotated 180 inherited", hand([][4]float64{a4, a4}, []int{180, 180}, true), 0},
	}
	for _, c := range docs {
		t.Run(c.name, func(t *testing.T) {
			fields := signatoryFields()
			out, err := pades.AddFields(ctx, c.doc, fields)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, c.doc) {
				t.Fatal("AddFields rewrote the document instead of appending an update")
			}
			if n := bytes.Count(out[len(c.doc):], []byte("%%EOF")); n != 1 {
				t.Errorf("AddFields appended %d updates, want 1", n)
			}
			pdftest.QPDFCheck(t, out)
			checkContentsUntouched(t, c.doc, out)

			got, err := pdf.FormFields(ctx, out)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.existing+len(fields) {
				t.Errorf("FormFields lists %d fields, want %d: %+v", len(got), c.existing+len(fields), got)
			}
			byName := map[string]pdf.FormField{}
			for _, g := range got {
				byName[g.Name] = g
			}
			want := []struct {
				name, kind string
				options    []string
				pages      []int
				multiline  bool
				value      string
			}{
				{"initials", "text", nil, []int{1, 2}, false, ""},
				{"full_name", "text", nil, []int{1}, false, ""},
				{"bemærkninger", "text", nil, []int{1}, true, ""},
				{"accept", "checkbox", nil, []int{1}, false, "false"},
				{"tier", "radio", []string{"Basic", "Premium plan", "Ærlig"}, []int{1}, false, ""},
				{"city", "choice", []string{"Oslo", "Stockholm", "Århus"}, []int{1}, false, ""},
			}
			for _, w := range want {
				g, ok := byName[w.name]
				switch {
				case !ok:
					t.Errorf("field %s is not listed", w.name)
				case g.Kind != w.kind || !slices.Equal(g.Options, w.options) || !slices.Equal(g.Pages, w.pages) || !g.Locked ||
					g.Multiline != w.multiline || g.Value != w.value:
					t.Errorf("field %s reads back as %+v, want kind %s, options %q, pages %v, locked, multiline %v, value %q",
						w.name, g, w.kind, w.options, w.pages, w.multiline, w.value)
				}
			}

			x := readForm(t, out)
			for _, f := range fields {
				rects := x.widgetRects(t, f.Name)
				if f.Kind != pades.NewRadio {
					if len(rects) != len(f.Rects) {
						t.Fatalf("%s has %d widgets, want %d", f.Name, len(rects), len(f.Rects))
					}
					for i, r := range f.Rects {
						if !sameRect(rects[i], placementRect(r)) {
							t.Errorf("%s widget %d at %v, want %v", f.Name, i, rects[i], placementRect(r))
						}
					}
					continue
				}
				// A radio group: one widget per option, which together fill the rect.
				if len(rects) != len(f.Options)*len(f.Rects) {
					t.Fatalf("%s has %d widgets, want %d", f.Name, len(rects), len(f.Options)*len(f.Rects))
				}
				union := rects[0]
				for _, r := range rects[1:] {
					union = [4]float64{math.Min(union[0], r[0]), math.Min(union[1], r[1]), math.Max(union[2], r[2]), math.Max(union[3], r[3])}
				}
				if !sameRect(union, placementRect(f.Rects[0])) {
					t.Errorf("%s's widgets cover %v, want %v", f.Name, union, placementRect(f.Rects[0]))
				}
			}
			if !x.hasHelv {
				t.Error("the AcroForm's /DR has no /Helv font")
			}
			if x.needAppearances {
				t.Error("the AcroForm sets /NeedAppearances")
			}
		})
	}
}

func placementRect(p pades.Placement) [4]float64 {
	return [4]float64{p.X, p.Y, p.X + p.Width, p.Y + p.Height}
}

func sameRect(a, b [4]float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 0.01 {
			return false
		}
	}
	return true
}

// checkContentsUntouched fails unless the update after before defines none of its pages' content
// streams.
func checkContentsUntouched(t *testing.T, before, after []byte) {
	t.Helper()
	m, err := pdf.Read(context.Background(), before)
	if err != nil {
		t.Fatal(err)
	}
	x := m.XRefTable
	if err := x.EnsurePageCount(); err != nil {
		t.Fatal(err)
	}
	contents := map[int]bool{}
	for i := 1; i <= x.PageCount; i++ {
		d, _, _, err := x.PageDict(i, false)
		if err != nil {
			t.Fatal(err)
		}
		switch c := d["Contents"].(type) {
		case types.IndirectRef:
			contents[c.ObjectNumber.Value()] = true
		case types.Array:
			for _, o := range c {
				if r, ok := o.(types.IndirectRef); ok {
					contents[r.ObjectNumber.Value()] = true
				}
			}
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^(\d+) \d+ obj`).FindAllSubmatch(after[len(before):], -1) {
		if nr, _ := strconv.Atoi(string(m[1])); contents[nr] {
			t.Errorf("the update rewrites content stream %d", nr)
		}
	}
}

type formView struct {
	fields          map[string]types.Dict // root fields by name
	deref           func(types.Object) (types.Object, error)
	hasHelv         bool
	needAppearances bool
}

func readForm(t *testing.T, data []byte) *formView {
	t.Helper()
	m, err := pdf.Read(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	x := m.XRefTable
	catalog, err := x.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	acro, err := x.DereferenceDict(catalog["AcroForm"])
	if err != nil || acro == nil {
		t.Fatalf("no /AcroForm: %v", err)
	}
	v := &formView{fields: map[string]types.Dict{}, deref: x.Dereference}
	if dr, _ := x.DereferenceDict(acro["DR"]); dr != nil {
		fonts, _ := x.DereferenceDict(dr["Font"])
		helv, _ := x.DereferenceDict(fonts["Helv"])
		v.hasHelv = helv != nil && helv.NameEntry("BaseFont") != nil && *helv.NameEntry("BaseFont") == "Helvetica"
	}
	if b, ok := acro["NeedAppearances"].(types.Boolean); ok && b.Value() {
		v.needAppearances = true
	}
	roots, err := x.DereferenceArray(acro["Fields"])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range roots {
		f, err := x.DereferenceDict(o)
		if err != nil || f == nil {
			continue
		}
		if name, err := x.DereferenceText(f["T"]); err == nil {
			v.fields[name] = f
		}
	}
	return v
}

// widgetRects are the /Rect of the root field name's widgets: its kids in order, or itself.
func (v *formView) widgetRects(t *testing.T, name string) [][4]float64 {
	t.Helper()
	f, ok := v.fields[name]
	if !ok {
		t.Fatalf("no root field %s", name)
	}
	dict := func(o types.Object) types.Dict {
		d, err := v.deref(o)
		if err != nil {
			t.Fatal(err)
		}
		return d.(types.Dict)
	}
	widgets := []types.Dict{f}
	if kids, ok := f["Kids"].(types.Array); ok {
		widgets = widgets[:0]
		for _, k := range kids {
			widgets = append(widgets, dict(k))
		}
	}
	var out [][4]float64
	for _, w := range widgets {
		arr, ok := w["Rect"].(types.Array)
		if !ok || len(arr) != 4 {
			t.Fatalf("%s: widget without /Rect: %v", name, w)
		}
		var r [4]float64
		for i, o := range arr {
			switch n := o.(type) {
			case types.Integer:
				r[i] = float64(n.Value())
			case types.Float:
				r[i] = n.Value()
			}
		}
		out = append(out, r)
	}
	return out
}

// TestAddFieldsFillAndSign is the whole flow: fields created at intake, a first signature, a
// signatory fills their fields (Owned) and signs. Both signatures verify, the page shows the
// values, and pyHanko rates what happened after the first signature as form filling.
func TestAddFieldsFillAndSign(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw})
	withFields, err := pades.AddFields(ctx, pdftest.Make(t, 2, 0), signatoryFields())
	if err != nil {
		t.Fatal(err)
	}
	first, err := pades.Sign(ctx, withFields, f.key, f.tsa, pades.Signature{Name: "First", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	remarks := "First line of the remarks,\nand a second one that is long enough to wrap inside the text area: æøå."
	values := []pades.FormValue{
		{Field: "full_name", Value: "Åse Ødegård", Owned: true},
		{Field: "bemærkninger", Value: remarks, Owned: true},
		{Field: "accept", Value: "true", Owned: true},
		{Field: "city", Value: "Stockholm", Owned: true},
	}
	filled, err := pades.FillForm(ctx, first, values)
	if err != nil {
		t.Fatal(err)
	}
	second, err := pades.Sign(ctx, filled, f.key, f.tsa, pades.Signature{Name: "Second", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, second)
	if report := pdfsig(t, f, second); strings.Count(report, "Signature is Valid.") != 2 {
		t.Fatalf("pdfsig after the fill and the second signature:\n%s", report)
	}
	text := renderedText(t, second)
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Åse Ødegård", "Stockholm", "First line of the remarks,"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the page does not show %q; pdftotext:\n%s", want, text)
		}
	}
	results := pdftest.RequirePyHankoValid(t, second, root, 2, pdftest.LevelFormFilling)
	if results[0].Level != pdftest.LevelFormFilling || results[1].Level != pdftest.LevelNone {
		t.Errorf("pyHanko levels %s (first), %s (second), want FORM_FILLING and NONE; %s", results[0].Level, results[1].Level, results[0].DiffError)
	}
	got, err := pdf.FormFields(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"full_name": "Åse Ødegård", "bemærkninger": remarks, "accept": "true", "city": "Stockholm", "initials": "", "tier": ""}
	for _, g := range got {
		if w, ok := want[g.Name]; !ok || g.Value != w {
			t.Errorf("field %s reads back %q, want %q", g.Name, g.Value, w)
		}
	}

	// What pyHanko 0.38 makes of fields with more than one widget: choosing a radio option sets /AS
	// on the group's widget kids, and filling the two-page initials gives both widget kids a new
	// /AP. pyHanko's diff policy follows a field's kids only when they have a /T of their own (they
	// are then fields, diff_analysis.form_rules_api._list_fields), so it explains no change to a
	// widget kid and rates the update OTHER. A radio group needs a widget per option, and those may
	// not be fields of their own (ISO 32000-1, 12.7.4.2.4: the kids of a radio button field are its
	// buttons, which together hold one value), so no structure of ours avoids it; a single-widget
	// field is merged with its widget, which pyHanko does explain (FORM_FILLING above).
	for _, c := range []struct {
		name  string
		value pades.FormValue
		want  pdftest.ModificationLevel
	}{
		{"radio group", pades.FormValue{Field: "tier", Value: "Premium plan", Owned: true}, pdftest.LevelOther},
		{"text on two pages", pades.FormValue{Field: "initials", Value: "ÅØ", Owned: true}, pdftest.LevelOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			filled, err := pades.FillForm(ctx, first, []pades.FormValue{c.value})
			if err != nil {
				t.Fatal(err)
			}
			second, err := pades.Sign(ctx, filled, f.key, f.tsa, pades.Signature{Name: "Second", Time: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if report := pdfsig(t, f, second); strings.Count(report, "Signature is Valid.") != 2 {
				t.Fatalf("pdfsig:\n%s", report)
			}
			results := pdftest.RequirePyHankoValid(t, second, root, 2, c.want)
			if results[0].Level != c.want || results[1].Level != pdftest.LevelNone {
				t.Errorf("pyHanko levels %s (first), %s (second), want %s and NONE; %s", results[0].Level, results[1].Level, c.want, results[0].DiffError)
			}
			if !strings.Contains(results[0].DiffError, "unexplained") {
				t.Errorf("pyHanko's reason is not an unexplained widget update: %s", results[0].DiffError)
			}
		})
	}
}

// TestAddFieldsRasters: unfilled text and dropdown fields draw nothing, a checkbox and a radio group
// only their outlines inside their rects; once filled, the checkbox shows its mark, the radio
// group the chosen option's dot (the top one as the page is shown, on a rotated page too) and the
// text field its text.
func TestAddFieldsRasters(t *testing.T) {
	ctx := context.Background()
	a4 := [4]float64{0, 0, 595, 842}
	for _, c := range []struct {
		name   string
		doc    []byte
		rotate int
	}{
		{"upright", pdftest.Make(t, 2, 0), 0},
		{"rotated 90", hand([][4]float64{a4, a4}, []int{90, 0}, false), 90},
	} {
		t.Run(c.name, func(t *testing.T) {
			fields := signatoryFields()
			if c.rotate == 90 {
				// The name field wide as the page is shown (its user-space rect is turned), so its
				// text is drawn upright in it.
				for i := range fields {
					if fields[i].Name == "full_name" {
						fields[i].Rects = []pades.Placement{{Page: 1, X: 530, Y: 150, Width: 20, Height: 220}}
					}
				}
			}
			before := render(t, c.doc, 1)
			out, err := pades.AddFields(ctx, c.doc, fields)
			if err != nil {
				t.Fatal(err)
			}
			after := render(t, out, 1)
			// shown is a rect (default user space) as pixels of the page rendered at 72 dpi.
			shown := func(p pades.Placement) image.Rectangle {
				x0, y0, x1, y1 := p.X, p.Y, p.X+p.Width, p.Y+p.Height
				if c.rotate == 90 { // shown x = user y, shown row = user x
					return image.Rect(int(y0), int(x0), int(math.Ceil(y1)), int(math.Ceil(x1)))
				}
				return image.Rect(int(x0), int(842-y1), int(math.Ceil(x1)), int(math.Ceil(842-y0)))
			}
			byName := map[string]pades.NewField{}
			for _, f := range fields {
				byName[f.Name] = f
			}
			checkbox, radio := shown(byName["accept"].Rects[0]), shown(byName["tier"].Rects[0])
			box, n := changed(before, after)
			if n == 0 || !box.In(checkbox.Union(radio).Inset(-1)) {
				t.Errorf("AddFields changed the page in %v (%d pixels), want only the checkbox %v and the radio group %v", box, n, checkbox, radio)
			}
			for _, name := range []string{"checkbox", "radio"} {
				r := map[string]image.Rectangle{"checkbox": checkbox, "radio": radio}[name]
				if _, n := changed(crop(before, r), crop(after, r)); n < 10 {
					t.Errorf("the unfilled %s draws %d pixels, want its outline", name, n)
				}
			}
			filled, err := pades.FillForm(ctx, out, []pades.FormValue{
				{Field: "accept", Value: "true", Owned: true},
				{Field: "tier", Value: "Basic", Owned: true},
				{Field: "full_name", Value: "Åse Ødegård", Owned: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			img := render(t, filled, 1)
			dark := func(r image.Rectangle) int { return darkPixels(img, r) }
			if n, m := dark(checkbox.Inset(3)), darkPixels(after, checkbox.Inset(3)); n < 8 || m > 0 {
				t.Errorf("the checkbox has %d dark pixels inside its outline when checked, %d before; want some and none", n, m)
			}
			if n := dark(shown(byName["full_name"].Rects[0])); n < 20 {
				t.Errorf("the filled text field has %d dark pixels", n)
			}
			// The chosen option is the first, the top row of the group as shown.
			third := radio.Dy() / 3
			top := image.Rect(radio.Min.X, radio.Min.Y, radio.Max.X, radio.Min.Y+third)
			rest := image.Rect(radio.Min.X, radio.Min.Y+third, radio.Max.X, radio.Max.Y)
			_, inTop := changed(crop(after, top), crop(img, top))
			_, inRest := changed(crop(after, rest), crop(img, rest))
			if inTop < 8 || inRest > 0 {
				t.Errorf("radio option 1 chosen: %d pixels changed in the top row as shown, %d in the others", inTop, inRest)
			}
		})
	}
}

func TestAddFieldsRefused(t *testing.T) {
	ctx := context.Background()
	doc := pdftest.Form(t) // has the fields name, note, agree, plan, country, address.city, Signature1
	text := func(name string) pades.NewField {
		return pades.NewField{Name: name, Kind: pades.NewText, Rects: []pades.Placement{{Page: 1, X: 300, Y: 100, Width: 100, Height: 20}}}
	}
	with := func(f pades.NewField, change func(*pades.NewField)) pades.NewField {
		change(&f)
		return f
	}
	cases := []struct {
		name   string
		fields []pades.NewField
		index  int
		reason string
	}{
		{"existing field", []pades.NewField{text("x"), text("name")}, 1, "is already a field of the document"},
		{"existing parent field", []pades.NewField{text("address")}, 0, "is already a field"},
		{"signature field", []pades.NewField{text("Signature1")}, 0, "is already a field"},
		{"twice", []pades.NewField{text("a"), text("b"), text("a")}, 2, "is given twice (also at 0)"},
		{"page beyond the document", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects[0].Page = 3 })}, 0,
			"rects[0]: page 3 does not exist: the document has 2 pages"},
		{"page zero", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects[0].Page = 0 })}, 0, "page 0 does not exist"},
		{"outside the page", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects[0].X = 550 })}, 0, "is not inside page 1"},
		{"not a number", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects[0].Y = math.NaN() })}, 0, "y must be a finite number"},
		{"too small", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects[0].Height = 2 })}, 0, "at least 4 × 4 points"},
		{"no rects", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Rects = nil })}, 0, "has no rectangle"},
		{"empty name", []pades.NewField{text("a"), text("")}, 1, "has no name"},
		{"dotted name", []pades.NewField{text("a.b")}, 0, "without dots"},
		{"long name", []pades.NewField{text(strings.Repeat("n", 256))}, 0, "at most 255 are allowed"},
		{"unknown kind", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind = "signature" })}, 0, `kind "signature" is not one of`},
		{"radio without options", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind = pades.NewRadio })}, 0,
			"a radio field needs 1 to 50 options, not 0"},
		{"dropdown without options", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind = pades.NewDropdown })}, 0,
			"a dropdown field needs 1 to 50 options, not 0"},
		{"too many options", []pades.NewField{with(text("a"), func(f *pades.NewField) {
			f.Kind, f.Options = pades.NewDropdown, strings.Split(strings.Repeat("o,", 50)+"last", ",")
		})}, 0, "needs 1 to 50 options, not 51"},
		{"repeated option", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind, f.Options = pades.NewDropdown, []string{"x", "y", "x"} })}, 0,
			`option 2 repeats option 0 ("x")`},
		{"long option", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind, f.Options = pades.NewDropdown, []string{strings.Repeat("o", 101)} })}, 0,
			"option 0 is 101 characters long"},
		{"radio option Off", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind, f.Options = pades.NewRadio, []string{"On", "Off"} })}, 0,
			`option 1: "Off" is the name`},
		{"dropdown option the font lacks", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Kind, f.Options = pades.NewDropdown, []string{"日本"} })}, 0,
			"option 0 holds characters the form's font cannot show"},
		{"options on a text field", []pades.NewField{with(text("a"), func(f *pades.NewField) { f.Options = []string{"x"} })}, 0, "a text field takes no options"},
		{"radio rows too low", []pades.NewField{with(text("a"), func(f *pades.NewField) {
			f.Kind, f.Options = pades.NewRadio, []string{"a", "b", "c", "d", "e", "f"}
		})}, 0, "6 options need at least 24 points of height"},
		{"too many fields", func() []pades.NewField {
			var fs []pades.NewField
			for i := range 501 {
				fs = append(fs, text("f"+strconv.Itoa(i)))
			}
			return fs
		}(), 500, "at most 500 fields"},
		{"too many widgets", func() []pades.NewField {
			var fs []pades.NewField
			for i := range 11 {
				fs = append(fs, with(text("f"+strconv.Itoa(i)), func(f *pades.NewField) {
					f.Kind, f.Options = pades.NewRadio, strings.Split("a b c d e f g h i j k l m n o p q r s t u v w x y z A B C D E F G H I J K L M N O P Q R S T U V W", " ")
					f.Rects[0].Height = 200
				}))
			}
			return fs
		}(), 10, "more than 500 widgets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := pades.AddFields(ctx, doc, c.fields)
			var fe *pades.FieldError
			if !errors.As(err, &fe) || fe.Index != c.index || !strings.Contains(fe.Reason, c.reason) || out != nil {
				t.Fatalf("AddFields = %d bytes, %v; want nothing and a FieldError at %d saying %q", len(out), err, c.index, c.reason)
			}
		})
	}
}

// A created field is read-only in the document: only the service's Owned values fill it.
func TestFillFormRefusesCreatedFieldUnlessOwned(t *testing.T) {
	ctx := context.Background()
	out, err := pades.AddFields(ctx, pdftest.Make(t, 2, 0), signatoryFields())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []pades.FormValue{{Field: "full_name", Value: "Mallory"}, {Field: "accept", Value: "true"}, {Field: "tier", Value: "Basic"}} {
		filled, err := pades.FillForm(ctx, out, []pades.FormValue{v})
		var fe *pades.FormError
		if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "is read-only") || filled != nil {
			t.Errorf("FillForm(%s) without Owned = %d bytes, %v; want it refused as read-only", v.Field, len(filled), err)
		}
		v.Owned = true
		if _, err := pades.FillForm(ctx, out, []pades.FormValue{v}); err != nil {
			t.Errorf("FillForm(%s) with Owned: %v", v.Field, err)
		}
	}
}

// darkPixels counts the pixels of r in img darker than mid grey.
func darkPixels(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if gray(img, x, y) < 100 {
				n++
			}
		}
	}
	return n
}
