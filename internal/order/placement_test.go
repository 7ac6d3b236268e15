package order

import (
	"errors"
	"math"
	"strings"
	"testing"

	"esign/internal/fault"
)

// pagesOf is a document of boxes.
type pagesOf []PageBox

func (p pagesOf) PageCount() int { return len(p) }
func (p pagesOf) PageBox(n int) (PageBox, error) {
	if n < 1 || n > len(p) {
		return PageBox{}, errors.New("no such page")
	}
	return p[n-1], nil
}

// textsAt finds texts at fixed rectangles.
type textsAt map[string][]Rect

func (t textsAt) FindText(s string) ([]Rect, error) { return t[s], nil }

var a4 = PageBox{URX: 595, URY: 842}

func TestPlacementValidate(t *testing.T) {
	cases := []struct {
		name  string
		p     Placement
		field string // "" : valid
		rule  string
	}{
		{"points", Placement{Field: "f", Points: &PointPlacement{Page: 1, X: 50, Y: 50}}, "", ""},
		{"points scaled", Placement{Field: "f", Points: &PointPlacement{Page: 3, X: 0, Y: 0, Scale: 0.2}}, "", ""},
		{"none", Placement{Field: "f"}, "f", "exactly one"},
		{"two", Placement{Field: "f", Points: &PointPlacement{Page: 1}, Anchor: &AnchorPlacement{Text: "x"}}, "f", "exactly one"},
		{"page 0", Placement{Field: "f", Points: &PointPlacement{Page: 0}}, "f.page", "from 1"},
		{"negative x", Placement{Field: "f", Points: &PointPlacement{Page: 1, X: -1}}, "f.x", "from 0 to 14400"},
		{"NaN y", Placement{Field: "f", Points: &PointPlacement{Page: 1, Y: math.NaN()}}, "f.y", "from 0 to 14400"},
		{"huge y", Placement{Field: "f", Points: &PointPlacement{Page: 1, Y: 20000}}, "f.y", "from 0 to 14400"},
		{"scale", Placement{Field: "f", Points: &PointPlacement{Page: 1, Scale: 1.5}}, "f.scale", "between 0.2 and 1.0"},
		{"percent", Placement{Field: "f", Percent: &PercentPlacement{Page: 2, X: 0, Y: 100, Width: 100, Height: 0.5}}, "", ""},
		{"percent page", Placement{Field: "f", Percent: &PercentPlacement{Page: -1, Width: 1, Height: 1}}, "f.page", "from 1"},
		{"percent x", Placement{Field: "f", Percent: &PercentPlacement{Page: 1, X: 100.1, Width: 1, Height: 1}}, "f.x", "from 0 to 100"},
		{"percent y", Placement{Field: "f", Percent: &PercentPlacement{Page: 1, Y: -0.1, Width: 1, Height: 1}}, "f.y", "from 0 to 100"},
		{"percent zero width", Placement{Field: "f", Percent: &PercentPlacement{Page: 1, Height: 1}}, "f.width", "more than 0"},
		{"percent height", Placement{Field: "f", Percent: &PercentPlacement{Page: 1, Width: 1, Height: 101}}, "f.height", "at most 100"},
		{"anchor", Placement{Field: "f", Anchor: &AnchorPlacement{Text: "{{sign_here}}", OffsetX: -10, Width: 1000, Height: 1}}, "", ""},
		{"anchor empty", Placement{Field: "f", Anchor: &AnchorPlacement{}}, "f.text", "1 to 200"},
		{"anchor long", Placement{Field: "f", Anchor: &AnchorPlacement{Text: strings.Repeat("é", 201)}}, "f.text", "at most 200"},
		{"anchor 200", Placement{Field: "f", Anchor: &AnchorPlacement{Text: strings.Repeat("é", 200)}}, "", ""},
		{"anchor newline", Placement{Field: "f", Anchor: &AnchorPlacement{Text: "a\nb"}}, "f.text", "one line"},
		{"anchor width", Placement{Field: "f", Anchor: &AnchorPlacement{Text: "a", Width: 1001}}, "f.width", "at most 1000"},
		{"anchor height", Placement{Field: "f", Anchor: &AnchorPlacement{Text: "a", Height: -1}}, "f.height", "more than 0"},
		{"anchor offset", Placement{Field: "f", Anchor: &AnchorPlacement{Text: "a", OffsetY: math.Inf(1)}}, "f.offsetY", "from -14400"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.CodeInvalid {
				t.Fatalf("Validate = %v, want an INVALID fault", err)
			}
			if fe.Field != c.field || !strings.Contains(fe.Message, c.rule) {
				t.Fatalf("Validate = %q on %q, want %q on %q", fe.Message, fe.Field, c.rule, c.field)
			}
		})
	}
}

