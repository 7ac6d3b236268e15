package pades

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Seal texts are set in Go Regular (BSD licence, part of golang.org/x/image): it covers WGL4, so
// every Nordic letter (æøå ÆØÅ äöü ÄÖÜ) and the rest of Latin Extended-A render the same in every
// viewer. The standard 14 fonts are not embedded, and a viewer's substitute may lack those glyphs.
//
// Each increment embeds its own subset (Type0 / CIDFontType2, Identity-H, glyph ids as character
// codes): an increment may not change objects that earlier signatures' appearances use, and a subset
// of a few dozen glyphs is a few kilobytes where the whole font is 145 KB.

// sealFont is the parsed Go Regular, shared read-only; sfnt.Buffer is per use.
type sealFont struct {
	f          *sfnt.Font
	raw        []byte
	unitsPerEm int
	// ascent, descent (negative), capHeight and bbox (x0 y0 x1 y1) in font units, y up.
	ascent, descent, capHeight int
	bbox                       [4]int
}

var (
	goRegularOnce sync.Once
	goRegular     *sealFont
	goRegularErr  error
)

func loadSealFont() (*sealFont, error) {
	goRegularOnce.Do(func() {
		f, err := sfnt.Parse(goregular.TTF)
		if err != nil {
			goRegularErr = fmt.Errorf("seal font: %w", err)
			return
		}
		var buf sfnt.Buffer
		upm := int(f.UnitsPerEm())
		ppem := fixed.I(upm) // at ppem = units per em, sfnt answers in font units (26.6)
		m, err := f.Metrics(&buf, ppem, font.HintingNone)
		if err != nil {
			goRegularErr = fmt.Errorf("seal font metrics: %w", err)
			return
		}
		b, err := f.Bounds(&buf, ppem, font.HintingNone)
		if err != nil {
			goRegularErr = fmt.Errorf("seal font bounds: %w", err)
			return
		}
		// sfnt's y axis points down; PDF's points up.
		goRegular = &sealFont{f: f, raw: goregular.TTF, unitsPerEm: upm,
			ascent: m.Ascent.Round(), descent: -m.Descent.Round(), capHeight: m.CapHeight.Round(),
			bbox: [4]int{b.Min.X.Floor(), -b.Max.Y.Ceil(), b.Max.X.Ceil(), -b.Min.Y.Floor()}}
	})
	return goRegular, goRegularErr
}

// fontUse is one increment's use of the seal font: the glyphs its texts need, for measuring, for
// encoding the content streams and, at the end, for the subset.
type fontUse struct {
	font   *sealFont
	buf    sfnt.Buffer
	glyphs map[sfnt.GlyphIndex]glyphInfo
	byRune map[rune]sfnt.GlyphIndex
}

type glyphInfo struct {
	width int // in 1/1000 em, the unit of PDF glyph space and /W
	runes []rune
}

func newFontUse() (*fontUse, error) {
	f, err := loadSealFont()
	if err != nil {
		return nil, err
	}
	return &fontUse{font: f, glyphs: map[sfnt.GlyphIndex]glyphInfo{}, byRune: map[rune]sfnt.GlyphIndex{}}, nil
}

// glyph answers r's glyph (0, .notdef, for a character the font lacks: it shows as a box, but
// the text stays extractable through /ToUnicode) and its width in 1/1000 em.
func (u *fontUse) glyph(r rune) (sfnt.GlyphIndex, int) {
	if gi, ok := u.byRune[r]; ok {
		return gi, u.glyphs[gi].width
	}
	gi, err := u.font.f.GlyphIndex(&u.buf, r)
	if err != nil {
		gi = 0
	}
	adv, err := u.font.f.GlyphAdvance(&u.buf, gi, fixed.I(u.font.unitsPerEm), font.HintingNone)
	if err != nil {
		adv = 0
	}
	w := int(int64(adv) * 1000 / int64(fixed.I(u.font.unitsPerEm)))
	info := u.glyphs[gi]
	info.width = w
	if !slices.Contains(info.runes, r) && gi != 0 {
		info.runes = append(info.runes, r)
	}
	u.glyphs[gi] = info
	u.byRune[r] = gi
	return gi, w
}

// width is s's advance at size points: the sum of the /W widths, which is what a viewer lays out
// (no kerning: Identity-H text without TJ adjustments is set at the glyphs' advances).
func (u *fontUse) width(s string, size float64) float64 {
	total := 0
	for _, r := range s {
		_, w := u.glyph(r)
		total += w
	}
	return float64(total) * size / 1000
}

