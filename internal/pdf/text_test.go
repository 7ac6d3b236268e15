package pdf_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esign/internal/pdf"
	"esign/internal/testenv"
)

// needTool finds a producer or oracle the test runs. Missing, it fails in CI (which installs them:
// scripts/deps.sh) and skips elsewhere, saying what to install.
func needTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (%s): CI must run this test", name, install)
	}
	t.Skipf("%s is not installed (%s): test skipped (it fails in CI)", name, install)
	return ""
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir) // LibreOffice and Chromium write a profile there
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// want is where a producer was told to put an anchor: its page, the left end of its baseline (or,
// for a box given by the layout, its top-left corner) and its font size, all in points in the
// page's user space.
type want struct {
	text  string
	page  int
	x     float64 // left edge
	top   float64 // top edge of the text's line (ascent), user space
	size  float64 // font size
	count int     // occurrences on that page (default 1)
}

// tolerance is how far, in points, a found box may be from where the producer was told to put the
// text: fonts differ in ascent and descent, and layout engines in where a line's glyphs sit.
const tolerance = 4.0

func checkProducer(t *testing.T, data []byte, wants []want, pages int) {
	t.Helper()
	texts := []string{"{{absent}}"}
	for _, w := range wants {
		texts = append(texts, w.text)
	}
	layout, err := pdf.SearchText(context.Background(), pdf.NewAdmission(pdf.AdmissionConfig{}), data, texts)
	if err != nil {
		t.Fatalf("SearchText: %v", err)
	}
	if len(layout.Pages) != pages {
		t.Fatalf("%d pages, want %d", len(layout.Pages), pages)
	}
	if got := layout.Found["{{absent}}"]; len(got) != 0 {
		t.Errorf("found text that is not there: %v", got)
	}
	oracle := popplerWords(t, data)
	for _, w := range wants {
		var got []pdf.TextBox
		for _, b := range layout.Found[w.text] {
			if b.Page == w.page {
				got = append(got, b)
			}
		}
		n := max(w.count, 1)
		if len(got) != n {
			t.Errorf("%s: found %d on page %d (all: %v), want %d", w.text, len(got), w.page, layout.Found[w.text], n)
			continue
		}
		b := got[0]
		if math.Abs(b.X-w.x) > tolerance || math.Abs(b.Y+b.Height-w.top) > tolerance {
			t.Errorf("%s: box %+v, top-left %.1f,%.1f; want %.1f,%.1f within %g", w.text, b, b.X, b.Y+b.Height, w.x, w.top, tolerance)
		}
		if b.Height < 0.8*w.size || b.Height > 1.6*w.size {
			t.Errorf("%s: height %.1f for a %g pt font", w.text, b.Height, w.size)
		}
		// poppler's own reading of the same page must agree (it has its own font code).
		o, ok := oracle.find(w.page, w.text, layout.Pages[w.page-1].MediaBox)
		if !ok {
			t.Errorf("%s: pdftotext -bbox does not find it on page %d", w.text, w.page)
			continue
		}
		t.Logf("%s on page %d: %.2f,%.2f %.2f×%.2f; pdftotext -bbox %.2f,%.2f %.2f×%.2f", w.text, w.page, b.X, b.Y, b.Width, b.Height, o.X, o.Y, o.Width, o.Height)
		if math.Abs(o.X-b.X) > 1.5 || math.Abs(o.Width-b.Width) > 1.5 || math.Abs((o.Y+o.Height/2)-(b.Y+b.Height/2)) > 2.5 {
			t.Errorf("%s: box %+v, pdftotext -bbox says %+v", w.text, b, o)
		}
	}
}

// popplerPage is pdftotext -bbox's words of one page (top-left origin, points).
type popplerPage struct {
	Height float64 `xml:"height,attr"`
	Words  []struct {
		XMin float64 `xml:"xMin,attr"`
		YMin float64 `xml:"yMin,attr"`
		XMax float64 `xml:"xMax,attr"`
		YMax float64 `xml:"yMax,attr"`
		Text string  `xml:",chardata"`
	} `xml:"word"`
}

type popplerDoc struct {
	Pages []popplerPage `xml:"body>doc>page"`
}

func popplerWords(t *testing.T, data []byte) popplerDoc {
	t.Helper()
	bin := needTool(t, "pdftotext", "apt-get install poppler-utils")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.pdf"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, dir, bin, "-bbox", "in.pdf", "out.html")
	raw, err := os.ReadFile(filepath.Join(dir, "out.html"))
	if err != nil {
		t.Fatal(err)
	}
	var doc popplerDoc
	d := xml.NewDecoder(strings.NewReader(string(raw)))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("read pdftotext -bbox output: %v", err)
	}
	return doc
}