func near(a, b Rect) bool {
	const eps = 1e-6
	return a.Page == b.Page && math.Abs(a.X-b.X) < eps && math.Abs(a.Y-b.Y) < eps &&
		math.Abs(a.Width-b.Width) < eps && math.Abs(a.Height-b.Height) < eps
}

func TestResolvePlacements(t *testing.T) {
	rotated := func(r int) PageBox { b := a4; b.Rotate = r; return b }
	offset := PageBox{LLX: 100, LLY: 200, URX: 700, URY: 1000} // 600 × 800, not at the origin
	anchors := textsAt{
		"{{sign_here}}": {{Page: 1, X: 72, Y: 700, Width: 80, Height: 12}, {Page: 2, X: 300, Y: 100, Width: 80, Height: 12}},
	}
	cases := []struct {
		name  string
		pages pagesOf
		ps    []Placement
		want  []Rect
	}{
		{"points pass through at the standard size", pagesOf{a4},
			[]Placement{{Points: &PointPlacement{Page: 1, X: 50, Y: 60}}},
			[]Rect{{Page: 1, X: 50, Y: 60, Width: SealWidth, Height: SealHeight}}},
		{"points scaled, unaffected by rotation", pagesOf{a4, rotated(90)},
			[]Placement{{Points: &PointPlacement{Page: 2, X: 50, Y: 60, Scale: 0.5}}},
			[]Rect{{Page: 2, X: 50, Y: 60, Width: SealWidth / 2, Height: SealHeight / 2}}},
		{"percent top-left origin", pagesOf{a4},
			[]Placement{{Percent: &PercentPlacement{Page: 1, X: 10, Y: 10, Width: 20, Height: 5}}},
			[]Rect{{Page: 1, X: 59.5, Y: 842 - 84.2 - 42.1, Width: 119, Height: 42.1}}},
		{"percent on an offset media box", pagesOf{offset},
			[]Placement{{Percent: &PercentPlacement{Page: 1, X: 50, Y: 0, Width: 50, Height: 25}}},
			[]Rect{{Page: 1, X: 400, Y: 800, Width: 300, Height: 200}}},
		// Shown turned 90° clockwise, the A4 page is 842 wide and 595 high, and its shown top-left
		// corner is the user space's lower-left.
		{"percent rotated 90", pagesOf{rotated(90)},
			[]Placement{{Percent: &PercentPlacement{Page: 1, X: 0, Y: 0, Width: 10, Height: 10}}},
			[]Rect{{Page: 1, X: 0, Y: 0, Width: 59.5, Height: 84.2}}},
		{"percent rotated 180", pagesOf{rotated(180)},
			[]Placement{{Percent: &PercentPlacement{Page: 1, X: 0, Y: 0, Width: 10, Height: 10}}},
			[]Rect{{Page: 1, X: 595 - 59.5, Y: 0, Width: 59.5, Height: 84.2}}},
		{"percent rotated 270", pagesOf{rotated(-90)},
			[]Placement{{Percent: &PercentPlacement{Page: 1, X: 0, Y: 0, Width: 10, Height: 10}}},
			[]Rect{{Page: 1, X: 595 - 59.5, Y: 842 - 84.2, Width: 59.5, Height: 84.2}}},
		{"anchor on every occurrence, hanging from its top-left", pagesOf{a4, a4},
			[]Placement{{Anchor: &AnchorPlacement{Text: "{{sign_here}}", OffsetX: 5, OffsetY: 20, Width: 150, Height: 40}}},
			[]Rect{{Page: 1, X: 77, Y: 712 - 20 - 40, Width: 150, Height: 40}, {Page: 2, X: 305, Y: 112 - 20 - 40, Width: 150, Height: 40}}},
		{"anchor default size", pagesOf{a4, a4},
			[]Placement{{Anchor: &AnchorPlacement{Text: "{{sign_here}}"}}},
			[]Rect{{Page: 1, X: 72, Y: 712 - AnchorHeight, Width: AnchorWidth, Height: AnchorHeight}, {Page: 2, X: 300, Y: 112 - AnchorHeight, Width: AnchorWidth, Height: AnchorHeight}}},
		// On a page shown turned 90°, "down" is user-space +x: the mark hangs from the text box's
		// least x, moved right in user space, and its shown width runs along user y.
		{"anchor on a rotated page", pagesOf{rotated(90), a4},
			[]Placement{{Anchor: &AnchorPlacement{Text: "{{sign_here}}", OffsetY: 10, Width: 100, Height: 30}}},
			[]Rect{{Page: 1, X: 72 + 10, Y: 700, Width: 30, Height: 100}, {Page: 2, X: 300, Y: 112 - 10 - 30, Width: 100, Height: 30}}},
		{"ignored missing anchor", pagesOf{a4},
			[]Placement{{Anchor: &AnchorPlacement{Text: "{{absent}}", IgnoreIfMissing: true}}, {Points: &PointPlacement{Page: 1, X: 1, Y: 2}}},
			[]Rect{{Page: 1, X: 1, Y: 2, Width: SealWidth, Height: SealHeight}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ResolvePlacements(c.ps, c.pages, anchors)
			if err != nil {
				t.Fatalf("ResolvePlacements: %v", err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if !near(got[i], c.want[i]) {
					t.Errorf("rect %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestResolvePlacementsRefuses(t *testing.T) {
	many := make([]Rect, MaxPlacedRects+1)
	for i := range many {
		many[i] = Rect{Page: 1, Width: 1, Height: 1}
	}
	cases := []struct {
		name        string
		ps          []Placement
		field, rule string
	}{
		{"page beyond", []Placement{{Field: "sd.pdfSealPositions[0]", Points: &PointPlacement{Page: 3}}},
			"sd.pdfSealPositions[0].page", "page 3 is beyond the end of the document, which has 2 pages"},
		{"percent page beyond", []Placement{{Field: "fields[1]", Percent: &PercentPlacement{Page: 9, Width: 1, Height: 1}}},
			"fields[1].page", "page 9 is beyond"},
		{"missing anchor", []Placement{{Field: "anchorTags[0]", Anchor: &AnchorPlacement{Text: "{{absent}}"}}},
			"anchorTags[0].text", `the text "{{absent}}" is not in the document`},
		{"too many marks", []Placement{{Field: "anchorTags[0]", Anchor: &AnchorPlacement{Text: "many"}}},
			"anchorTags[0]", "more than 500 marks"},
		{"invalid", []Placement{{Field: "f", Percent: &PercentPlacement{Page: 1}}}, "f.width", "more than 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ResolvePlacements(c.ps, pagesOf{a4, a4}, textsAt{"many": many})
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.CodeInvalid || fe.Field != c.field || !strings.Contains(fe.Message, c.rule) {
				t.Fatalf("ResolvePlacements = %v, want INVALID %q on %q", err, c.rule, c.field)
			}
		})
	}
	if err := CheckPlacementPages([]Placement{{Field: "p", Points: &PointPlacement{Page: 2}}}, 1); err == nil ||
		!strings.Contains(err.Error(), "p.page: page 2 is beyond the end of the document, which has 1 page") {
		t.Fatalf("CheckPlacementPages = %v", err)
	}
	if err := CheckPlacementPages([]Placement{{Points: &PointPlacement{Page: 2}}, {Anchor: &AnchorPlacement{Text: "x"}}}, 2); err != nil {
		t.Fatalf("CheckPlacementPages on the last page: %v", err)
	}
}

func TestShownRoundTrip(t *testing.T) {
	for _, r := range []int{0, 90, 180, 270, -90, 450} {
		b := PageBox{LLX: 10, LLY: 20, URX: 610, URY: 820, Rotate: r}
		for _, pt := range [][2]float64{{10, 20}, {300, 400}, {610, 820}} {
			u, v := b.toShown(pt[0], pt[1])
			w, h := b.shownSize()
			if u < -1e-9 || v < -1e-9 || u > w+1e-9 || v > h+1e-9 {
				t.Errorf("rotate %d: %v shown at %g,%g outside %gx%g", r, pt, u, v, w, h)
			}
			if x, y := b.toUser(u, v); math.Abs(x-pt[0]) > 1e-9 || math.Abs(y-pt[1]) > 1e-9 {
				t.Errorf("rotate %d: %v came back as %g,%g", r, pt, x, y)
			}
		}
	}
}

func TestPlacementsOf(t *testing.T) {
	half := 0.5
	got := PlacementsOf("signatories[0].documents[1]", SignatoryDocument{SealPositions: []SealPosition{{Page: 2, X: 3, Y: 4, Scale: &half}, {Page: 1}}})
	if len(got) != 2 || got[0].Field != "signatories[0].documents[1].pdfSealPositions[0]" || *got[0].Points != (PointPlacement{Page: 2, X: 3, Y: 4, Scale: 0.5}) ||
		got[1].Points.Scale != 0 {
		t.Fatalf("PlacementsOf = %+v", got)
	}
}
