package pades_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// render is page (from 1) of data at 72 dpi, so one pixel is one point.
func render(t *testing.T, data []byte, page int) image.Image {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Fatal("pdftoppm is not installed: apt-get install poppler-utils")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p := fmt.Sprint(page)
	if out, err := exec.Command(bin, "-f", p, "-l", p, "-r", "72", "-png", "-singlefile", in, filepath.Join(dir, "out")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "out.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func tool(t *testing.T, name string, data []byte, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: apt-get install poppler-utils", name)
	}
	path := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, path)
	if name == "pdftotext" {
		args = append(args, "-")
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	return string(out)
}

func gray(img image.Image, x, y int) float64 {
	r, g, b, _ := img.At(x, y).RGBA()
	return (float64(r) + float64(g) + float64(b)) / 3 / 257
}

// changed is the bounding box of the pixels that differ between a and b (same size), and how many.
func changed(a, b image.Image) (image.Rectangle, int) {
	var box image.Rectangle
	n := 0
	bounds := a.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if math.Abs(gray(a, x, y)-gray(b, x, y)) > 24 {
				n++
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box, n
}

// hand builds a PDF whose pages have the given media boxes and /Rotate values (inherited from the
// page tree root when inherit is set), each with a line of text near its lower left corner.
func hand(boxes [][4]float64, rotates []int, inherit bool) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	kids := ""
	for i := range boxes {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	root := fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d", kids, len(boxes))
	if inherit {
		root += fmt.Sprintf(" /Rotate %d /MediaBox [%g %g %g %g]", rotates[0], boxes[0][0], boxes[0][1], boxes[0][2], boxes[0][3])
	}
	obj(root + " >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i, box := range boxes {
		page := "<< /Type /Page /Parent 2 0 R"
		if !inherit {
			page += fmt.Sprintf(" /MediaBox [%g %g %g %g] /Rotate %d", box[0], box[1], box[2], box[3], rotates[i])
		}
		obj(page + fmt.Sprintf(" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i))
		content := fmt.Sprintf("BT /F1 12 Tf %g %g Td (Page %d) Tj ET", box[0]+20, box[1]+20, i+1)
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

func sealLines(id string) []string {
	return []string{"Underskrevet af Åse Ødegård Æbelø", "2026-06-01 12:00:00 CEST", "Håndtegnet underskrift", "Dokument-ID " + id}
}

const longID = "b7c1f0a2-93d4-4e6f-8a1b-2c3d4e5f6a7b-0123456789abcdef"

// A placed seal: the signature's widget on the document's own page. Outside its rectangle the page
// renders as before; inside it is drawn; the page count and the content streams do not change; and
// every signature validates after one, two and three seals, placed and on the seals page, mixed.
func TestPlacedSeals(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // pdfcpu's configuration dir and trust store live here
	f := newFixture(t)
	ctx := context.Background()
	doc := pdftest.Make(t, 2, 0)
	withPage, err := pades.AppendSealsPage(ctx, doc, "Underskrifter")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		widget *pades.Widget
	}{
		{"seals page", &pades.Widget{Slot: 0, Slots: 3, Lines: sealLines(longID), Image: scribble(t)}},
		{"placed on page 1", &pades.Widget{Lines: sealLines(longID), Image: scribble(t),
			Placements: []pades.Placement{{Page: 1, X: 300, Y: 100, Width: 220, Height: 90}}}},
		{"placed on pages 1 and 2", &pades.Widget{Lines: sealLines("DOC-2"),
			Placements: []pades.Placement{{Page: 1, X: 60, Y: 400, Width: 120, Height: 160}, {Page: 2, X: 60, Y: 100, Width: 200, Height: 60}}}},
	}
	out := withPage
	before := render(t, withPage, 1)
	for i, step := range steps {
		prev := out
		out, err = pades.Sign(ctx, out, f.key, f.tsa, pades.Signature{Name: step.name, Time: time.Now(), Widget: step.widget})
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if !bytes.HasPrefix(out, prev) {
			t.Fatalf("%s rewrote earlier bytes", step.name)
		}
		pdftest.QPDFCheck(t, out)
		if report := pdfsig(t, f, out); strings.Count(report, "Signature is Valid.") != i+1 || strings.Contains(report, "Signature is Invalid") {
			t.Fatalf("pdfsig after %s:\n%s", step.name, report)
		}
	}
	if n, err := pdftest.QPDF(t, out, "--show-npages"); err != nil || strings.TrimSpace(n) != "3" {
		t.Fatalf("pages: %q %v", n, err)
	}
	// Page 1 after the second seal: the rectangle [300 100 520 190] (pixels y from the top of an
	// 842-point page) is drawn, the rest unchanged.
	after := render(t, out, 1)
	box, n := changed(before, after)
	second := image.Rect(300, 842-190, 520, 842-100)
	third := image.Rect(60, 842-560, 180, 842-400)
	if n == 0 || !box.In(second.Union(third).Inset(-1)) {
		t.Errorf("page 1 changed in %v (%d pixels), want only inside %v and %v", box, n, second, third)
	}
	for _, r := range []image.Rectangle{second, third} {
		if _, n := changed(crop(before, r), crop(after, r)); n < r.Dx()*r.Dy()/50 {
			t.Errorf("the seal at %v drew only %d pixels", r, n)
		}
	}
	text := strings.Join(strings.Fields(tool(t, "pdftotext", out, "-enc", "UTF-8")), "")
	for _, want := range append(sealLines(longID), "Underskrifter", "Dokument-IDDOC-2") {
		if !strings.Contains(text, strings.Join(strings.Fields(want), "")) {
			t.Errorf("pdftotext lacks %q", want)
		}
	}
	fonts := tool(t, "pdffonts", out)
	if got := len(regexp.MustCompile(`(?m)^[A-Z]{6}\+GoRegular\s+CID TrueType\s+Identity-H\s+yes yes yes`).FindAllString(fonts, -1)); got != 4 {
		t.Errorf("pdffonts: %d embedded subsets of Go Regular with ToUnicode, want 4 (title and three seals):\n%s", got, fonts)
	}
	// pdfcpu, which also judges what each later increment changed, calls all three valid.
	conf := model.NewDefaultConfiguration()
	conf.AllowedRevocationHosts = []string{"127.0.0.1"} // the test CA's responders
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := api.ImportCertificates([]string{caFile}); err != nil {
		t.Fatal(err)
	}
	res, err := api.ValidateSignaturesRaw(bytes.NewReader(out), true, conf)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("pdfcpu found %d signatures", len(res))
	}
	for _, r := range res {
		if r.Status != model.SignatureStatusValid {
			t.Errorf("pdfcpu: %s: %v (%v) %v", r.Details.FieldName, r.Status, r.Reason, r.Problems)
		}
	}
	if os.Getenv("ESIGN_KEEP_SEALS_PDF") != "" {
		os.WriteFile(os.Getenv("ESIGN_KEEP_SEALS_PDF"), out, 0o600)
	}
}

func crop(img image.Image, r image.Rectangle) image.Image {
	return img.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(r)
}

// On a rotated page the seal reads upright as the page is shown, and on a page whose media box does
// not start at 0,0 it lands at its place measured from the box's corner: the rendered seal equals
// the same seal on an upright page of the shown size, pixel for pixel within antialiasing.
func TestPlacedSealOnRotatedPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lines := sealLines("ROT-1")
	cases := []struct {
		name    string
		box     [4]float64
		rotate  int
		inherit bool
	}{
		{"rotate 90", [4]float64{0, 0, 595, 842}, 90, false},
		{"rotate 180 inherited", [4]float64{0, 0, 595, 842}, 180, true},
		{"rotate 270", [4]float64{0, 0, 595, 842}, 270, false},
		{"rotate -90 offset box", [4]float64{100, 200, 695, 1042}, -90, false},
		{"offset box", [4]float64{-50, 300, 545, 1142}, 0, false},
	}
	const x, y, w, h = 100.0, 150.0, 90.0, 200.0 // unrotated: tall, so a 90° page shows it wide
	f.nssDB(t)                                   // in the parent test's directory, which outlives the subtests
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := hand([][4]float64{c.box}, []int{c.rotate}, c.inherit)
			signed, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: c.name, Time: time.Now(),
				Widget: &pades.Widget{Lines: lines, Image: scribble(t), Placements: []pades.Placement{{Page: 1, X: x, Y: y, Width: w, Height: h}}}})
			if err != nil {
				t.Fatal(err)
			}
			pdftest.QPDFCheck(t, signed)
			if report := pdfsig(t, f, signed); !strings.Contains(report, "Signature is Valid.") {
				t.Fatalf("pdfsig:\n%s", report)
			}
			got := sealPixels(t, doc, signed)
			// The reference: an upright page of the size shown, the seal at its size as shown.
			sw, sh := w, h
			pw, ph := c.box[2]-c.box[0], c.box[3]-c.box[1]
			if (c.rotate+360)%180 == 90 {
				sw, sh, pw, ph = h, w, ph, pw
			}
			ref := hand([][4]float64{{0, 0, pw, ph}}, []int{0}, false)
			refSigned, err := pades.Sign(ctx, ref, f.key, f.tsa, pades.Signature{Name: "reference", Time: time.Now(),
				Widget: &pades.Widget{Lines: lines, Image: scribble(t), Placements: []pades.Placement{{Page: 1, X: 300, Y: 300, Width: sw, Height: sh}}}})
			if err != nil {
				t.Fatal(err)
			}
			want := sealPixels(t, ref, refSigned)
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Fatalf("the seal shows as %v, want %v", got.Bounds().Size(), want.Bounds().Size())
			}
			upright, turned := difference(got, want, false), difference(got, want, true)
			if upright > 3 || turned < 4*upright+10 {
				t.Errorf("mean difference to the upright reference %.1f, to it turned 180° %.1f: the seal does not read upright", upright, turned)
			}
			// Where the seal is: measured from the media box's corner, as the page is stored.
			if c.rotate == 0 {
				top := int(c.box[3] - c.box[1] - y - h)
				if r := sealBox(t, doc, signed); r.Min.X > int(x)+1 || r.Min.X < int(x)-1 || r.Min.Y > top+1 || r.Min.Y < top-1 {
					t.Errorf("the seal is at %v, want its top left at %g,%d", r, x, top)
				}
			}
		})
	}
}

