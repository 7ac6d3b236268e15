package signing

import (
	"esign/internal/evidence"
	"esign/internal/order"
	"esign/internal/pdf/seal"
)

// sealAppearance is the signature appearance that applies to sig (its own, else the order's),
// filled from the evidence's claims by the domain; nil keeps the seal's default lines.
func sealAppearance(o *order.SignatureOrder, sig *order.Signatory, ev evidence.Evidence) *seal.Appearance {
	a := o.AppearanceFor(sig)
	if a == nil {
		return nil
	}
	claims := ev.Claims
	if _, ok := claims["name"]; !ok && ev.Name != "" {
		// A drawn signature has no claims but may have the name the signatory typed: offered as
		// "name", the claim an ID token would carry it in.
		claims = map[string]any{"name": ev.Name}
		for k, v := range ev.Claims {
			claims[k] = v
		}
	}
	r := a.Render(claims)
	return &seal.Appearance{HeaderLeft: r.HeaderLeft, DisplayName: r.DisplayName, Identifier: r.Identifier, Footer: r.Footer}
}

// displayDocumentID is the edge where d shows its document ID, or "" for none.
func displayDocumentID(d *order.Document) string {
	if d.DisplayDocumentID == nil {
		return ""
	}
	return *d.DisplayDocumentID
}
