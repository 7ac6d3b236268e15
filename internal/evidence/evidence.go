// Package evidence turns what a signatory presented (a drawn signature, an ID token, nothing for the
// test-only provider) into checked evidence, and into the JSON that goes into the signature's
// /ContactInfo as the contract describes.
package evidence

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image/png"
	"strings"

	"esign/internal/fault"
	"esign/internal/order"
)

// Types of evidence, as written into /ContactInfo.
const (
	TypeJWT       = "criipto.signature.jwt.v1"
	TypeDrawable  = "criipto.signature.drawable.v1"
	TypeComposite = "criipto.signature.composite.v1"
)

// Limits on a drawn signature.
const (
	MaxImageBytes  = 512 << 10
	MaxImageSide   = 4000
	defaultMinSide = 1
)

// Evidence is one checked piece of evidence. Noop evidence is the zero value (Type "").
type Evidence struct {
	Type  string `json:"type"`
	Value string `json:"value"` // JSON text, as the contract nests it
	// Name is the signatory's name as the evidence gives it (for the visible seal); not serialized.
	Name string `json:"-"`
	// Image is a drawn signature (PNG), for the visible seal; not serialized.
	Image []byte `json:"-"`
	// Claims are the identity claims, checked against evidenceValidation; not serialized.
	Claims map[string]any `json:"-"`
	// UniqueKey, when the provider has a uniqueEvidenceKey, identifies the person (a hash); not serialized.
	UniqueKey string `json:"-"`
}

// ContactInfo is the /ContactInfo text of a signature carrying e; empty for noop evidence.
func (e Evidence) ContactInfo() (string, error) {
	if e.Type == "" {
		return "", nil
	}
	return encodeValue(wirePart{Type: e.Type, Value: e.Value})
}

// Drawable checks a hand-drawn signature against the provider's rules: a PNG no larger than the
// limits and at least the provider's minimum size, and a name when the provider requires one.
func Drawable(p *order.DrawableProvider, image []byte, name *string) (Evidence, error) {
	if len(image) == 0 {
		return Evidence{}, fault.Invalid("drawable.image", "is required")
	}
	if len(image) > MaxImageBytes {
		return Evidence{}, fault.Invalid("drawable.image", "must be at most %d bytes", MaxImageBytes)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(image))
	if err != nil {
		return Evidence{}, fault.Invalid("drawable.image", "must be a PNG image")
	}
	if _, err := png.Decode(bytes.NewReader(image)); err != nil {
		return Evidence{}, fault.Invalid("drawable.image", "is not a readable PNG image")
	}
	minW, minH := defaultMinSide, defaultMinSide
	if p.MinimumWidth != nil {
		minW = *p.MinimumWidth
	}
	if p.MinimumHeight != nil {
		minH = *p.MinimumHeight
	}
	if cfg.Width < minW || cfg.Height < minH {
		return Evidence{}, fault.Invalid("drawable.image", "is %d×%d pixels; it must be at least %d×%d", cfg.Width, cfg.Height, minW, minH)
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Evidence{}, fault.Invalid("drawable.image", "must be at most %d pixels on each side", MaxImageSide)
	}
	var n string
	if name != nil {
		n = strings.TrimSpace(*name)
	}
	if p.RequireName && n == "" {
		return Evidence{}, fault.Invalid("drawable.name", "is required by this evidence provider")
	}
	// The name is written into the PDF's signature dictionary and onto the seal: no control characters.
	if err := order.CheckText("drawable.name", n, order.MaxDrawableNameLen, false); err != nil {
		return Evidence{}, err
	}
	value, err := encodeValue(drawnValue{Image: base64.StdEncoding.EncodeToString(image), Name: nonEmpty(n)})
	if err != nil {
		return Evidence{}, err
	}
	return Evidence{Type: TypeDrawable, Value: value, Name: n, Image: image}, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Composite joins the evidence of an allOf provider, in the provider's order.
func Composite(parts []Evidence) (Evidence, error) {
	list := make([]wirePart, 0, len(parts))
	out := Evidence{Type: TypeComposite, Claims: map[string]any{}}
	for _, p := range parts {
		if p.Type == "" {
			continue // noop contributes nothing
		}
		list = append(list, wirePart{p.Type, p.Value})
		if out.Name == "" {
			out.Name = p.Name
		}
		if out.Image == nil {
			out.Image = p.Image
		}
		for k, v := range p.Claims {
			out.Claims[k] = v
		}
	}
	value, err := encodeValue(list)
	if err != nil {
		return Evidence{}, err
	}
	out.Value = value
	return out, nil
}

// CheckValidation checks the signatory's evidenceValidation pairs against the evidence's claims.
func CheckValidation(rules []order.EvidenceValidation, e Evidence) error {
	for _, r := range rules {
		got, ok := e.Claims[r.Key]
		switch {
		case !ok:
			return fault.Forbiddenf("the evidence lacks the required claim %q", r.Key)
		case r.Value != nil && fmt.Sprint(got) != *r.Value:
			return fault.Forbiddenf("the evidence's %q does not match what this signature order requires", r.Key)
		case r.Boolean != nil:
			b, isBool := got.(bool)
			if !isBool || b != *r.Boolean {
				return fault.Forbiddenf("the evidence's %q does not match what this signature order requires", r.Key)
			}
		}
	}
	return nil
}
