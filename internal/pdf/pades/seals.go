package pades

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"

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

// Widget is a visible seal showing lines of text and, when given, a drawn signature (PNG) in an
// area of its own: at Placements on the document's pages when there are any, else in slot Slot
// (from 0) of Slots on the seals page.
type Widget struct {
	Slot, Slots int
	Lines       []string
	Image       []byte
	Placements  []Placement
}

// AppendSealsPage adds the seals page (same size as the first page) with title at its top.
func AppendSealsPage(ctx context.Context, data []byte, title string) ([]byte, error) {
	doc, catalog, err := openCatalog(ctx, data)
	if err != nil {
		return nil, err
	}
	rootRef, root, err := doc.pageTreeRoot(catalog)
	if err != nil {
		return nil, err
	}
	first, err := doc.pageAt(0)
	if err != nil {
		return nil, err
	}
	box := first.box
	inc := doc.increment()
	fontNr, contentNr, pageNr := inc.newObject(), inc.newObject(), inc.newObject()
	u, err := newFontUse()
	if err != nil {
		return nil, err
	}
	// 16 pt, smaller when a translation would not fit the page's width.
	size := 16.0
	if w := u.width(title, size); w > box[2]-box[0]-2*sealsMargin {
		size *= (box[2] - box[0] - 2*sealsMargin) / w
	}
	content := fmt.Sprintf("BT /F1 %.2f Tf %.2f %.2f Td %s Tj ET\n0.6 G 0.5 w %.2f %.2f m %.2f %.2f l S\n",
		size, box[0]+sealsMargin, box[3]-sealsMargin-16, u.encode(title),
		box[0]+sealsMargin, box[3]-sealsHeader+10, box[2]-sealsMargin, box[3]-sealsHeader+10)
	if err := u.objects(inc, fontNr); err != nil {
		return nil, err
	}
	inc.set(contentNr, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	inc.set(pageNr, fmt.Sprintf("<< /Type /Page /Parent %s /MediaBox [%g %g %g %g] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R /%s true >>",
		rootRef.PDFString(), box[0], box[1], box[2], box[3], fontNr, contentNr, sealsMarker))
	if err := doc.appendPage(inc, rootRef, root, pageNr); err != nil {
		return nil, err
	}
	return inc.write()
}

// pageTreeRoot is the root of the document's page tree, to which a seals page is appended.
func (d *document) pageTreeRoot(catalog types.Dict) (types.IndirectRef, types.Dict, error) {
	ref, ok := catalog["Pages"].(types.IndirectRef)
	if !ok {
		return types.IndirectRef{}, nil, errors.New("page tree root is not an indirect object")
	}
	root, err := d.xref.DereferenceDict(ref)
	if err != nil || root == nil {
		return types.IndirectRef{}, nil, errors.New("page tree root unreadable")
	}
	return ref, root, nil
}

// appendPage makes page pageNr the last kid of the page tree root (a copy of root, rewritten in inc).
func (d *document) appendPage(inc *increment, ref types.IndirectRef, root types.Dict, pageNr int) error {
	root = root.Clone().(types.Dict)
	kids, err := d.xref.DereferenceArray(root["Kids"])
	if err != nil {
		return fmt.Errorf("page tree kids: %w", err)
	}
	root["Kids"] = append(kids, *types.NewIndirectRef(pageNr, 0))
	count, _ := root["Count"].(types.Integer)
	root["Count"] = types.Integer(count.Value() + 1)
	inc.set(ref.ObjectNumber.Value(), root.PDFString())
	return nil
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
	nrgba, ok := img.(*image.NRGBA) // what the signing page's PNGs decode to: read the pixels directly
	if !ok {
		nrgba = image.NewNRGBA(bounds)
		draw.Draw(nrgba, bounds, img, bounds.Min, draw.Src)
	}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		row := nrgba.Pix[nrgba.PixOffset(bounds.Min.X, y):nrgba.PixOffset(bounds.Max.X, y)]
		for i := 0; i+3 < len(row); i += 4 {
			rgb = append(rgb, row[i], row[i+1], row[i+2])
			alpha = append(alpha, row[i+3])
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
