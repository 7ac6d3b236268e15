package order

import (
	"encoding/json"
	"strconv"
	"strings"
)

// RenderedAppearance is a signatory's signature appearance with its templates filled from the
// evidence: the lines the visible seal shows instead of its default ones. A list is empty when the
// appearance has no templates for it (the seal then keeps its default there).
type RenderedAppearance struct {
	HeaderLeft  []string
	DisplayName []string
	Footer      []string
	// Identifier is the first claim named by identifierFromEvidence that the evidence holds: what
	// identifies the signer on the seal (an eID's national id, an email); empty when none is there.
	Identifier string
}

// AppearanceFor is the signature appearance that shapes sig's seal: the signatory's own when it has
// one, else the order's, else nil. The signatory's replaces the order's as a whole rather than field
// by field: identifierFromEvidence is required in every SignatureAppearanceInput, so a signatory's
// appearance is complete on its own, and merging would show the order's header above a signatory's
// footer that was written without it.
func (o *SignatureOrder) AppearanceFor(sig *Signatory) *SignatureAppearance {
	if sig != nil && sig.SignatureAppearance != nil {
		return sig.SignatureAppearance
	}
	return o.SignatureAppearance
}

// Render fills a's templates from claims (the evidence's identity claims; nil for evidence without
// any, such as a drawn signature). Rules:
//   - each placeholder is replaced, wherever it occurs in its template, by the first claim of its
//     fromEvidence list that the evidence holds with a non-empty value;
//   - a placeholder none of whose claims is there is replaced by nothing (not left as written: a
//     seal reading "{{ssn}}" tells the reader nothing and looks broken), and a line that is blank
//     once filled is left out, so an optional line (a title the eID may not carry) disappears;
//   - claim values are written as text: strings as they are, whole numbers without decimals,
//     booleans as true/false, anything else (objects, lists) as compact JSON.
//
// A nil a renders to the zero RenderedAppearance (the seal's default lines).
func (a *SignatureAppearance) Render(claims map[string]any) RenderedAppearance {
	if a == nil {
		return RenderedAppearance{}
	}
	r := RenderedAppearance{HeaderLeft: renderTemplates(a.HeaderLeft, claims), DisplayName: renderTemplates(a.DisplayName, claims),
		Footer: renderTemplates(a.Footer, claims)}
	r.Identifier, _ = firstClaim(a.IdentifierFromEvidence, claims)
	return r
}

func renderTemplates(ts []SignatureAppearanceTemplate, claims map[string]any) []string {
	var out []string
	for _, t := range ts {
		pairs := make([]string, 0, 2*len(t.Replacements))
		for _, rep := range t.Replacements {
			v, _ := firstClaim(rep.FromEvidence, claims)
			pairs = append(pairs, rep.Placeholder, v)
		}
		// One pass over the template: a claim's value that happens to contain another placeholder is
		// not expanded again (evidence is the signer's input, not a template).
		line := strings.NewReplacer(pairs...).Replace(t.Template)
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// firstClaim is the text of the first of names that claims holds with a non-empty value.
func firstClaim(names []string, claims map[string]any) (string, bool) {
	for _, n := range names {
		v, ok := claims[n]
		if !ok || v == nil {
			continue
		}
		if s := claimText(v); s != "" {
			return s, true
		}
	}
	return "", false
}

func claimText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
