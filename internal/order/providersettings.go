package order

import (
	"fmt"

	"esign/internal/fault"
)

// ProviderSettings are one signatory's own settings of one of the order's evidence providers
// (Criipto's per-signatory evidenceProviders: [{id, criiptoVerify: {acrValues, loginHint, message,
// scope}}]): who the login is for and how it is asked, never which broker or client it is.
type ProviderSettings struct {
	ID            string                 `json:"id"`
	CriiptoVerify *CriiptoVerifySettings `json:"criiptoVerify,omitempty"`
}

// CriiptoVerifySettings replace the provider's values they give (nil: the provider's own).
type CriiptoVerifySettings struct {
	AcrValues []string `json:"acrValues,omitempty"`
	LoginHint *string  `json:"loginHint,omitempty"`
	Message   *string  `json:"message,omitempty"`
	Scope     *string  `json:"scope,omitempty"`
}

// checkProviderSettings checks settings against the signatory's chosen providers (ids, by input
// position: settings[i] belongs to ids[i] when its ID is set) and keeps the ones that set anything.
func (o *SignatureOrder) checkProviderSettings(field string, ids []string, settings []ProviderSettings) ([]ProviderSettings, error) {
	var out []ProviderSettings
	for i, ps := range settings {
		if ps.CriiptoVerify == nil {
			continue
		}
		f := fmt.Sprintf("%s[%d]", field, i)
		p := o.provider(ps.ID)
		switch {
		case p == nil:
			return nil, fault.Invalid(f+".id", "%q is not an evidence provider of this order", ps.ID)
		case p.CriiptoVerify == nil:
			return nil, fault.Invalid(f+".criiptoVerify", "provider %q is not a criiptoVerify provider", ps.ID)
		}
		c := ps.CriiptoVerify
		if err := checkVerifyTexts(f+".criiptoVerify", &CriiptoVerifyProvider{AcrValues: c.AcrValues, LoginHint: c.LoginHint,
			Message: c.Message, Scope: c.Scope}); err != nil {
			return nil, err
		}
		for _, prev := range out {
			if prev.ID == ps.ID {
				return nil, fault.Invalid(f+".id", "provider %q is given twice", ps.ID)
			}
		}
		if c.AcrValues == nil && c.LoginHint == nil && c.Message == nil && c.Scope == nil {
			continue
		}
		out = append(out, ps)
	}
	return out, nil
}

// withSettings is p as signatory s uses it: their own settings applied to a copy.
func (s *Signatory) withSettings(p EvidenceProvider) EvidenceProvider {
	for _, ps := range s.ProviderSettings {
		if ps.ID != p.ID || ps.CriiptoVerify == nil || p.CriiptoVerify == nil {
			continue
		}
		c := *p.CriiptoVerify
		if v := ps.CriiptoVerify.AcrValues; v != nil {
			c.AcrValues = v
		}
		if v := ps.CriiptoVerify.LoginHint; v != nil {
			c.LoginHint = v
		}
		if v := ps.CriiptoVerify.Message; v != nil {
			c.Message = v
		}
		if v := ps.CriiptoVerify.Scope; v != nil {
			c.Scope = v
		}
		p.CriiptoVerify = &c
	}
	return p
}
