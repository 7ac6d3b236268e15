package certificate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"esign/internal/pdf/pades"
)

// The certificate is laid out as a list of rows (a line of a paragraph, a table row), each of a
// known height, then flowed onto pages. Every text is wrapped to its column with the embedded
// font's widths (pades.Font.Wrap, the seal's wrapping: long hashes and user agents break inside),
// so nothing is ever clipped: a text only makes its row taller, and a row taller than a page is
// set as flowing lines instead.

const (
	pageWidth, pageHeight = 595.276, 841.89 // A4 portrait, in points
	marginX               = 48.0
	marginTop             = 44.0
	marginBottom          = 30.0
	contentWidth          = pageWidth - 2*marginX
	leading               = 1.3 // line height as a multiple of the font size
	columnGap             = 6.0
	cellPadding           = 2.5

	titleSize   = 18.0
	headingSize = 12.0
	subheadSize = 10.0
	bodySize    = 8.5
	tableSize   = 7.5
	smallSize   = 7.0

	ink      = 0.1  // gray level of text
	mutedInk = 0.42 // labels, ids, user agents
)

// timeLayout is ISO 8601 with the offset always written (+00:00, never Z).
const timeLayout = "2006-01-02T15:04:05-07:00"

// run is a paragraph in a cell: one text at one size and ink.
type run struct {
	text string
	size float64
	ink  float64
	bold bool
}

// line is one set line, baseline measured down from its row's top.
type line struct {
	x, baseline float64
	text        string
	size, ink   float64
	bold        bool
}

// row is a strip across the page; rows are never split between pages.
type row struct {
	height       float64
	lines        []line
	spaceBefore  float64 // dropped at the top of a page
	keepWithNext bool    // a heading with what it heads
	ruleAbove    bool
	ruleBelow    bool
	shade        bool  // a table's header
	header       []row // rows repeated at the top of a page this row begins (a table's header)
}

// column is a table column: its left edge and width.
type column struct{ x, w float64 }

type layout struct {
	font *pades.Font
	t    func(string) string
	zone *time.Location
	rows []row
	// runningHead is on every page but the first (which has the title); footer is every page's
	// left footer text (the right one is the page number).
	runningHead, footer []string
	footerHeight        float64
}

func newLayout(t func(string) string, zone *time.Location) (*layout, error) {
	f, err := pades.NewFont()
	if err != nil {
		return nil, err
	}
	return &layout{font: f, t: t, zone: zone}, nil
}

func (l *layout) when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(l.zone).Format(timeLayout)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// set wraps runs into a column of width w at x, returning the lines (baselines from the cell's
// top, after the padding) and the cell's height.
func (l *layout) set(x, w float64, runs []run, padding float64) ([]line, float64) {
	var out []line
	y := padding
	asc, desc := l.font.Ascent(), l.font.Descent()
	for _, r := range runs {
		lh := r.size * leading
		for _, text := range l.font.Wrap(r.text, w, r.size) {
			// The glyphs' box (ascent to descent) centred in the line height.
			base := y + (lh-r.size*(asc-desc))/2 + r.size*asc
			if text != "" {
				out = append(out, line{x: x, baseline: base, text: text, size: r.size, ink: r.ink, bold: r.bold})
			}
			y += lh
		}
	}
	return out, y + padding
}

// paragraph adds runs across the content width, one row per line so it flows over pages.
func (l *layout) paragraph(spaceBefore float64, runs ...run) {
	first := len(l.rows)
	for _, r := range runs {
		lh := r.size * leading
		for _, text := range l.font.Wrap(r.text, contentWidth, r.size) {
			lines, _ := l.set(marginX, contentWidth, []run{{text: text, size: r.size, ink: r.ink, bold: r.bold}}, 0)
			l.rows = append(l.rows, row{height: lh, lines: lines})
		}
	}
	if first < len(l.rows) {
		l.rows[first].spaceBefore = spaceBefore
	}
}

// heading adds a heading kept with the row after it; rule draws a line under it.
func (l *layout) heading(text string, size, spaceBefore float64, rule bool) {
	first := len(l.rows)
	l.paragraph(spaceBefore, run{text: text, size: size, ink: ink, bold: true})
	for i := first; i < len(l.rows); i++ {
		l.rows[i].keepWithNext = true
	}
	if last := len(l.rows) - 1; rule && last >= first {
		l.rows[last].ruleBelow = true
		l.rows[last].height += 3
	}
}

// tableRow sets cells (one per column) as one row, or, when that row would be taller than a page
// leaves room for, as one row per line.
func (l *layout) tableRow(cols []column, cells [][]run) []row {
	var r row
	for i, c := range cells {
		lines, h := l.set(cols[i].x, cols[i].w, c, cellPadding)
		r.lines = append(r.lines, lines...)
		r.height = max(r.height, h)
	}
	if r.height <= maxRowHeight {
		return []row{r}
	}
	var rows []row
	for i, c := range cells {
		for _, ru := range c {
			for _, text := range l.font.Wrap(ru.text, cols[i].w, ru.size) {
				lines, h := l.set(cols[i].x, cols[i].w, []run{{text: text, size: ru.size, ink: ru.ink, bold: ru.bold}}, 0)
				rows = append(rows, row{height: h, lines: lines})
			}
		}
	}
	return rows
}