// encode is s as a hex string of two-byte glyph ids, for Tj with Identity-H.
func (u *fontUse) encode(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		gi, _ := u.glyph(r)
		fmt.Fprintf(&b, "%04X", uint16(gi))
	}
	b.WriteByte('>')
	return b.String()
}

// objects adds the font's objects to inc, the Type0 font dictionary as object type0 (numbered
// before the texts were laid out, so the appearances could name it): it, the CIDFont with its
// widths, the descriptor, the subset font file and /ToUnicode.
func (u *fontUse) objects(inc *increment, type0 int) error {
	gids := make([]sfnt.GlyphIndex, 0, len(u.glyphs))
	for gi := range u.glyphs {
		gids = append(gids, gi)
	}
	slices.Sort(gids)
	subset, err := subsetTrueType(u.font.raw, gids)
	if err != nil {
		return fmt.Errorf("seal font subset: %w", err)
	}
	packed, err := deflate(subset)
	if err != nil {
		return err
	}
	name := subsetTag(gids) + "+GoRegular"
	cid, desc, file, toUni := inc.newObject(), inc.newObject(), inc.newObject(), inc.newObject()
	inc.set(file, fmt.Sprintf("<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n%s\nendstream", len(packed), len(subset), packed))
	f := u.font
	scale := func(v int) int { return v * 1000 / f.unitsPerEm }
	inc.set(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
		name, scale(f.bbox[0]), scale(f.bbox[1]), scale(f.bbox[2]), scale(f.bbox[3]), scale(f.ascent), scale(f.descent), scale(f.capHeight), file))
	var w strings.Builder
	for _, gi := range gids {
		fmt.Fprintf(&w, "%d [%d] ", gi, u.glyphs[gi].width)
	}
	inc.set(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap /Identity >>",
		name, desc, strings.TrimSpace(w.String())))
	cmap := toUnicodeCMap(gids, u.glyphs)
	inc.set(toUni, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap))
	inc.set(type0, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", name, cid, toUni))
	return nil
}