// find is poppler's box of the word that is (or contains) text, in user space.
func (d popplerDoc) find(page int, text string, box [4]float64) (pdf.TextBox, bool) {
	if page > len(d.Pages) {
		return pdf.TextBox{}, false
	}
	p := d.Pages[page-1]
	for _, w := range p.Words {
		if strings.Contains(w.Text, text) {
			return pdf.TextBox{Page: page, X: box[0] + w.XMin, Y: box[1] + p.Height - w.YMax, Width: w.XMax - w.XMin, Height: w.YMax - w.YMin}, true
		}
	}
	return pdf.TextBox{}, false
}

// LibreOffice Writer: a TrueType subset (DejaVu Sans) with ToUnicode, text in TJ arrays.
func TestSearchTextLibreOffice(t *testing.T) {
	bin := needTool(t, "soffice", "apt-get install libreoffice-writer-nogui")
	dir := t.TempDir()
	// A4, margins of 2 cm (56.69 pt); the second page's paragraph is indented by 5 cm more.
	const fodt = `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
 <office:font-face-decls><style:font-face style:name="DejaVu Sans" svg:font-family="'DejaVu Sans'"/></office:font-face-decls>
 <office:styles>
  <style:style style:name="Standard" style:family="paragraph">
   <style:paragraph-properties fo:margin-top="0cm" fo:margin-bottom="0cm" fo:line-height="100%"/>
   <style:text-properties style:font-name="DejaVu Sans" fo:font-size="12pt"/>
  </style:style>
 </office:styles>
 <office:automatic-styles>
  <style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
   fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2cm" fo:margin-right="2cm"/></style:page-layout>
  <style:style style:name="P2" style:family="paragraph" style:parent-style-name="Standard">
   <style:paragraph-properties fo:break-before="page" fo:margin-left="5cm"/></style:style>
  <style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
 </office:automatic-styles>
 <office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1"/></office:master-styles>
 <office:body><office:text>
  <text:p text:style-name="Standard">{{sign_<text:span text:style-name="T1"></text:span>here}} and text that follows it, VAT AV To.</text:p>
  <text:p text:style-name="Standard">A second line with {{sign_here}} again.</text:p>
  <text:p text:style-name="P2">{{date_here}}</text:p>
 </office:text></office:body>
</office:document>`
	if err := os.WriteFile(filepath.Join(dir, "doc.fodt"), []byte(fodt), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, dir, bin, "--headless", "--norestore", "-env:UserInstallation=file://"+dir+"/profile", "--convert-to", "pdf", "--outdir", dir, "doc.fodt")
	data, err := os.ReadFile(filepath.Join(dir, "doc.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	margin := 2 / 2.54 * 72
	checkProducer(t, data, []want{
		{text: "{{sign_here}}", page: 1, x: margin, top: 841.89 - margin, size: 12, count: 2},
		{text: "{{date_here}}", page: 2, x: margin + 5/2.54*72, top: 841.89 - margin, size: 12},
	}, 2)
}

// Ghostscript's pdfwrite: a Type 1 (CFF) subset of the Helvetica substitute, with the anchor shown
// by two PostScript show operators, and a third anchor turned by the CTM.
func TestSearchTextGhostscript(t *testing.T) {
	bin := needTool(t, "gs", "apt-get install ghostscript")
	dir := t.TempDir()
	const ps = `%!PS
<< /PageSize [595 842] >> setpagedevice
/Helvetica findfont 12 scalefont setfont
72 700 moveto ({{sign_) show (here}}) show ( and more) show
showpage
/Helvetica findfont 18 scalefont setfont
200 300 moveto ({{date_here}}) show
gsave 400 500 translate 90 rotate 0 0 moveto ({{turned}}) show grestore
showpage
`
	if err := os.WriteFile(filepath.Join(dir, "in.ps"), []byte(ps), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, dir, bin, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-sOutputFile=out.pdf", "in.ps")
	data, err := os.ReadFile(filepath.Join(dir, "out.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	checkProducer(t, data, []want{
		{text: "{{sign_here}}", page: 1, x: 72, top: 700 + 0.72*12, size: 12},
		{text: "{{date_here}}", page: 2, x: 200, top: 300 + 0.72*18, size: 18},
	}, 2)
	// Turned 90° counter-clockwise about (400, 500): the text runs up from there, its ascent to
	// the left of x = 400.
	layout, err := pdf.SearchText(context.Background(), nil, data, []string{"{{turned}}"})
	if err != nil {
		t.Fatal(err)
	}
	got := layout.Found["{{turned}}"]
	if len(got) != 1 || got[0].Page != 2 || math.Abs(got[0].Y-500) > 1 || math.Abs(got[0].X+got[0].Width-(400+0.3*18)) > tolerance ||
		got[0].Height < 3*18 || got[0].Width > 1.6*18 {
		t.Errorf("turned text at %+v, want it running up from 400,500", got)
	}
}

// pdf-lib: the standard 14 Helvetica without /Widths (measured with pdfcpu's metrics), WinAnsi
// hex strings; the third page has /Rotate 90.
func TestSearchTextPDFLib(t *testing.T) {
	node := needTool(t, "node", "apt-get install nodejs")
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, "tools", "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "pdf-lib")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("pdf-lib is not installed: run make tools")
		}
		t.Skip("pdf-lib is not installed (make tools): test skipped (it fails in CI)")
	}
	dir := t.TempDir()
	const js = `const fs = require('fs');
const { PDFDocument, StandardFonts, degrees } = require('pdf-lib');
(async () => {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  let p = doc.addPage([595, 842]);
  p.drawText('Sign at {{sign_here}} please', { x: 72, y: 700, size: 12, font });
  p = doc.addPage([612, 792]);
  p.drawText('{{date_here}}', { x: 200, y: 300, size: 18, font });
  p = doc.addPage([595, 842]);
  p.setRotation(degrees(90));
  p.drawText('{{sign_here}}', { x: 100, y: 100, size: 10, font });
  fs.writeFileSync(process.argv[2], await doc.save({ useObjectStreams: true }));
})().catch(e => { console.error(e); process.exit(1); });
`
	if err := os.WriteFile(filepath.Join(dir, "make.js"), []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NODE_PATH", modules)
	run(t, dir, node, "make.js", "out.pdf")
	data, err := os.ReadFile(filepath.Join(dir, "out.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := 0.0 // "Sign at " in Helvetica 12: S i g n space a t space
	for _, w := range []float64{667, 222, 556, 556, 278, 556, 278, 278} {
		prefix += w * 12 / 1000
	}
	checkProducer(t, data, []want{
		{text: "{{sign_here}}", page: 1, x: 72 + prefix, top: 700 + 0.75*12, size: 12},
		{text: "{{date_here}}", page: 2, x: 200, top: 300 + 0.75*18, size: 18},
	}, 3)
	layout, err := pdf.SearchText(context.Background(), nil, data, []string{"{{sign_here}}"})
	if err != nil {
		t.Fatal(err)
	}
	if g := layout.Pages[2]; g.Rotate != 90 || g.MediaBox != [4]float64{0, 0, 595, 842} {
		t.Errorf("page 3 geometry %+v, want A4 turned 90", g)
	}
	if f := layout.Found["{{sign_here}}"]; len(f) != 2 || f[1].Page != 3 || math.Abs(f[1].X-100) > 0.5 {
		t.Errorf("occurrences %+v, want the second on page 3 at x 100", f)
	}
}

// Chromium's print to PDF (Skia): Type0 fonts with Identity-H, /W widths and ToUnicode, glyph runs
// positioned one by one.
func TestSearchTextChromium(t *testing.T) {
	bin := needTool(t, "chromium", "apt-get install chromium")
	dir := t.TempDir()
	// CSS pixels are 0.75 pt: 96px is 72 pt, 16px is 12 pt.
	const html = `<!doctype html><html><head><meta charset="utf-8"><style>
@page { size: 595pt 842pt; margin: 0 }
body { margin: 0; font: 16px/16px 'DejaVu Sans'; }
.page { position: relative; width: 595pt; height: 842pt; page-break-after: always; overflow: hidden }
.at { position: absolute; white-space: pre }
</style></head><body>
<div class="page"><div class="at" style="left:96px; top:96px"><b>{{sign_</b>here}} and more</div></div>
<div class="page"><div class="at" style="left:192px; top:400px; font-size:24px; line-height:24px">{{date_here}}</div></div>
</body></html>`
	if err := os.WriteFile(filepath.Join(dir, "in.html"), []byte(html), 0o600); err != nil {
		t.Fatal(err)
	}
	// The flags of internal/testenv's browser, for the same reasons (no network, root).
	run(t, dir, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-quic", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--no-pdf-header-footer", "--print-to-pdf="+filepath.Join(dir, "out.pdf"), "file://"+filepath.Join(dir, "in.html"))
	data, err := os.ReadFile(filepath.Join(dir, "out.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	checkProducer(t, data, []want{
		{text: "{{sign_here}}", page: 1, x: 72, top: 842 - 72, size: 12},
		{text: "{{date_here}}", page: 2, x: 144, top: 842 - 300, size: 18},
	}, 2)
}

// The bounds: a page showing more glyphs than a search keeps is refused, naming the rule; a
// cancelled search stops.
func TestSearchTextBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("BT /F1 1 Tf ")
	for range pdf.MaxPageGlyphs/1000 + 1 {
		b.WriteString("(" + strings.Repeat("x", 1000) + ") Tj ")
	}
	b.WriteString("ET")
	data := handPDF(b.String(), "")
	_, err := pdf.SearchText(context.Background(), nil, data, []string{"{{sign_here}}"})
	var p *pdf.Problem
	if !errors.As(err, &p) || !strings.Contains(p.Reason, "too much text") {
		t.Fatalf("SearchText on %d glyphs = %v, want a Problem about too much text", pdf.MaxPageGlyphs+1000, err)
	}
	// Geometry alone does not read content, so the same document answers it.
	if l, err := pdf.SearchText(context.Background(), nil, data, nil); err != nil || len(l.Pages) != 1 {
		t.Fatalf("geometry: %v, %v", l, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pdf.SearchText(ctx, nil, data, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled search = %v", err)
	}
}

// Hand-written content for what producers do not show reliably: kerning arrays, Tc/Tw/Tz, TJ
// splits, text in a form XObject under a matrix, and a line break inside the text (not a match).
func TestSearchTextOperators(t *testing.T) {
	cases := []struct {
		name    string
		content string
		text    string
		want    []pdf.TextBox // X, Y of the box's lower-left and its width; height is checked loosely
	}{
		{"kerned TJ", "BT /F1 10 Tf 100 200 Td [({{si) 120 (gn_) -50 (here}})] TJ ET", "{{sign_here}}",
			[]pdf.TextBox{{X: 100, Y: 200 - 2.5, Width: 13*6 - 0.7}}}, // Courier: 600 units a glyph; the kerning moves 0.7 back
		{"glyph per Tj", "BT /F1 10 Tf 100 200 Td ({) Tj ({) Tj (a) Tj (}) Tj (}) Tj ET", "{{a}}",
			[]pdf.TextBox{{X: 100, Y: 200 - 2.5, Width: 30}}},
		{"Tm and CTM", "2 0 0 2 10 10 cm BT /F1 10 Tf 1 0 0 1 50 50 Tm ({{a}}) Tj ET", "{{a}}",
			[]pdf.TextBox{{X: 110, Y: 110 - 5, Width: 60}}},
		{"Tc and Tz", "BT /F1 10 Tf 2 Tc 50 Tz 100 200 Td ({{a}}) Tj ET", "{{a}}",
			[]pdf.TextBox{{X: 100, Y: 200 - 2.5, Width: 4*(6+2)*0.5 + 3}}},
		{"two lines do not match", "BT /F1 10 Tf 100 200 Td ({{sign_) Tj 0 -20 Td (here}}) Tj ET", "{{sign_here}}", nil},
		{"every occurrence", "BT /F1 10 Tf 100 200 Td ({{a}} {{a}}) Tj 0 -20 Td ({{a}}) Tj ET", "{{a}}",
			[]pdf.TextBox{{X: 100, Y: 200 - 2.5, Width: 30}, {X: 136, Y: 200 - 2.5, Width: 30}, {X: 100, Y: 180 - 2.5, Width: 30}}},
		{"form XObject", "q 1 0 0 1 300 400 cm /X1 Do Q", "{{form}}",
			[]pdf.TextBox{{X: 300 + 5, Y: 400 + 7 - 2, Width: 38.4}}},
		{"gap makes a space", "BT /F1 10 Tf 100 200 Td (Sign) Tj 30 0 Td (here) Tj ET", "Sign here",
			[]pdf.TextBox{{X: 100, Y: 200 - 2.5, Width: 54}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := handPDF(c.content, "BT /F1 8 Tf 5 7 Td ({{form}}) Tj ET")
			l, err := pdf.SearchText(context.Background(), nil, data, []string{c.text})
			if err != nil {
				t.Fatal(err)
			}
			got := l.Found[c.text]
			if len(got) != len(c.want) {
				t.Fatalf("found %+v, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				g := got[i]
				if g.Page != 1 || math.Abs(g.X-w.X) > 0.05 || math.Abs(g.Y-w.Y) > 0.05 || math.Abs(g.Width-w.Width) > 0.05 || g.Height <= 0 {
					t.Errorf("occurrence %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// handPDF is a one-page A4 document showing content with /F1 the standard 14 Courier (no /Widths:
// pdfcpu's metrics measure it, 600 units a glyph; no descriptor: ascent 0.75, descent -0.25) and
// with a form XObject /X1 drawing form.
func handPDF(content, form string) []byte {
	var b strings.Builder
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	b.WriteString("%PDF-1.7\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> /Contents 4 0 R >>")
	obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content)+1, content))
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>")
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 200 100] /Resources << /Font << /F1 5 0 R >> >> /Length %d >>\nstream\n%s\nendstream", len(form)+1, form))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return []byte(b.String())
}
