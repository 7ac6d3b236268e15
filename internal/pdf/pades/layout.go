package pades

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// The seal's layout: a frame, the drawn signature (when there is one) in an area of its own, and
// the lines of text fitted into the rest. Text is measured with the embedded font's widths, so what
// fits here fits in every viewer.

const (
	sealPadding     = 6.0
	sealLeading     = 1.25 // line height as a multiple of the font size
	sealMaxFontSize = 10.0
	// sealShrinkFloor is the size a line shrinks to before it is wrapped: below it a line is
	// harder to read than the same words on two lines.
	sealShrinkFloor = 7.0
	// sealMinFontSize is the smallest size wrapped text is set at; a rectangle too small for the
	// text even there gets the text scaled down further rather than cut off.
	sealMinFontSize = 4.0
	sealFontStep    = 0.25
)

// textBlock is fitted text: its lines and their size.
type textBlock struct {
	lines []string
	size  float64
}

func (b textBlock) height() float64 { return float64(len(b.lines)) * b.size * sealLeading }

// fitText sets paragraphs into a w × h area, taking the first that fits of: the largest size down
// to sealShrinkFloor at which every paragraph fits on one line; the largest size down to
// sealShrinkFloor at which they fit wrapped at spaces; the largest size down to sealMinFontSize at
// which they fit wrapped with words wider than the area broken inside (a document id); and the
// latter at the size that makes it fit, however small. So words are broken only when shrinking
// cannot keep them whole, and no text is ever cut off.
func fitText(u *fontUse, paragraphs []string, w, h float64) textBlock {
	w, h = math.Max(w, 1), math.Max(h, 1)
	for size := sealMaxFontSize; size >= sealShrinkFloor; size -= sealFontStep {
		b := textBlock{lines: paragraphs, size: size}
		if b.height() <= h && widest(u, paragraphs, size) <= w {
			return b
		}
	}
	for size := sealMaxFontSize; size >= sealShrinkFloor; size -= sealFontStep {
		b := textBlock{lines: wrapAll(u, paragraphs, w, size), size: size}
		if b.height() <= h && widest(u, b.lines, size) <= w && wholeWords(b.lines, paragraphs) {
			return b
		}
	}
	var b textBlock
	for size := sealMaxFontSize; size >= sealMinFontSize; size -= sealFontStep {
		b = textBlock{lines: wrapAll(u, paragraphs, w, size), size: size}
		if b.height() <= h {
			return b
		}
	}
	// Scaling does not change where a line breaks in proportion to the width, so shrink until
	// the wrapped lines fit both ways.
	for size := sealMinFontSize; size > 0.5; size *= 0.9 {
		b = textBlock{lines: wrapAll(u, paragraphs, w, size), size: size}
		if b.height() <= h {
			return b
		}
	}
	return b
}

// wholeWords answers whether lines hold paragraphs' words unbroken.
func wholeWords(lines, paragraphs []string) bool {
	var a, b []string
	for _, l := range lines {
		a = append(a, strings.Fields(l)...)
	}
	for _, p := range paragraphs {
		b = append(b, strings.Fields(p)...)
	}
	return slices.Equal(a, b)
}

func widest(u *fontUse, lines []string, size float64) float64 {
	m := 0.0
	for _, l := range lines {
		m = math.Max(m, u.width(l, size))
	}
	return m
}

func wrapAll(u *fontUse, paragraphs []string, w, size float64) []string {
	var out []string
	for _, p := range paragraphs {
		out = append(out, wrap(u, p, w, size)...)
	}
	return out
}

// wrap breaks s into lines no wider than w at size: at spaces, and inside a word wider than w
// (a document id, a long name) before a '-', '_', '/' or '.' when there is one, else between
// letters. Before, not after: text extraction (pdftotext, copying) takes a hyphen at the end of a
// line for a soft one and drops it, which would change an id.
func wrap(u *fontUse, s string, w, size float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		candidate := word
		if line != "" {
			candidate = line + " " + word
		}
		if u.width(candidate, size) <= w {
			line = candidate
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		for u.width(word, size) > w {
			head := breakWord(u, word, w, size)
			lines = append(lines, head)
			word = word[len(head):]
		}
		line = word
	}
	if line != "" || len(lines) == 0 {
		lines = append(lines, line)
	}
	return lines
}

// breakWord is the longest start of word that fits w (at least one letter, so wrapping ends).
func breakWord(u *fontUse, word string, w, size float64) string {
	fits, atMark := 0, 0
	for i, r := range word {
		if strings.ContainsRune("-_/.", r) && i > 0 {
			atMark = i
		}
		end := i + utf8.RuneLen(r)
		if u.width(word[:end], size) > w {
			break
		}
		fits = end
	}
	if atMark > 0 && atMark < len(word) {
		return word[:atMark]
	}
	if fits == 0 {
		_, n := utf8.DecodeRuneInString(word)
		return word[:n]
	}
	return word[:fits]
}

// sealImage is the drawn signature as the appearance's /Im1, by its pixel size.
type sealImage struct{ w, h int }

// sealAppearance is the content stream of a w × h seal: the frame; the drawn signature, when there
// is one, in its own area (the right part of a wide seal, the top of a tall one), scaled to fit
// keeping its aspect ratio; and the text in the rest, fitted by fitText.
func sealAppearance(u *fontUse, w, h float64, lines []string, img *sealImage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "q 0.2 0.35 0.6 RG 1 w 0.5 0.5 %.2f %.2f re S Q\n", math.Max(w-1, 0), math.Max(h-1, 0))
	// Text area: x0, y0 (lower left), tw × th.
	x0, y0 := sealPadding, sealPadding
	tw, th := w-2*sealPadding, h-2*sealPadding
	if img != nil && img.w > 0 && img.h > 0 {
		var ix, iy, iw, ih float64
		if w >= 1.6*h { // wide: the signature on the right, 40 % of the width
			iw, ih = tw*0.4, th
			ix, iy = x0+tw-iw, y0
			tw -= iw + sealPadding
		} else { // tall or square: the signature on top, 40 % of the height
			iw, ih = tw, th*0.4
			ix, iy = x0, y0+th-ih
			th -= ih + sealPadding
		}
		scale := math.Min(iw/float64(img.w), ih/float64(img.h))
		dw, dh := float64(img.w)*scale, float64(img.h)*scale
		fmt.Fprintf(&b, "q %.3f 0 0 %.3f %.3f %.3f cm /Im1 Do Q\n", dw, dh, ix+(iw-dw)/2, iy+(ih-dh)/2)
	}
	block := fitText(u, lines, tw, th)
	// The first baseline sits one ascent below the top of the text area.
	asc := float64(u.font.ascent) / float64(u.font.unitsPerEm) * block.size
	top := y0 + th
	b.WriteString("BT 0.1 0.1 0.15 rg\n")
	for i, line := range block.lines {
		y := top - asc - float64(i)*block.size*sealLeading
		fmt.Fprintf(&b, "/F1 %.2f Tf 1 0 0 1 %.2f %.2f Tm %s Tj\n", block.size, x0, y, u.encode(line))
	}
	b.WriteString("ET\n")
	return b.String()
}