func sealBox(t *testing.T, before, after []byte) image.Rectangle {
	t.Helper()
	box, n := changed(render(t, before, 1), render(t, after, 1))
	if n == 0 {
		t.Fatal("the seal drew nothing")
	}
	return box
}

// sealPixels is the part of the rendered page that the seal changed, moved to 0,0.
func sealPixels(t *testing.T, before, after []byte) image.Image {
	t.Helper()
	img := render(t, after, 1)
	box := sealBox(t, before, after)
	out := image.NewGray(image.Rect(0, 0, box.Dx(), box.Dy()))
	for y := 0; y < box.Dy(); y++ {
		for x := 0; x < box.Dx(); x++ {
			out.Pix[y*out.Stride+x] = uint8(gray(img, box.Min.X+x, box.Min.Y+y))
		}
	}
	return out
}

// difference is the mean absolute grey difference of two same-size images (b turned 180° when
// turned is set).
func difference(a, b image.Image, turned bool) float64 {
	r := a.Bounds()
	sum := 0.0
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			bx, by := x, y
			if turned {
				bx, by = r.Dx()-1-x, r.Dy()-1-y
			}
			sum += math.Abs(gray(a, x, y) - gray(b, bx, by))
		}
	}
	return sum / float64(r.Dx()*r.Dy())
}

func TestPlacementRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := pdftest.Make(t, 2, 0)
	cases := []struct {
		name  string
		pl    pades.Placement
		field string
	}{
		{"no such page", pades.Placement{Page: 3, X: 10, Y: 10, Width: 100, Height: 50}, "placements[0].page"},
		{"page zero", pades.Placement{Page: 0, X: 10, Y: 10, Width: 100, Height: 50}, "placements[0].page"},
		{"outside the page", pades.Placement{Page: 1, X: 500, Y: 10, Width: 100, Height: 50}, "placements[0]"},
		{"too small", pades.Placement{Page: 1, X: 10, Y: 10, Width: 4, Height: 50}, "placements[0]"},
		{"not a number", pades.Placement{Page: 1, X: math.NaN(), Y: 10, Width: 100, Height: 50}, "placements[0].x"},
	}
	for _, c := range cases {
		_, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Time: time.Now(), Widget: &pades.Widget{Lines: []string{"x"}, Placements: []pades.Placement{c.pl}}})
		if err == nil || !strings.HasPrefix(err.Error(), c.field+": ") {
			t.Errorf("%s: %v, want an error about %s", c.name, err, c.field)
		}
	}
}

// The file says what it holds: PDF 1.7 with the ETSI extension, level 2 from the first CAdES
// signature, level 5 once it has a DSS or a document timestamp.
func TestCatalogDeclaresESIC(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := hand([][4]float64{{0, 0, 595, 842}}, []int{0}, false) // %PDF-1.4
	esic := func(data []byte) string {
		t.Helper()
		m, err := pdf.Read(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		cat, err := m.XRefTable.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		ext, _ := m.XRefTable.DereferenceDict(cat["Extensions"])
		e, _ := m.XRefTable.DereferenceDict(ext["ESIC"])
		level := 0
		if l := e.IntEntry("ExtensionLevel"); l != nil {
			level = *l
		}
		v := ""
		if n, ok := cat["Version"].(types.Name); ok {
			v = string(n)
		}
		base := ""
		if n := e.NameEntry("BaseVersion"); n != nil {
			base = *n
		}
		return fmt.Sprintf("%s ESIC %s level %d", v, base, level)
	}
	if got := esic(doc); got != " ESIC  level 0" {
		t.Fatalf("before: %q", got)
	}
	one, err := pades.Sign(ctx, doc, f.key, f.tsa, pades.Signature{Name: "One", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if got := esic(one); got != "1.7 ESIC 1.7 level 2" {
		t.Errorf("after the first signature: %q", got)
	}
	dss, err := pades.AddDSS(ctx, one, pades.ValidationData{Certs: [][]byte{f.key.Chain[0].Raw}})
	if err != nil {
		t.Fatal(err)
	}
	if got := esic(dss); got != "1.7 ESIC 1.7 level 5" {
		t.Errorf("after the DSS: %q", got)
	}
	stamped, err := pades.DocumentTimestamp(ctx, one, f.tsa)
	if err != nil {
		t.Fatal(err)
	}
	if got := esic(stamped); got != "1.7 ESIC 1.7 level 5" {
		t.Errorf("after a document timestamp: %q", got)
	}
	pdftest.QPDFCheck(t, stamped)
	if report := pdfsig(t, f, stamped); strings.Count(report, "Signature is Valid.") != 1 {
		t.Fatalf("pdfsig:\n%s", report)
	}
}