// subsetTag is the six capital letters PDF puts before a subset font's name (ISO 32000-1, 9.6.4);
// derived from the glyph set, so the same texts give the same file.
func subsetTag(gids []sfnt.GlyphIndex) string {
	h := sha256.New()
	for _, gi := range gids {
		h.Write([]byte{byte(gi >> 8), byte(gi)})
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

// toUnicodeCMap maps each glyph id to the text it stands for, so copying and pdftotext give the
// seal's words back.
func toUnicodeCMap(gids []sfnt.GlyphIndex, glyphs map[sfnt.GlyphIndex]glyphInfo) string {
	var entries []string
	for _, gi := range gids {
		runes := glyphs[gi].runes
		if len(runes) == 0 {
			continue
		}
		var hex strings.Builder
		for _, u := range utf16.Encode(runes[:1]) {
			fmt.Fprintf(&hex, "%04X", u)
		}
		entries = append(entries, fmt.Sprintf("<%04X> <%s>", uint16(gi), hex.String()))
	}
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n")
	b.WriteString("/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n")
	b.WriteString("1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for len(entries) > 0 {
		n := min(100, len(entries)) // a bfchar block holds at most 100 entries
		fmt.Fprintf(&b, "%d beginbfchar\n%s\nendbfchar\n", n, strings.Join(entries[:n], "\n"))
		entries = entries[n:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.String()
}

// The tables a TrueType font program embedded in a PDF needs (ISO 32000-1, 9.9: head, hhea, loca,
// maxp, cvt, prep, glyf, hmtx, fpgm), plus cmap, OS/2, name and a glyph-name-less post for
// viewers that sanitise fonts. Layout tables (GPOS, GSUB, kern) are dropped: PDF text is
// positioned by the content stream.
var keptTables = []string{"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post", "prep"}

// subsetTrueType keeps every glyph id but empties the outlines of glyphs not in gids (nor a
// component of one), so glyph ids, metrics and the CIDToGIDMap stay the identity.
func subsetTrueType(ttf []byte, gids []sfnt.GlyphIndex) ([]byte, error) {
	tables, err := ttfTables(ttf)
	if err != nil {
		return nil, err
	}
	head, loca, glyf := tables["head"], tables["loca"], tables["glyf"]
	if len(head) < 54 || loca == nil || glyf == nil {
		return nil, errors.New("font lacks head, loca or glyf")
	}
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offsets, err := locaOffsets(loca, long, len(glyf))
	if err != nil {
		return nil, err
	}
	numGlyphs := len(offsets) - 1
	keep := make([]bool, numGlyphs)
	keep[0] = true // .notdef is always kept
	queue := slices.Clone(gids)
	for len(queue) > 0 {
		gi := int(queue[0])
		queue = queue[1:]
		if gi >= numGlyphs || (keep[gi] && gi != 0) {
			continue
		}
		keep[gi] = true
		queue = append(queue, components(glyf[offsets[gi]:offsets[gi+1]])...)
	}
	var newGlyf []byte
	newLoca := make([]byte, 0, len(loca))
	for gi := range numGlyphs {
		off := len(newGlyf)
		if long {
			newLoca = binary.BigEndian.AppendUint32(newLoca, uint32(off))
		} else {
			newLoca = binary.BigEndian.AppendUint16(newLoca, uint16(off/2))
		}
		if keep[gi] {
			newGlyf = append(newGlyf, glyf[offsets[gi]:offsets[gi+1]]...)
			if len(newGlyf)%2 == 1 { // short offsets count words
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	if long {
		newLoca = binary.BigEndian.AppendUint32(newLoca, uint32(len(newGlyf)))
	} else {
		if len(newGlyf)/2 > 0xffff {
			return nil, errors.New("subset too large for short loca offsets")
		}
		newLoca = binary.BigEndian.AppendUint16(newLoca, uint16(len(newGlyf)/2))
	}
	tables["glyf"], tables["loca"] = newGlyf, newLoca
	if post := tables["post"]; len(post) >= 32 {
		p := slices.Clone(post[:32])
		binary.BigEndian.PutUint32(p, 0x00030000) // version 3: no glyph names
		tables["post"] = p
	}
	h := slices.Clone(head)
	binary.BigEndian.PutUint32(h[8:], 0) // checkSumAdjustment, computed below
	tables["head"] = h
	out := writeTTF(tables)
	binary.BigEndian.PutUint32(out[headOffset(out):][8:], 0xB1B0AFBA-checksum(out))
	return out, nil
}

// ttfTables reads the table directory of a TrueType font, keeping the tables in keptTables.
func ttfTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("font too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errors.New("font table directory truncated")
	}
	tables := map[string][]byte{}
	for i := range n {
		rec := ttf[12+16*i:]
		tag := string(rec[:4])
		off, length := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off < 0 || length < 0 || off+length > len(ttf) {
			return nil, fmt.Errorf("font table %q out of bounds", tag)
		}
		if slices.Contains(keptTables, tag) {
			tables[tag] = ttf[off : off+length]
		}
	}
	return tables, nil
}

func locaOffsets(loca []byte, long bool, glyfLen int) ([]int, error) {
	var offs []int
	if long {
		for i := 0; i+4 <= len(loca); i += 4 {
			offs = append(offs, int(binary.BigEndian.Uint32(loca[i:])))
		}
	} else {
		for i := 0; i+2 <= len(loca); i += 2 {
			offs = append(offs, 2*int(binary.BigEndian.Uint16(loca[i:])))
		}
	}
	for i := 1; i < len(offs); i++ {
		if offs[i] < offs[i-1] || offs[i] > glyfLen {
			return nil, errors.New("font loca table out of order")
		}
	}
	if len(offs) < 2 {
		return nil, errors.New("font has no glyphs")
	}
	return offs, nil
}

// components are the glyphs a composite glyph (such as å, an a and a ring) is built of.
func components(g []byte) []sfnt.GlyphIndex {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	const (
		argsAreWords   = 0x0001
		haveScale      = 0x0008
		moreComponents = 0x0020
		haveXYScale    = 0x0040
		haveTwoByTwo   = 0x0080
	)
	var out []sfnt.GlyphIndex
	for p := 10; p+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[p:])
		out = append(out, sfnt.GlyphIndex(binary.BigEndian.Uint16(g[p+2:])))
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			break
		}
	}
	return out
}

// writeTTF lays tables out after a fresh directory, each on a four-byte boundary with its checksum.
func writeTTF(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 16 << entrySelector
	out := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(searchRange))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-searchRange))
	for i, tag := range tags {
		data := tables[tag]
		rec := out[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[4:], checksum(data))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(data)))
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func headOffset(ttf []byte) int {
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := range n {
		rec := ttf[12+16*i:]
		if string(rec[:4]) == "head" {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	return 0
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
