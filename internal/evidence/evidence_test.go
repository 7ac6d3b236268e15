package evidence

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"esign/internal/order"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr[T any](v T) *T { return &v }

func TestDrawable(t *testing.T) {
	good := pngOf(t, 300, 100)
	cases := []struct {
		name     string
		provider order.DrawableProvider
		image    []byte
		who      *string
		want     string // "" = valid
	}{
		{"valid without name", order.DrawableProvider{}, good, nil, ""},
		{"valid with name", order.DrawableProvider{RequireName: true}, good, ptr("Ada Lovelace"), ""},
		{"name required", order.DrawableProvider{RequireName: true}, good, ptr("  "), "drawable.name: is required"},
		{"too narrow", order.DrawableProvider{MinimumWidth: ptr(400)}, good, nil, "is 300×100 pixels; it must be at least 400×1"},
		{"too low", order.DrawableProvider{MinimumHeight: ptr(150)}, good, nil, "at least 1×150"},
		{"not png", order.DrawableProvider{}, []byte("GIF89a...."), nil, "must be a PNG image"},
		{"truncated png", order.DrawableProvider{}, good[:len(good)/2], nil, "drawable.image"},
		{"empty", order.DrawableProvider{}, nil, nil, "drawable.image: is required"},
		{"name too long", order.DrawableProvider{}, good, ptr(strings.Repeat("x", 201)), "at most 200 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Drawable(&c.provider, c.image, c.who)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error = %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			info, err := e.ContactInfo()
			if err != nil {
				t.Fatal(err)
			}
			// The contract's shape: {"type": "...drawable.v1", "value": "<JSON {image, name}>"}.
			var outer struct{ Type, Value string }
			if err := json.Unmarshal([]byte(info), &outer); err != nil || outer.Type != TypeDrawable {
				t.Fatalf("ContactInfo %s: %v", info, err)
			}
			var inner struct {
				Image string
				Name  *string
			}
			if err := json.Unmarshal([]byte(outer.Value), &inner); err != nil {
				t.Fatal(err)
			}
			if inner.Image != base64.StdEncoding.EncodeToString(c.image) {
				t.Error("the image in the evidence differs from the one drawn")
			}
			if (c.who == nil) != (inner.Name == nil) {
				t.Errorf("name %v in evidence for input %v", inner.Name, c.who)
			}
		})
	}
}

func TestCompositeAndNoop(t *testing.T) {
	d, err := Drawable(&order.DrawableProvider{}, pngOf(t, 10, 10), ptr("Ada"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Composite([]Evidence{{}, d})
	if err != nil {
		t.Fatal(err)
	}
	var parts []struct{ Type, Value string }
	if err := json.Unmarshal([]byte(c.Value), &parts); err != nil || len(parts) != 1 || parts[0].Type != TypeDrawable || c.Name != "Ada" {
		t.Fatalf("composite: %s %v", c.Value, err)
	}
	if info, err := (Evidence{}).ContactInfo(); info != "" || err != nil {
		t.Errorf("noop evidence has ContactInfo %q", info)
	}
}

func TestCheckValidation(t *testing.T) {
	e := Evidence{Claims: map[string]any{"cprNumberIdentifier": "0101901234", "over18": true}}
	cases := []struct {
		rules []order.EvidenceValidation
		ok    bool
	}{
		{nil, true},
		{[]order.EvidenceValidation{{Key: "cprNumberIdentifier", Value: ptr("0101901234")}}, true},
		{[]order.EvidenceValidation{{Key: "cprNumberIdentifier", Value: ptr("999")}}, false},
		{[]order.EvidenceValidation{{Key: "over18", Boolean: ptr(true)}}, true},
		{[]order.EvidenceValidation{{Key: "over18", Boolean: ptr(false)}}, false},
		{[]order.EvidenceValidation{{Key: "missing", Value: ptr("x")}}, false},
	}
	for i, c := range cases {
		if err := CheckValidation(c.rules, e); (err == nil) != c.ok {
			t.Errorf("case %d: err = %v, want ok=%v", i, err, c.ok)
		}
	}
}
