package evidence

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// The evidence as a signature's /ContactInfo carries it, in the contract's nesting: a type, and a
// value that is JSON text of its own. Encoding (Drawable, JWT, Composite, ContactInfo) and decoding
// (ParseContactInfo) share these types, so the format has one owner; a round-trip test holds them
// together.
type (
	wirePart struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	drawnValue struct {
		Image string  `json:"image"` // PNG, standard base64
		Name  *string `json:"name"`
	}
	jwtValue struct {
		JWT  string `json:"jwt"`
		JWKS string `json:"jwks"` // the issuer's key set when the token was checked
	}
)

// Signature is the evidence read back from a signature: Type is "" for noop evidence (no
// /ContactInfo); Image and Name for a drawn signature; JWT and JWKS for an ID token; Parts for
// composite evidence, in the provider's order.
type Signature struct {
	Type  string
	Image []byte
	Name  *string
	JWT   string
	JWKS  string
	Parts []Signature
}

// ParseContactInfo decodes what ContactInfo wrote. A /ContactInfo this service did not write, or a
// format it no longer reads, is an error rather than a signature without evidence.
func ParseContactInfo(contactInfo string) (Signature, error) {
	if contactInfo == "" {
		return Signature{}, nil
	}
	var p wirePart
	if err := json.Unmarshal([]byte(contactInfo), &p); err != nil {
		return Signature{}, fmt.Errorf("evidence: /ContactInfo is not evidence JSON: %w", err)
	}
	if p.Type != TypeComposite {
		return parsePart(p)
	}
	var parts []wirePart
	if err := json.Unmarshal([]byte(p.Value), &parts); err != nil {
		return Signature{}, fmt.Errorf("evidence: composite value: %w", err)
	}
	out := Signature{Type: TypeComposite, Parts: make([]Signature, 0, len(parts))}
	for _, part := range parts {
		s, err := parsePart(part)
		if err != nil {
			return Signature{}, err
		}
		out.Parts = append(out.Parts, s)
	}
	return out, nil
}

func parsePart(p wirePart) (Signature, error) {
	switch p.Type {
	case TypeDrawable:
		var v drawnValue
		if err := json.Unmarshal([]byte(p.Value), &v); err != nil {
			return Signature{}, fmt.Errorf("evidence: drawable value: %w", err)
		}
		image, err := base64.StdEncoding.DecodeString(v.Image)
		if err != nil {
			return Signature{}, fmt.Errorf("evidence: drawable image: %w", err)
		}
		return Signature{Type: TypeDrawable, Image: image, Name: v.Name}, nil
	case TypeJWT:
		var v jwtValue
		if err := json.Unmarshal([]byte(p.Value), &v); err != nil {
			return Signature{}, fmt.Errorf("evidence: jwt value: %w", err)
		}
		return Signature{Type: TypeJWT, JWT: v.JWT, JWKS: v.JWKS}, nil
	default:
		return Signature{}, fmt.Errorf("evidence: unknown type %q", p.Type)
	}
}

func encodeValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode evidence: %w", err)
	}
	return string(b), nil
}
