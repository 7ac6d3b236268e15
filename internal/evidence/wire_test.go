package evidence

import (
	"bytes"
	"strings"
	"testing"

	"esign/internal/order"
)

// TestContactInfoRoundTrip: what the encoders write, ParseContactInfo reads back, for every type.
func TestContactInfoRoundTrip(t *testing.T) {
	image := pngOf(t, 40, 20)
	drawn, err := Drawable(&order.DrawableProvider{}, image, ptr("Åse Øvergård"))
	if err != nil {
		t.Fatal(err)
	}
	jwtValue, err := encodeValue(jwtValue{JWT: "h.p.s", JWKS: `{"keys":[]}`})
	if err != nil {
		t.Fatal(err)
	}
	token := Evidence{Type: TypeJWT, Value: jwtValue}
	both, err := Composite([]Evidence{{}, drawn, token})
	if err != nil {
		t.Fatal(err)
	}
	read := func(e Evidence) Signature {
		t.Helper()
		ci, err := e.ContactInfo()
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseContactInfo(ci)
		if err != nil {
			t.Fatalf("ParseContactInfo(%s): %v", ci, err)
		}
		return s
	}
	if s := read(Evidence{}); s.Type != "" || s.Parts != nil {
		t.Errorf("noop read back as %+v", s)
	}
	checkDrawn := func(what string, s Signature) {
		t.Helper()
		if s.Type != TypeDrawable || !bytes.Equal(s.Image, image) || s.Name == nil || *s.Name != "Åse Øvergård" {
			t.Errorf("%s read back as type %q, name %v, %d image bytes", what, s.Type, s.Name, len(s.Image))
		}
	}
	checkJWT := func(what string, s Signature) {
		t.Helper()
		if s.Type != TypeJWT || s.JWT != "h.p.s" || s.JWKS != `{"keys":[]}` {
			t.Errorf("%s read back as %+v", what, s)
		}
	}
	checkDrawn("drawable", read(drawn))
	checkJWT("jwt", read(token))
	c := read(both)
	if c.Type != TypeComposite || len(c.Parts) != 2 {
		t.Fatalf("composite read back as %+v", c)
	}
	checkDrawn("composite part 1", c.Parts[0])
	checkJWT("composite part 2", c.Parts[1])
}

// TestParseContactInfoRefusesWhatItCannotRead: a changed or foreign format is an error, never a
// signature without evidence.
func TestParseContactInfoRefusesWhatItCannotRead(t *testing.T) {
	for _, ci := range []string{
		`not json`,
		`{"type":"criipto.signature.drawable.v2","value":"{}"}`,
		`{"type":"criipto.signature.drawable.v1","value":"{\"image\":\"***\"}"}`,
		`{"type":"criipto.signature.jwt.v1","value":"[1]"}`,
		`{"type":"criipto.signature.composite.v1","value":"[{\"type\":\"other\",\"value\":\"{}\"}]"}`,
		`{"type":"","value":""}`,
	} {
		if s, err := ParseContactInfo(ci); err == nil || !strings.HasPrefix(err.Error(), "evidence: ") {
			t.Errorf("ParseContactInfo(%s) = %+v, %v; want an error", ci, s, err)
		}
	}
}
