package signing

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
)

// VerifyConfig is the OpenID Connect eID broker that criiptoVerify evidence providers log in with.
type VerifyConfig struct {
	Domain       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)
}

// LoginCode is what the identity provider sent back to the redirect URI.
type LoginCode struct {
	Code, State string
}

// LoginStart is what a login is started for.
type LoginStart struct {
	ProviderID  string // the order's or signatory's evidence provider
	AcrValue    string
	RedirectURI string
	Stage       string // VIEW: to see the documents; SIGN: to sign
	IDTokenHint string
	Browser     string // binds the login to the hosted page's cookie; "" for API callers
	// Form is the document form values the signatory typed before a SIGN-stage login: kept on the
	// server (encrypted, once, for evidence.LoginTTL) and given back by TakeLoginForm at the callback.
	Form []DocumentForm
	// Drawing is the signature drawn before a SIGN-stage login of an allOf provider with a login
	// and a drawable member: checked by the drawable's rules now, kept like Form, and signed with
	// the login at the callback.
	Drawing *DrawableInput
}

// StartLogin is startCriiptoVerifyEvidenceProvider: the URL to send the signatory to, for the
// provider's login at the given stage.
func (s *Service) StartLogin(ctx context.Context, sp SignatoryPrincipal, in LoginStart) (authURL, state string, err error) {
	stage, providerID := in.Stage, in.ProviderID
	if s.cfg.Login == nil {
		return "", "", fault.NotImplemented("OpenID Connect login (no login flow is configured)")
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return "", "", err
	}
	if stage != order.EvidenceStageView && stage != order.EvidenceStageSign && stage != order.LoginStageDownload {
		return "", "", fault.Invalid("stage", "must be VIEW or SIGN")
	}
	if stage == order.LoginStageDownload {
		if err := s.checkDownloadLogin(ctx, o, sig, sp, providerID); err != nil {
			return "", "", err
		}
	}
	if stage == order.EvidenceStageSign {
		if err := requireViewAccess(o, sp); err != nil {
			return "", "", err
		}
		if _, err := o.CheckCanSign(sig.ID, s.Now()); err != nil {
			return "", "", err
		}
	}
	if len(in.Form) > 0 && stage != order.EvidenceStageSign {
		return "", "", fault.Invalid("form", "is carried by a SIGN-stage login only")
	}
	if in.Drawing != nil && stage != order.EvidenceStageSign {
		return "", "", fault.Invalid("drawable", "is carried by a SIGN-stage login only")
	}
	p, err := loginProvider(o, sig, providerID)
	if err != nil {
		return "", "", err
	}
	var formID string
	if len(in.Form) > 0 || in.Drawing != nil {
		// Refused here, before the signatory leaves for the identity provider and before anything
		// is stored.
		if err := checkLoginForm(o, sig, in.Form, s.Now()); err != nil {
			return "", "", err
		}
		if in.Drawing != nil {
			if err := checkLoginDrawing(o, sig, providerID, in.Drawing); err != nil {
				return "", "", err
			}
		}
		formID = rand.Text()
	}
	req := evidence.LoginRequest{Client: s.loginClient(p), RedirectURI: in.RedirectURI, AcrValue: in.AcrValue,
		IDTokenHint: in.IDTokenHint, For: evidence.LoginPurpose{OrderID: o.ID, SignatoryID: sig.ID,
			ProviderID: providerID, Stage: stage, Browser: in.Browser, Form: formID}}
	req.Scope, req.LoginHint = loginScope(p)
	authURL, state, err = s.cfg.Login.Start(ctx, req)
	if err != nil || formID == "" {
		return authURL, state, err
	}
	// Kept after the start succeeded, so a refused start leaves nothing behind.
	if err := s.keepLoginForm(ctx, o.ID, sig.ID, formID, KeptLoginForm{Documents: in.Form, Drawing: in.Drawing}); err != nil {
		return "", "", err
	}
	return authURL, state, nil
}

// LoginState is what a login's state says it was started for: the hosted page's callback finds the
// signatory by it.
func (s *Service) LoginState(state string) (evidence.LoginPurpose, error) {
	if s.cfg.Login == nil {
		return evidence.LoginPurpose{}, fault.NotImplemented("OpenID Connect login (no login flow is configured)")
	}
	return s.cfg.Login.Purpose(state)
}

// CompleteViewLogin is completeCriiptoVerifyEvidenceProvider: it completes a VIEW-stage login and
// returns the ID token that the signatory then presents as Signatory-Validation.
func (s *Service) CompleteViewLogin(ctx context.Context, sp SignatoryPrincipal, code LoginCode, browser string) (providerID, jwt string, err error) {
	purpose, err := s.LoginState(code.State)
	if err != nil {
		return "", "", err
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return "", "", err
	}
	ev, err := s.completeLogin(ctx, o, sig, purpose.ProviderID, order.EvidenceStageView, code, browser)
	if err != nil {
		return "", "", err
	}
	if err := s.recordLogin(ctx, sp, purpose.ProviderID, ev); err != nil {
		return "", "", err
	}
	return purpose.ProviderID, evidence.RawJWT(ev), nil
}

