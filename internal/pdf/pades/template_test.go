package pades_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"esign/internal/fault"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// templatePDF is an integrator's seals page written by hand: a dark band across the top with a
// title, a Flate-compressed content stream, a form XObject (a framed box around the seals area)
// and resources inherited from the page tree, so the import has to follow each of them. pages > 1
// adds blank pages.
func templatePDF(t *testing.T, pages int) []byte {
	t.Helper()
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	content := "q 0.15 0.2 0.45 rg 0 742 595 100 re f Q\nBT 1 1 1 rg /F1 24 Tf 50 780 Td (ACME Seals Template) Tj ET\n/Fm1 Do\n"
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(content))
	zw.Close()
	frame := "q 0.8 0.1 0.1 RG 2 w 40 70 515 340 re S Q"
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	kids := "4 0 R"
	for i := 1; i < pages; i++ {
		kids += fmt.Sprintf(" %d 0 R", 7+i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")                                                                                                  // 1
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /Resources << /Font << /F1 3 0 R >> /XObject << /Fm1 6 0 R >> >> >>", kids, pages)) // 2
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")                                                                             // 3
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>")                                                            // 4
	obj(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes()))                                      // 5
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length %d >>\nstream\n%s\nendstream", len(frame), frame))          // 6
	obj("<< /Length 0 >>\nstream\n\nendstream")                                                                                               // 7
	for i := 1; i < pages; i++ {
		obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 7 0 R >>")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// The template becomes the seals page: the seals land inside its area, in the grid's slots, and the
// template's own drawing is unchanged everywhere else; the signatures validate; the text of both
// the template and the seals is there; the seal font is embedded.
func TestSealsPageTemplate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tmpl := templatePDF(t, 1)
	area := [4]float64{50, 80, 545, 400} // inside the red frame
	spec := pades.SealsPageTemplate{Page: tmpl, Area: area, Columns: 2, Rows: 3}
	doc := pdftest.Make(t, 2, 0)
	out, err := pades.AppendTemplatePage(ctx, doc, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, doc) {
		t.Fatal("the template page rewrote the document")
	}
	pdftest.QPDFCheck(t, out)
	if n, err := pdftest.QPDF(t, out, "--show-npages"); err != nil || strings.TrimSpace(n) != "3" {
		t.Fatalf("pages %q %v, want 3", n, err)
	}
	// Before any seal, the imported page renders exactly as the template does.
	want := render(t, tmpl, 1)
	if _, n := changed(want, render(t, out, 3)); n != 0 {
		t.Fatalf("the imported page differs from the template in %d pixels", n)
	}
	for i, name := range []string{"Ada Lovelace", "Bo Ødegård", "Cai Åberg"} {
		out, err = pades.Sign(ctx, out, f.key, f.tsa, pades.Signature{Name: name, Time: time.Now(),
			Widget: &pades.Widget{Slot: i, Slots: 6, Lines: []string{"Signed by " + name, "Document ID DOC-1"}}})
		if err != nil {
			t.Fatalf("seal %d: %v", i+1, err)
		}
	}
	pdftest.QPDFCheck(t, out)
	if report := pdfsig(t, f, out); strings.Count(report, "Signature is Valid.") != 3 || strings.Contains(report, "Invalid") {
		t.Fatalf("pdfsig:\n%s", report)
	}
	pdfcpuValid(t, f, out, 3)
	got := render(t, out, 3)
	box, n := changed(want, got)
	// Pixels, y down: the area is x 50–545, y 842-400 … 842-80.
	areaPx := image.Rect(50, 842-400, 545, 842-80)
	if n == 0 || !box.In(areaPx) {
		t.Errorf("the seals drew %d pixels in %v, want them inside the area %v", n, box, areaPx)
	}
	// Slot by slot: the first three of a 2 × 3 grid (top left, top right, middle left) are inked,
	// the other three are not.
	cw, ch := (545-50)/2, (400-80)/3
	for slot := 0; slot < 6; slot++ {
		col, row := slot%2, slot/2
		cell := image.Rect(50+col*cw, 842-400+row*ch, 50+(col+1)*cw, 842-400+(row+1)*ch).Inset(8)
		_, ink := changed(crop(want, cell), crop(got, cell))
		if (slot < 3) != (ink > cell.Dx()*cell.Dy()/100) {
			t.Errorf("slot %d (%v): %d pixels changed", slot, cell, ink)
		}
	}
	text := strings.Join(strings.Fields(tool(t, "pdftotext", out, "-enc", "UTF-8", "-f", "3", "-l", "3")), "")
	for _, w := range []string{"ACMESealsTemplate", "SignedbyAdaLovelace", "SignedbyBoØdegård", "SignedbyCaiÅberg"} {
		if !strings.Contains(text, w) {
			t.Errorf("pdftotext of the seals page lacks %q: %q", w, text)
		}
	}
	if fonts := tool(t, "pdffonts", out); strings.Count(fonts, "+GoRegular") != 3 {
		t.Errorf("pdffonts: want one embedded Go Regular subset per seal:\n%s", fonts)
	}
	// A seventh seal has no slot in a 2 × 3 grid.
	if _, err := pades.Sign(ctx, out, f.key, f.tsa, pades.Signature{Time: time.Now(),
		Widget: &pades.Widget{Slot: 6, Slots: 7, Lines: []string{"x"}}}); err == nil || !strings.Contains(err.Error(), "room for 6") {
		t.Errorf("seal 7 of a 2 × 3 template: %v, want no room", err)
	}
}

func TestCheckTemplate(t *testing.T) {
	a4 := pades.TemplatePage{Pages: 1, Box: [4]float64{0, 0, 595, 842}}
	cases := []struct {
		name  string
		page  pades.TemplatePage
		spec  pades.SealsPageTemplate
		field string // "" for accepted
	}{
		{"fits", a4, pades.SealsPageTemplate{Area: [4]float64{50, 80, 545, 400}, Columns: 2, Rows: 3}, ""},
		{"two pages", pades.TemplatePage{Pages: 2, Box: a4.Box}, pades.SealsPageTemplate{Area: [4]float64{0, 0, 100, 100}, Columns: 1, Rows: 1}, "t.blob"},
		{"rotated", pades.TemplatePage{Pages: 1, Box: a4.Box, Rotate: 90}, pades.SealsPageTemplate{Area: [4]float64{0, 0, 100, 100}, Columns: 1, Rows: 1}, "t.blob"},
		{"outside the page", a4, pades.SealsPageTemplate{Area: [4]float64{50, 80, 600, 400}, Columns: 1, Rows: 1}, "t.area"},
		{"negative", a4, pades.SealsPageTemplate{Area: [4]float64{-1, 80, 500, 400}, Columns: 1, Rows: 1}, "t.area"},
		{"inverted", a4, pades.SealsPageTemplate{Area: [4]float64{500, 80, 50, 400}, Columns: 1, Rows: 1}, "t.area"},
		{"no columns", a4, pades.SealsPageTemplate{Area: [4]float64{0, 0, 500, 400}, Columns: 0, Rows: 1}, "t.expectedColumns"},
		{"no rows", a4, pades.SealsPageTemplate{Area: [4]float64{0, 0, 500, 800}, Columns: 1, Rows: 0}, "t.expectedRows"},
		{"rows too low for text", a4, pades.SealsPageTemplate{Area: [4]float64{0, 0, 500, 800}, Columns: 1, Rows: 40}, "t.area"},
		{"slots too small", a4, pades.SealsPageTemplate{Area: [4]float64{0, 0, 300, 100}, Columns: 6, Rows: 4}, "t.area"},
	}
	for _, c := range cases {
		err := pades.CheckTemplate("t", c.page, c.spec)
		var fe *fault.Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v, want accepted", c.name, err)
		case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
			t.Errorf("%s: %v, want an invalid-input error on %s", c.name, err, c.field)
		}
	}
	// AppendTemplatePage applies the same rules to the bytes it is given.
	if _, err := pades.AppendTemplatePage(context.Background(), pdftest.Make(t, 1, 0),
		pades.SealsPageTemplate{Page: templatePDF(t, 2), Area: [4]float64{0, 0, 100, 100}, Columns: 1, Rows: 1}); err == nil {
		t.Error("a two-page template was appended")
	}
}