// maxRowHeight is the tallest row kept whole: a page's body less room for a repeated table
// header and a heading kept with it.
const maxRowHeight = pageHeight - marginTop - marginBottom - 160

// columns splits the content width into columns of the given widths, the last taking the rest.
func columns(widths ...float64) []column {
	cols := make([]column, 0, len(widths)+1)
	x := marginX
	for _, w := range widths {
		cols = append(cols, column{x: x, w: w})
		x += w + columnGap
	}
	return append(cols, column{x: x, w: marginX + contentWidth - x})
}

var (
	keyValueColumns = columns(112)
	documentColumns = columns(118, 34, 66)
	eventColumns    = columns(104, 196)
)

// field adds a label and its value (several lines, one run each) as a table row.
func (l *layout) field(label string, values ...string) {
	var vs []run
	for _, v := range values {
		vs = append(vs, run{text: orDash(v), size: bodySize, ink: ink})
	}
	if len(vs) == 0 {
		vs = []run{{text: "—", size: bodySize, ink: ink}}
	}
	l.rows = append(l.rows, l.tableRow(keyValueColumns, [][]run{{{text: label, size: bodySize, ink: mutedInk}}, vs})...)
}

// header is a table's header row: shaded, kept with the first row, repeated on later pages.
func (l *layout) header(cols []column, titles ...string) row {
	cells := make([][]run, len(titles))
	for i, t := range titles {
		cells[i] = []run{{text: t, size: tableSize, ink: ink, bold: true}}
	}
	// The last title spans the columns it is not given.
	span := append([]column(nil), cols[:len(titles)]...)
	span[len(span)-1].w = marginX + contentWidth - span[len(span)-1].x
	rows := l.tableRow(span, cells)
	h := rows[0]
	if len(rows) > 1 { // a header wider than a page is tall: not possible with these titles
		h = row{height: 0}
		for _, r := range rows {
			for _, ln := range r.lines {
				ln.baseline += h.height
				h.lines = append(h.lines, ln)
			}
			h.height += r.height
		}
	}
	h.shade, h.keepWithNext = true, true
	return h
}

// certificate lays out every section.
func (l *layout) certificate(ctx context.Context, c Certificate) error {
	t := l.t
	l.runningHead = l.font.Wrap(joinNonEmpty(" · ", t("certificate.title"), c.Title), contentWidth, smallSize)
	l.footer = l.font.Wrap(joinNonEmpty(" · ", t("certificate.orderID")+": "+orDash(c.OrderID),
		t("certificate.issued")+": "+l.when(c.IssuedAt)), contentWidth-footerPageWidth-columnGap, smallSize)
	widestPage := l.pageLabel(99999, 99999)
	l.footerHeight = float64(max(len(l.footer), len(l.font.Wrap(widestPage, footerPageWidth, smallSize))))*smallSize*leading + 6

	l.paragraph(0, run{text: t("certificate.title"), size: titleSize, ink: ink, bold: true})
	if strings.TrimSpace(c.Title) != "" {
		l.paragraph(2, run{text: c.Title, size: headingSize, ink: mutedInk})
	}
	l.paragraph(8, run{text: t("certificate.intro"), size: bodySize, ink: mutedInk})

	l.heading(t("certificate.order"), headingSize, 16, true)
	l.field(t("certificate.orderID"), c.OrderID)
	l.field(t("certificate.orderTitle"), c.Title)
	l.field(t("certificate.status"), c.Status)
	l.field(t("certificate.created"), l.when(c.CreatedAt))
	if c.ClosedAt.IsZero() {
		l.field(t("certificate.closed"), t("certificate.notClosed"))
	} else {
		l.field(t("certificate.closed"), l.when(c.ClosedAt))
	}
	l.field(t("certificate.issued"), l.when(c.IssuedAt))
	zone := l.zone.String()
	l.field(t("certificate.timezone"), zone)

	l.heading(fmt.Sprintf("%s (%d)", t("certificate.documents"), len(c.Documents)), headingSize, 16, true)
	l.documents(c.Documents)

	l.heading(fmt.Sprintf("%s (%d)", t("certificate.signatories"), len(c.Signatories)), headingSize, 16, true)
	for i, s := range c.Signatories {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("completion certificate: %w", err)
		}
		name := s.Name
		if strings.TrimSpace(name) == "" {
			name = t("seal.unnamed")
		}
		l.heading(fmt.Sprintf("%d. %s", i+1, name), subheadSize, 12, false)
		l.field(t("certificate.reference"), s.Reference)
		l.field(t("certificate.role"), s.Role)
		l.field(t("certificate.status"), s.Status)
		l.field(t("certificate.evidence"), s.Evidence...)
		l.events(s.Events, 4)
	}

	l.heading(t("certificate.orderEvents"), headingSize, 16, true)
	l.events(c.Events, 0)
	return ctx.Err()
}