func (s *Service) completeLogin(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, providerID, stage string, code LoginCode, browser string) (evidence.Evidence, error) {
	if s.cfg.Login == nil {
		return evidence.Evidence{}, fault.NotImplemented("OpenID Connect login (no login flow is configured)")
	}
	p, err := loginProvider(o, sig, providerID)
	if err != nil {
		return evidence.Evidence{}, err
	}
	// The kept form's id is carried, not checked, here: TakeLoginForm scopes it to the order and
	// signatory, and the rest of the purpose must match.
	started, err := s.cfg.Login.Purpose(code.State)
	if err != nil {
		return evidence.Evidence{}, err
	}
	ev, err := s.cfg.Login.Complete(ctx, s.loginClient(p), code.Code, code.State, evidence.LoginPurpose{
		OrderID: o.ID, SignatoryID: sig.ID, ProviderID: providerID, Stage: stage, Browser: browser, Form: started.Form})
	if err != nil {
		return evidence.Evidence{}, err
	}
	if err := evidence.CheckValidation(sig.EvidenceValidation, ev); err != nil {
		return evidence.Evidence{}, err
	}
	return ev, nil
}

// ValidateViewer checks a Signatory-Validation header ("<evidenceProviderId>:<jwt>"): an ID token of
// one of the signatory's login providers that satisfies their evidenceValidation. The returned
// principal may see the documents of an order with evidenceValidationStages VIEW.
func (s *Service) ValidateViewer(ctx context.Context, sp SignatoryPrincipal, header string) (SignatoryPrincipal, error) {
	providerID, jwt, ok := strings.Cut(header, ":")
	if !ok || jwt == "" {
		return sp, fault.Invalid("Signatory-Validation", "must be <evidenceProviderId>:<jwt>")
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return sp, err
	}
	p, err := loginProvider(o, sig, providerID)
	if err != nil {
		return sp, err
	}
	if s.cfg.JWT == nil {
		return sp, fault.NotImplemented("ID token verification (no verifier configured)")
	}
	c := s.loginClient(p)
	ev, err := s.cfg.JWT.Verify(ctx, c.Domain, c.ClientID, c.AcrValues, jwt)
	if err != nil {
		return sp, err
	}
	if err := evidence.CheckValidation(sig.EvidenceValidation, ev); err != nil {
		return sp, err
	}
	sp.ViewValidated = true
	return sp, nil
}

// loginProvider is the signatory's provider that logs in with OpenID Connect: the one named, or the
// login member of the allOf provider named.
func loginProvider(o *order.SignatureOrder, sig *order.Signatory, providerID string) (order.EvidenceProvider, error) {
	for _, p := range o.SignatoryProviders(sig) {
		if p.ID != providerID {
			continue
		}
		if p.Kind == order.ProviderAllOf {
			for _, sub := range p.AllOf {
				if sub.OIDC != nil || sub.CriiptoVerify != nil {
					return sub, nil
				}
			}
		}
		if p.OIDC != nil || p.CriiptoVerify != nil {
			return p, nil
		}
		return order.EvidenceProvider{}, fault.Invalid("id", "%q is not an OpenID Connect evidence provider", providerID)
	}
	return order.EvidenceProvider{}, fault.Invalid("id", "%q is not an evidence provider this signatory may use", providerID)
}

// loginClient is the relying party for a provider: an oidc provider names its own; criiptoVerify
// uses the server's broker (with its secret, when the domain is still the configured one).
func (s *Service) loginClient(p order.EvidenceProvider) evidence.LoginClient {
	if p.OIDC != nil {
		return evidence.LoginClient{Domain: p.OIDC.Domain, ClientID: p.OIDC.ClientID, Audience: p.OIDC.Audience, AcrValues: p.OIDC.AcrValues}
	}
	c := evidence.LoginClient{Domain: p.CriiptoVerify.Domain, ClientID: p.CriiptoVerify.ClientID, AcrValues: p.CriiptoVerify.AcrValues}
	if v := s.cfg.Verify; v != nil && v.Domain == c.Domain && v.ClientID == c.ClientID {
		c.ClientSecret = v.ClientSecret
	}
	return c
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// loginScope is the scope (besides openid) and login_hint a login provider's login asks with.
func loginScope(p order.EvidenceProvider) (scope, hint string) {
	switch {
	case p.CriiptoVerify != nil:
		return deref(p.CriiptoVerify.Scope), loginHint(p.CriiptoVerify)
	case p.OIDC != nil:
		return "profile email", ""
	}
	return "", ""
}

// loginHint is the login_hint a criiptoVerify login asks with: the provider's (or signatory's)
// loginHint and, when it has a message, Criipto Verify's "message:" hint with the text in base64
// (shown by the eIDs that can show one, such as BankID), space-separated.
func loginHint(c *order.CriiptoVerifyProvider) string {
	hints := []string{}
	if h := deref(c.LoginHint); h != "" {
		hints = append(hints, h)
	}
	if m := deref(c.Message); m != "" {
		hints = append(hints, "message:"+base64.StdEncoding.EncodeToString([]byte(m)))
	}
	return strings.Join(hints, " ")
}
