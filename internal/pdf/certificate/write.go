package certificate

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// Object numbers fixed before the pages are written; page i is object firstPage+2i, its content
// the next, and the font's other objects follow the last page.
const (
	catalogObject = 1
	pagesObject   = 2
	infoObject    = 3
	fontObject    = 4
	firstPage     = 5
)

// write turns the pages into a PDF 1.7 file with a classic cross-reference table.
func (l *layout) write(pages []page, c Certificate, htmlLang string) ([]byte, error) {
	bodies := map[int]string{}
	kids := make([]string, len(pages))
	var z deflater
	for i, p := range pages {
		content, err := z.deflate([]byte(l.content(i, len(pages), p)))
		if err != nil {
			return nil, err
		}
		pageNr, contentNr := firstPage+2*i, firstPage+2*i+1
		kids[i] = fmt.Sprintf("%d 0 R", pageNr)
		bodies[pageNr] = fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.3f %.3f] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
			pagesObject, pageWidth, pageHeight, fontObject, contentNr)
		bodies[contentNr] = fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(content), content)
	}
	// Every text has been encoded: the subset holds every glyph used.
	fontBodies, size, err := l.font.Objects(fontObject, firstPage+2*len(pages))
	if err != nil {
		return nil, err
	}
	for nr, b := range fontBodies {
		bodies[nr] = b
	}
	bodies[catalogObject] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /Lang (%s) /ViewerPreferences << /DisplayDocTitle true >> >>",
		pagesObject, htmlLang)
	bodies[pagesObject] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	date := pdfDate(c.IssuedAt.In(l.zone))
	bodies[infoObject] = fmt.Sprintf("<< /Title %s /Subject %s /Producer (esign) /CreationDate (%s) /ModDate (%s) >>",
		textString(joinNonEmpty(" · ", l.t("certificate.title"), c.Title)), textString(c.OrderID), date, date)

	var buf bytes.Buffer
	buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, size)
	for nr := 1; nr < size; nr++ {
		body, ok := bodies[nr]
		if !ok {
			return nil, fmt.Errorf("object %d was numbered but not written", nr)
		}
		offsets[nr] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", nr, body)
	}
	// The file identifier is a digest of the objects: the same certificate, the same id.
	sum := sha256.Sum256(buf.Bytes())
	id := hex.EncodeToString(sum[:16])
	xrefAt := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f\r\n", size)
	for nr := 1; nr < size; nr++ {
		fmt.Fprintf(&buf, "%010d 00000 n\r\n", offsets[nr])
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n",
		size, catalogObject, infoObject, id, id, xrefAt)
	return buf.Bytes(), nil
}

// content is page i's content stream: the running head (after the first page), the rows, the footer.
func (l *layout) content(i, n int, p page) string {
	var g strings.Builder
	var text textWriter
	top := pageHeight - marginTop
	right := marginX + contentWidth
	if i > 0 {
		for k, s := range l.runningHead {
			text.line(l, marginX, top-smallSize*(float64(k)*leading+l.font.Ascent()), s, smallSize, mutedInk, false)
		}
		rule(&g, top-l.runningHeadHeight()+4, 0.75)
	}
	for _, pr := range p.rows {
		r := pr.row
		if r.shade {
			fmt.Fprintf(&g, "0.92 g %.2f %.2f %.2f %.2f re f\n", marginX, pr.top-r.height, contentWidth, r.height)
		}
		if r.ruleAbove {
			rule(&g, pr.top, 0.88)
		}
		if r.ruleBelow {
			rule(&g, pr.top-r.height+1, 0.5)
		}
		for _, ln := range r.lines {
			text.line(l, ln.x, pr.top-ln.baseline, ln.text, ln.size, ln.ink, ln.bold)
		}
	}
	// The footer: a rule, the order and issue time on the left, the page number on the right.
	footTop := marginBottom + l.footerHeight
	rule(&g, footTop-2, 0.75)
	first := footTop - 6 - smallSize*l.font.Ascent()
	for k, s := range l.footer {
		text.line(l, marginX, first-float64(k)*smallSize*leading, s, smallSize, mutedInk, false)
	}
	for k, s := range l.font.Wrap(l.pageLabel(i+1, n), footerPageWidth, smallSize) {
		text.line(l, right-l.font.Width(s, smallSize), first-float64(k)*smallSize*leading, s, smallSize, mutedInk, false)
	}
	return g.String() + text.String()
}

// rule is a thin horizontal line across the content width at y, in gray level gray.
func rule(g *strings.Builder, y, gray float64) {
	fmt.Fprintf(g, "%.2f G 0.5 w %.2f %.2f m %.2f %.2f l S\n", gray, marginX, y, marginX+contentWidth, y)
}

// textWriter collects one text object, setting the font size, ink and rendering mode only when
// they change. Bold is Go Regular filled and stroked thinly: the one embedded font, a heavier look.
type textWriter struct {
	b     strings.Builder
	size  float64
	ink   float64
	bold  bool
	begun bool
}

func (w *textWriter) line(l *layout, x, y float64, s string, size, ink float64, bold bool) {
	if !w.begun {
		w.b.WriteString("BT\n")
		w.begun, w.size, w.ink = true, -1, -1
	}
	if size != w.size {
		fmt.Fprintf(&w.b, "/F1 %.2f Tf\n", size)
		w.size = size
	}
	if ink != w.ink {
		fmt.Fprintf(&w.b, "%.3f g %.3f G\n", ink, ink)
		w.ink = ink
	}
	if bold != w.bold {
		if bold {
			w.b.WriteString("2 Tr 0.3 w\n")
		} else {
			w.b.WriteString("0 Tr\n")
		}
		w.bold = bold
	}
	w.b.WriteString("1 0 0 1 ")
	w.b.WriteString(strconv.FormatFloat(x, 'f', 2, 64))
	w.b.WriteByte(' ')
	w.b.WriteString(strconv.FormatFloat(y, 'f', 2, 64))
	w.b.WriteString(" Tm ")
	w.b.WriteString(l.font.Encode(s))
	w.b.WriteString(" Tj\n")
}

func (w *textWriter) String() string {
	if !w.begun {
		return ""
	}
	return w.b.String() + "ET\n"
}

// textString is s as a PDF text string: UTF-16BE with its byte order mark, in hex.
func textString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// pdfDate is t as a PDF date with its offset: D:YYYYMMDDHHmmSS+HH'mm'.
func pdfDate(t time.Time) string {
	s := t.Format("20060102150405-0700")
	return "D:" + s[:14] + s[14:17] + "'" + s[17:] + "'"
}

// deflater compresses content streams with one zlib writer: a compressor's state is about a
// megabyte, too much to make again for each of hundreds of pages.
type deflater struct {
	buf bytes.Buffer
	zw  *zlib.Writer
}

func (d *deflater) deflate(b []byte) ([]byte, error) {
	d.buf.Reset()
	if d.zw == nil {
		d.zw = zlib.NewWriter(&d.buf)
	} else {
		d.zw.Reset(&d.buf)
	}
	if _, err := d.zw.Write(b); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	if err := d.zw.Close(); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	return bytes.Clone(d.buf.Bytes()), nil
}
