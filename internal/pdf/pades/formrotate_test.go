package pades_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"esign/internal/pdf/pades"
	"esign/internal/pdf/pdftest"
)

// TestFillFormOnRotatedPages: a value filled into a text, text area or dropdown widget on a rotated
// page reads upright as the page is shown: the ink of a long one-line value is wider than tall, the
// filled region equals the same fill on an upright page of the shown size (and not that turned), and
// poppler extracts the value as one word from the flattened page. A widget's own /MK /R turns its
// text as it says.
func TestFillFormOnRotatedPages(t *testing.T) {
	ctx := context.Background()
	a4 := [4]float64{0, 0, 595, 842}
	const long = "Kristiansand-Ødegårdsveien-42"
	// placed is a rect sw × sh as the page is shown, at x, y on a page rotated by rotate (its size in
	// default user space).
	placed := func(rotate int, x, y, sw, sh float64) pades.Placement {
		if rotate%180 == 90 {
			sw, sh = sh, sw
		}
		return pades.Placement{Page: 1, X: x, Y: y, Width: sw, Height: sh}
	}
	// created is a document with one field AddFields made on a page rotated by rotate.
	created := func(rotate int, kind pades.NewFieldKind, sw, sh float64) []byte {
		f := pades.NewField{Name: "f", Kind: kind, Rects: []pades.Placement{placed(rotate, 100, 150, sw, sh)}}
		if kind == pades.NewDropdown {
			f.Options = []string{"Oslo", long}
		}
		doc, err := pades.AddFields(ctx, hand([][4]float64{a4}, []int{rotate}, false), []pades.NewField{f})
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	cases := []struct {
		name  string
		doc   []byte // with the field "f" to fill
		ref   []byte // the same field on an upright page, at its size as shown
		value string
		// turned is how far the filled text is turned counter-clockwise as the page is shown (0:
		// upright); oneLine is a value on one line, whose ink is wider than tall when upright.
		turned  int
		oneLine bool
		// tolerance is the most the blurred mean grey difference to the reference may be: text
		// turned on the raster (turned ≠ 0) is hinted differently from the upright reference.
		tolerance float64
	}{
		{"text, page rotated 90", created(90, pades.NewText, 300, 24), created(0, pades.NewText, 300, 24), long, 0, true, 1},
		{"text, page rotated 180", created(180, pades.NewText, 300, 24), created(0, pades.NewText, 300, 24), long, 0, true, 1},
		{"text, page rotated 270", created(270, pades.NewText, 300, 24), created(0, pades.NewText, 300, 24), long, 0, true, 1},
		{"dropdown, page rotated 90", created(90, pades.NewDropdown, 300, 24), created(0, pades.NewDropdown, 300, 24), long, 0, true, 1},
		{"text area, page rotated 270", created(270, pades.NewTextArea, 160, 90), created(0, pades.NewTextArea, 160, 90),
			"Lines wrapped across the text area as the page is shown, Ærlig og åpen.", 0, false, 1},
		// A form of its own: no /MK, no /P; the page whose /Annots lists the widget is rotated.
		{"foreign widget, page rotated 90", singleFieldForm(90, [4]float64{100, 150, 124, 450}, ""),
			singleFieldForm(0, [4]float64{100, 150, 400, 174}, ""), long, 0, true, 1},
		// /MK /R 90 on an upright page: the widget turns its text a quarter counter-clockwise.
		{"widget rotated by /MK /R 90", singleFieldForm(0, [4]float64{100, 150, 124, 450}, "/MK << /R 90 >>"),
			singleFieldForm(0, [4]float64{100, 150, 400, 174}, ""), long, 90, true, 14},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fill := func(doc []byte) []byte {
				t.Helper()
				out, err := pades.FillForm(ctx, doc, []pades.FormValue{{Field: "f", Value: c.value, Owned: true}})
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			filled := fill(c.doc)
			pdftest.QPDFCheck(t, filled)
			got := sealPixels(t, c.doc, filled)
			want := turn(sealPixels(t, c.ref, fill(c.ref)), c.turned)
			size := got.Bounds().Size()
			if c.oneLine {
				wide := size.X > 3*size.Y
				if wide != (c.turned%180 == 0) {
					t.Errorf("the value's ink is %d × %d pixels as the page is shown; want it %s", size.X, size.Y,
						map[bool]string{true: "wider than tall", false: "taller than wide"}[c.turned%180 == 0])
				}
			}
			if size != want.Bounds().Size() {
				t.Fatalf("the value shows as %v, the reference as %v", size, want.Bounds().Size())
			}
			// Blurred, since hinting puts a glyph's stems differently when text is turned on the raster.
			same, upsideDown := difference(blur(got), blur(want), false), difference(blur(got), blur(want), true)
			if same > c.tolerance || upsideDown < 2*same+8 {
				t.Errorf("mean difference to the reference %.1f, to it turned 180° %.1f: the value is not drawn as the reference", same, upsideDown)
			}
			if c.turned != 0 {
				return
			}
			words := strings.Fields(layoutText(t, filled))
			for _, w := range strings.Fields(c.value) {
				if !containsWord(words, w) {
					t.Errorf("pdftotext -layout of the flattened page has no word %q: %q", w, words)
				}
			}
		})
	}
}

