package pades

// Font is the seal font (embedded Go Regular, subset to the glyphs used) for a document written
// whole rather than as an increment, such as the completion certificate: measure and wrap with it,
// encode the texts, then add its objects. It is the same code the seals use, so a text that fits
// one fits the other, and the subset and /ToUnicode are made the same way.
//
// A Font is not safe for concurrent use; make one per document.
type Font struct{ use *fontUse }

// NewFont starts a use of the seal font.
func NewFont() (*Font, error) {
	u, err := newFontUse()
	if err != nil {
		return nil, err
	}
	return &Font{use: u}, nil
}

// Width is s's advance at size points, as a viewer lays it out.
func (f *Font) Width(s string, size float64) float64 { return f.use.width(s, size) }

// Wrap breaks s into lines no wider than w at size, as the seal's text is wrapped: at spaces, and
// inside a word wider than w (a hash, a user agent) before a '-', '_', '/' or '.', else between
// letters. Runs of white space become one space.
func (f *Font) Wrap(s string, w, size float64) []string { return wrap(f.use, s, w, size) }

// Encode is s as a hex string operand for Tj (two-byte glyph ids, Identity-H); every glyph
// encoded is in the subset Objects writes, so encode every text before calling Objects.
// It writes what fontUse.encode writes, without a formatted print per glyph: a certificate
// encodes hundreds of pages of text.
func (f *Font) Encode(s string) string {
	const digits = "0123456789ABCDEF"
	b := make([]byte, 0, 2+4*len(s))
	b = append(b, '<')
	for _, r := range s {
		gi, _ := f.use.glyph(r)
		b = append(b, digits[gi>>12&0xf], digits[gi>>8&0xf], digits[gi>>4&0xf], digits[gi&0xf])
	}
	return string(append(b, '>'))
}

// Ascent and Descent are the font's ascent (positive) and descent (negative) at 1 pt.
func (f *Font) Ascent() float64 { return float64(f.use.font.ascent) / float64(f.use.font.unitsPerEm) }

func (f *Font) Descent() float64 {
	return float64(f.use.font.descent) / float64(f.use.font.unitsPerEm)
}

// Objects are the font's object bodies: the Type0 font as object type0 (numbered by the caller
// before the texts were laid out, so content could name it) and its CIDFont, descriptor, subset
// font file and /ToUnicode numbered from next on. next is the first number still free afterwards.
func (f *Font) Objects(type0, next int) (bodies map[int]string, nextFree int, err error) {
	inc := &increment{next: next, bodies: map[int]string{}}
	if err := f.use.objects(inc, type0); err != nil {
		return nil, 0, err
	}
	return inc.bodies, inc.next, nil
}
