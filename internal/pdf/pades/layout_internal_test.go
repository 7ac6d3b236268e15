package pades

import (
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"esign/internal/i18n"
)

// Every seal text in every language fits the areas seals get (the seals page's text column beside
// a drawn signature, a placed seal from small to large) without losing a letter: each line is no
// wider than the area, the lines no taller, and joined again they are the text.
func TestFitTextNeverClips(t *testing.T) {
	u, err := newFontUse()
	if err != nil {
		t.Fatal(err)
	}
	const id = "3f0e2a4b-9c1d-4e5f-8a7b-6c5d4e3f2a1b"
	areas := []struct{ w, h float64 }{
		{239, 98}, // the seals page box with 14 signatories, no image
		{137, 98}, // the same, beside a drawn signature
		{60, 40},  // a small placed seal
		{30, 200}, // a narrow one
		{400, 20}, // a flat one
	}
	for _, l := range i18n.Languages {
		lang, tr := l.Code, i18n.T(l.Code)
		lines := []string{tr("seal.signedBy") + " Åse Ødegård-Äläpää", "2026-06-01 12:00:00 CEST", tr("seal.test"), tr("seal.several"), tr("seal.documentID") + " " + id}
		for _, a := range areas {
			b := fitText(u, lines, a.w, a.h)
			if b.height() > a.h+1e-9 {
				t.Errorf("%s %gx%g: %d lines at %.2f pt are %.1f high", lang, a.w, a.h, len(b.lines), b.size, b.height())
			}
			for _, l := range b.lines {
				if w := u.width(l, b.size); w > a.w+1e-9 {
					t.Errorf("%s %gx%g: %q is %.1f wide at %.2f pt", lang, a.w, a.h, l, w, b.size)
				}
			}
			if got, want := strings.Join(strings.Fields(strings.Join(b.lines, "")), ""), strings.Join(strings.Fields(strings.Join(lines, "")), ""); got != want {
				t.Errorf("%s %gx%g: text changed to %q", lang, a.w, a.h, got)
			}
		}
	}
}

func TestFitTextShrinksBeforeWrapping(t *testing.T) {
	u, err := newFontUse()
	if err != nil {
		t.Fatal(err)
	}
	line := "Document ID 3f0e2a4b-9c1d-4e5f-8a7b-6c5d4e3f2a1b"
	cases := []struct {
		name      string
		w         float64
		wantLines int
		minSize   float64
		maxSize   float64
	}{
		{"fits at 10 pt", 400, 1, 10, 10},
		{"shrinks to fit one line", u.width(line, 8), 1, 8, 8},
		{"wraps below the shrink floor", u.width(line, sealShrinkFloor) - 1, 2, sealShrinkFloor, sealMaxFontSize},
	}
	for _, c := range cases {
		b := fitText(u, []string{line}, c.w, 100)
		if len(b.lines) != c.wantLines || b.size < c.minSize || b.size > c.maxSize {
			t.Errorf("%s: %d lines at %.2f pt %q, want %d lines at %g–%g pt", c.name, len(b.lines), b.size, b.lines, c.wantLines, c.minSize, c.maxSize)
		}
	}
	// A word wider than the line breaks before a hyphen when one fits.
	if got := wrap(u, "ID 3f0e2a4b-9c1d-4e5f", u.width("3f0e2a4b-9c1d-", 10)+0.1, 10); strings.Join(got, "|") != "ID|3f0e2a4b-9c1d|-4e5f" {
		t.Errorf("wrap: %q", got)
	}
}

// The subset keeps the outlines of the glyphs used (and of their components: å is a composite in
// Go Regular) and empties the others, and stays a font sfnt reads.
func TestSubsetKeepsUsedGlyphsOnly(t *testing.T) {
	u, err := newFontUse()
	if err != nil {
		t.Fatal(err)
	}
	u.encode("æøå ÆØÅ äöü ÄÖÜ")
	var gids []sfnt.GlyphIndex
	for gi := range u.glyphs {
		gids = append(gids, gi)
	}
	sub, err := subsetTrueType(u.font.raw, gids)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > len(u.font.raw)/3 {
		t.Errorf("subset is %d bytes of %d", len(sub), len(u.font.raw))
	}
	f, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	var buf sfnt.Buffer
	outline := func(r rune) int {
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil || gi == 0 {
			t.Fatalf("no glyph for %q: %v", r, err)
		}
		segs, err := f.LoadGlyph(&buf, gi, fixed.I(1000), nil)
		if err != nil {
			t.Fatalf("glyph %q: %v", r, err)
		}
		return len(segs)
	}
	for _, r := range "æøåÆØÅäöüÄÖÜ" {
		if outline(r) == 0 {
			t.Errorf("%q lost its outline", r)
		}
	}
	for _, r := range "Zq" {
		if outline(r) != 0 {
			t.Errorf("%q is unused but kept", r)
		}
	}
	// Metrics are untouched: the widths in /W are the font's.
	gi, _ := f.GlyphIndex(&buf, 'å')
	adv, _ := f.GlyphAdvance(&buf, gi, fixed.I(int(f.UnitsPerEm())), font.HintingNone)
	if _, w := u.glyph('å'); int(int64(adv)*1000/int64(fixed.I(int(f.UnitsPerEm())))) != w {
		t.Errorf("advance of å changed")
	}
}