// documents is the documents table: title and id, pages, and the two fingerprints.
func (l *layout) documents(docs []Document) {
	t := l.t
	h := l.header(documentColumns, t("certificate.document"), t("certificate.pages"), t("certificate.sha256"))
	l.rows = append(l.rows, h)
	for _, d := range docs {
		first := l.tableRow(documentColumns, [][]run{
			{{text: orDash(d.Title), size: tableSize, ink: ink}},
			{{text: strconv.Itoa(d.Pages), size: tableSize, ink: ink}},
			{{text: t("certificate.original"), size: tableSize, ink: mutedInk}},
			{{text: orDash(d.SHA256Original), size: tableSize, ink: ink}},
		})
		second := l.tableRow(documentColumns, [][]run{
			{{text: orDash(d.ID), size: smallSize, ink: mutedInk}},
			{},
			{{text: t("certificate.signed"), size: tableSize, ink: mutedInk}},
			{{text: orDash(d.SHA256Signed), size: tableSize, ink: ink}},
		})
		first[0].ruleAbove = true
		for i := range first {
			first[i].header = []row{h}
			first[i].keepWithNext = len(first) == 1 && len(second) == 1
		}
		for i := range second {
			second[i].header = []row{h}
		}
		l.rows = append(l.rows, first...)
		l.rows = append(l.rows, second...)
	}
}

// events is an events table (time, text, IP address and user agent), or a line saying there are none.
func (l *layout) events(events []Event, spaceBefore float64) {
	t := l.t
	if len(events) == 0 {
		l.paragraph(spaceBefore, run{text: t("certificate.noEvents"), size: tableSize, ink: mutedInk})
		return
	}
	h := l.header(eventColumns, t("certificate.time"), t("certificate.event"), t("certificate.ipUserAgent"))
	h.spaceBefore = spaceBefore
	l.rows = append(l.rows, h)
	hs := []row{h}
	hs[0].spaceBefore = 0
	for _, e := range events {
		var who []run
		if e.IP != "" {
			who = append(who, run{text: e.IP, size: tableSize, ink: ink})
		}
		if e.UserAgent != "" {
			who = append(who, run{text: e.UserAgent, size: smallSize, ink: mutedInk})
		}
		rows := l.tableRow(eventColumns, [][]run{
			{{text: l.when(e.At), size: tableSize, ink: ink}},
			{{text: orDash(e.Text), size: tableSize, ink: ink}},
			who,
		})
		rows[0].ruleAbove = true
		for i := range rows {
			rows[i].header = hs
		}
		l.rows = append(l.rows, rows...)
	}
}

func joinNonEmpty(sep string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// footerPageWidth is the footer's right column, for "Page i of n".
const footerPageWidth = 110.0

func (l *layout) pageLabel(i, n int) string {
	return strings.NewReplacer("{page}", strconv.Itoa(i), "{pages}", strconv.Itoa(n)).Replace(l.t("certificate.page"))
}

// placed is a row at its place: top is the y (PDF space, up) of its top edge.
type placed struct {
	row *row
	top float64
}

type page struct{ rows []placed }

func (l *layout) runningHeadHeight() float64 {
	return float64(len(l.runningHead))*smallSize*leading + 8
}

// paginate flows the rows onto pages: a row that does not fit below the last one begins a page
// (with its table's header repeated); a heading moves with the rows it is kept with.
func (l *layout) paginate() []page {
	bottom := marginBottom + l.footerHeight
	pages := []page{{}}
	y := pageHeight - marginTop
	for i := 0; i < len(l.rows); i++ {
		r := &l.rows[i]
		cur := &pages[len(pages)-1]
		space := r.spaceBefore
		if len(cur.rows) == 0 {
			space = 0
		}
		need := space + r.height
		for j := i; l.rows[j].keepWithNext && j+1 < len(l.rows) && need < maxRowHeight; j++ {
			need += l.rows[j+1].spaceBefore + l.rows[j+1].height
		}
		if y-need < bottom && len(cur.rows) > 0 {
			pages = append(pages, page{})
			cur = &pages[len(pages)-1]
			y = pageHeight - marginTop - l.runningHeadHeight()
			space = 0
			for k := range r.header {
				cur.rows = append(cur.rows, placed{row: &r.header[k], top: y})
				y -= r.header[k].height
			}
		}
		y -= space
		cur.rows = append(cur.rows, placed{row: r, top: y})
		y -= r.height
	}
	return pages
}
