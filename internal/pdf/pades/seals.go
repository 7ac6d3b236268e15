package pades

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
	"golang.org/x/image/draw"
)

// The seals page is appended (as an incremental update) before the first signature and holds one
// visible seal per signatory: two columns, rows sized for the order's maxSignatories. Later seals are
// widget appearances on it, so no page content changes after the first signature (validators flag
// content changes after signing).

// sealsMarker marks our seals page in its page dictionary.
const sealsMarker = "EsignSealsPage"

const (
	sealsMargin = 40.0
	sealsHeader = 70.0
	sealsGap    = 12.0
)

// Widget is a visible seal: slot (from 0) of slots on the seals page, showing lines of text and,
// when given, a drawn signature (PNG) on its right.
type Widget struct {
	Slot, Slots int
	Lines       []string
	Image       []byte
}

// AppendSealsPage adds the seals page (same size as the first page) with title at its top.
func AppendSealsPage(ctx context.Context, data []byte, title string) ([]byte, error) {
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	rootRef, ok := catalog["Pages"].(types.IndirectRef)
	if !ok {
		return nil, errors.New("page tree root is not an indirect object")
	}
	root, err := doc.xref.DereferenceDict(rootRef)
	if err != nil || root == nil {
		return nil, errors.New("page tree root unreadable")
	}
	first, _, err := doc.page(true)
	if err != nil {
		return nil, err
	}
	box := mediaBox(first, root)
	inc := doc.increment()
	fontNr, contentNr, pageNr := inc.newObject(), inc.newObject(), inc.newObject()
	content := fmt.Sprintf("BT /F1 16 Tf %.2f %.2f Td %s Tj ET\n0.6 G 0.5 w %.2f %.2f m %.2f %.2f l S\n",
		box[0]+sealsMargin, box[3]-sealsMargin-16, contentString(title),
		box[0]+sealsMargin, box[3]-sealsHeader+10, box[2]-sealsMargin, box[3]-sealsHeader+10)
	inc.set(fontNr, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	inc.set(contentNr, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	inc.set(pageNr, fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [%g %g %g %g] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R /%s true >>",
		rootRef.PDFString(), box[0], box[1], box[2], box[3], fontNr, contentNr, sealsMarker))
	root = root.Clone().(types.Dict)
	kids, err := doc.xref.DereferenceArray(root["Kids"])
	if err != nil {
		return nil, fmt.Errorf("page tree kids: %w", err)
	}
	root["Kids"] = append(kids, *types.NewIndirectRef(pageNr, 0))
	count, _ := root["Count"].(types.Integer)
	root["Count"] = types.Integer(count.Value() + 1)
	inc.set(rootRef.ObjectNumber.Value(), root.PDFString())
	return inc.write()
}

func mediaBox(page, root types.Dict) [4]float64 {
	for _, d := range []types.Dict{page, root} {
		if arr, ok := d["MediaBox"].(types.Array); ok && len(arr) == 4 {
			var box [4]float64
			for i, v := range arr {
				switch n := v.(type) {
				case types.Integer:
					box[i] = float64(n.Value())
				case types.Float:
					box[i] = n.Value()
				}
			}
			return box
		}
	}
	return [4]float64{0, 0, 595, 842} // A4
}

// slotRect is where seal slot of slots goes on a page with box.
func slotRect(box [4]float64, slot, slots int) [4]float64 {
	rows := int(math.Ceil(float64(max(slots, 1)) / 2))
	width := (box[2] - box[0] - 2*sealsMargin - sealsGap) / 2
	height := math.Min(110, (box[3]-box[1]-sealsHeader-sealsMargin-float64(rows-1)*sealsGap)/float64(rows))
	col, row := slot%2, slot/2
	x := box[0] + sealsMargin + float64(col)*(width+sealsGap)
	top := box[3] - sealsHeader - float64(row)*(height+sealsGap)
	return [4]float64{x, top - height, x + width, top}
}

// sealAppearance is the content of a seal's appearance: a frame, the drawn image (as /Im1, fitted
// into the right part keeping its aspect ratio, when imgW > 0) and the lines of text.
func sealAppearance(w, h float64, lines []string, imgW, imgH int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "q 0.2 0.35 0.6 RG 1 w 0.5 0.5 %.2f %.2f re S Q\n", w-1, h-1)
	if imgW > 0 && imgH > 0 {
		boxW, boxH := w*0.4, h-12
		scale := math.Min(boxW/float64(imgW), boxH/float64(imgH))
		dw, dh := float64(imgW)*scale, float64(imgH)*scale
		fmt.Fprintf(&b, "q %.2f 0 0 %.2f %.2f %.2f cm /Im1 Do Q\n", dw, dh, w-6-boxW+(boxW-dw)/2, 6+(boxH-dh)/2)
	}
	size := math.Min(10, (h-8)/float64(max(len(lines), 1))/1.3)
	for i, line := range lines {
		fmt.Fprintf(&b, "BT /F1 %.1f Tf 8 %.2f Td %s Tj ET\n", size, h-6-size*1.3*float64(i+1)+size*0.3, contentString(line))
	}
	return b.String()
}

// contentString writes s as a string in a content stream shown with a WinAnsi font: Latin-1
// characters as octal escapes, others as '?'.
func contentString(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// imageXObjects turns a PNG into an RGB image XObject whose soft mask (object maskNr) is its alpha,
// both Flate-compressed, returning their bodies and the pixel size.
func imageXObjects(png []byte, maskNr int) (rgbBody, alphaBody string, w, h int, err error) {
	img, err := decodePNG(png)
	if err != nil {
		return "", "", 0, 0, err
	}
	img = fit(img, maxSealImageSide)
	bounds := img.Bounds()
	w, h = bounds.Dx(), bounds.Dy()
	rgb := make([]byte, 0, w*h*3)
	alpha := make([]byte, 0, w*h)
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			rgb = append(rgb, c.R, c.G, c.B)
			alpha = append(alpha, c.A)
		}
	}
	zr, err := deflate(rgb)
	if err != nil {
		return "", "", 0, 0, err
	}
	za, err := deflate(alpha)
	if err != nil {
		return "", "", 0, 0, err
	}
	head := "<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8 /ColorSpace /%s /Filter /FlateDecode /Length %d%s >>\nstream\n"
	alphaBody = fmt.Sprintf(head, w, h, "DeviceGray", len(za), "") + string(za) + "\nendstream"
	rgbBody = fmt.Sprintf(head, w, h, "DeviceRGB", len(zr), fmt.Sprintf(" /SMask %d 0 R", maskNr)) + string(zr) + "\nendstream"
	return rgbBody, alphaBody, w, h, nil
}

// maxSealImageSide bounds the drawn image kept in a seal: a seal is a few centimetres wide, so more
// pixels only make every signed copy larger.
const maxSealImageSide = 800

// fit scales img down (never up) so neither side exceeds side.
func fit(img image.Image, side int) image.Image {
	b := img.Bounds()
	if b.Dx() <= side && b.Dy() <= side {
		return img
	}
	scale := math.Min(float64(side)/float64(b.Dx()), float64(side)/float64(b.Dy()))
	dst := image.NewNRGBA(image.Rect(0, 0, max(1, int(float64(b.Dx())*scale)), max(1, int(float64(b.Dy())*scale))))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func decodePNG(data []byte) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("signature image: %w", err)
	}
	return img, nil
}

func deflate(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