// singleFieldForm is a one-page A4 document with /Rotate rotate whose form has one text field "f",
// merged with its widget at rect (default user space) with extra widget keys; the page lists the
// widget in its /Annots, the widget names no page (/P).
func singleFieldForm(rotate int, rect [4]float64, widgetKeys string) []byte {
	objs := []string{
		1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [4 0 R] /DA (/Helv 12 Tf 0 g) /DR << /Font << /Helv 5 0 R >> >> >> >>",
		2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		3: fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate %d /Annots [4 0 R] /Contents 6 0 R >>", rotate),
		4: fmt.Sprintf("<< /FT /Tx /T (f) /Type /Annot /Subtype /Widget /F 4 /Rect [%g %g %g %g] /DA (/Helv 12 Tf 0 g) %s >>",
			rect[0], rect[1], rect[2], rect[3], widgetKeys),
		5: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		6: "<< /Length 0 >>\nstream\n\nendstream",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offsets := make([]int, len(objs))
	for i := 1; i < len(objs); i++ {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i, objs[i])
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs))
	for i := 1; i < len(objs); i++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offsets[i])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs), xref)
	return b.Bytes()
}

// turn is img turned counter-clockwise by degrees (0, 90, 180 or 270).
func turn(img image.Image, degrees int) image.Image {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	var out *image.Gray
	if degrees%180 == 90 {
		out = image.NewGray(image.Rect(0, 0, h, w))
	} else {
		out = image.NewGray(image.Rect(0, 0, w, h))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var ox, oy int
			switch degrees % 360 {
			case 90: // the right edge goes to the top
				ox, oy = y, w-1-x
			case 180:
				ox, oy = w-1-x, h-1-y
			case 270:
				ox, oy = h-1-y, x
			default:
				ox, oy = x, y
			}
			out.Pix[oy*out.Stride+ox] = uint8(gray(img, r.Min.X+x, r.Min.Y+y))
		}
	}
	return out
}

// blur is img (from 0,0) with each pixel the mean of its 3 × 3 neighbourhood.
func blur(img image.Image) image.Image {
	r := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			sum, n := 0.0, 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if p := image.Pt(r.Min.X+x+dx, r.Min.Y+y+dy); p.In(r) {
						sum += gray(img, p.X, p.Y)
						n++
					}
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / float64(n))
		}
	}
	return out
}

// layoutText is what pdftotext -layout prints of page 1 once qpdf has flattened the form's
// appearances into it.
func layoutText(t *testing.T, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	in, flat := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "flat.pdf")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--flatten-annotations=all", in, flat).CombinedOutput(); err != nil && !strings.Contains(string(out), "warning") {
		t.Fatalf("qpdf --flatten-annotations: %v\n%s", err, out)
	}
	out, err := exec.Command("pdftotext", "-layout", "-f", "1", "-l", "1", flat, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func containsWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}
