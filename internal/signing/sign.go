package signing

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/pdf/seal"
)

// DocumentSealer seals one document for one signature: it embeds the evidence, places the visible
// seal and signs the PDF as an incremental update (package pdf/pades through the seal wiring).
type DocumentSealer interface {
	Seal(ctx context.Context, pdf []byte, req seal.Request) ([]byte, error)
}

// The PAdES wiring in package pdf/seal is what the server configures for both.
var (
	_ DocumentSealer    = (*seal.Sealer)(nil)
	_ DocumentFinalizer = (*seal.Finalizer)(nil)
)

// SignInput is the evidence a signatory presents with sign.
type SignInput struct {
	ProviderID string
	Noop       bool
	Drawable   *DrawableInput
	// OIDCJWT is an ID token from an oidc provider.
	OIDCJWT *string
	// VerifyJWT is an ID token from a criiptoVerify provider's login (V1).
	VerifyJWT *string
	// VerifyCode completes a SIGN-stage login of a criiptoVerify or oidc provider (V2).
	VerifyCode *LoginCode
	// Browser binds VerifyCode to the hosted page's cookie ("" for API callers).
	Browser string
	// AllOf gives the evidence for an allOf provider's parts, one member per kind.
	AllOf *SignInput
	// Documents are the values the signatory fills in documents' own forms, written into each
	// document in the signatory's revision, before the seal.
	Documents []DocumentForm
}

// DrawableInput is a drawn signature.
type DrawableInput struct {
	Image []byte
	Name  *string
}

// Sign checks the evidence, seals every SIGNER document of the signatory and records the signature.
// Sealing happens outside the order's lock; if the order changed meanwhile (another signature
// landed), the new versions are discarded and the whole thing is tried again. Any failure leaves the
// signatory OPEN and no new blob behind.
func (s *Service) Sign(ctx context.Context, sp SignatoryPrincipal, in SignInput) (*order.SignatureOrder, *order.Signatory, error) {
	if s.cfg.Sealer == nil {
		return nil, nil, fault.NotImplemented("sign (no document sealer is configured)")
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return nil, nil, err
	}
	if err := requireViewAccess(o, sp); err != nil {
		return nil, nil, err
	}
	if _, err := o.CheckCanSign(sig.ID, s.Now()); err != nil {
		return nil, nil, err
	}
	forms, err := checkForms(o, sig, in.Documents, s.Now())
	if err != nil {
		return nil, nil, err
	}
	// The evidence is checked once: an authorization code can be exchanged only once.
	ev, err := s.evidenceFor(ctx, o, sig, in)
	if err != nil {
		return nil, nil, s.signError(ctx, o, sig.ID, err)
	}
	if err := evidence.CheckValidation(sig.EvidenceValidation, ev); err != nil {
		return nil, nil, s.signError(ctx, o, sig.ID, err)
	}
	updated, err := s.sealAndRecord(ctx, sp, o, sig, in, ev, forms)
	if err != nil {
		return nil, nil, err
	}
	return updated, updated.Signatory(sig.ID), nil
}

// sealAndRecord is the second half of Sign, for evidence already checked: it seals every SIGNER
// document of the signatory with ev and records the signature (its events and audit entries) in one
// update of the order. in is what the signatory presented (its ProviderID is the provider's id in
// this order), for the audit trail. A batch signatory (SignBatch) runs it once per order with the
// same evidence.
func (s *Service) sealAndRecord(ctx context.Context, sp SignatoryPrincipal, o *order.SignatureOrder, sig *order.Signatory,
	in SignInput, ev evidence.Evidence, forms map[string]formInput) (*order.SignatureOrder, error) {
	var updated *order.SignatureOrder
	err := s.writeVersions(ctx, o.ID, "signing", func(first bool) ([]order.DocumentVersion, error) {
		if !first {
			var err error
			if o, sig, err = s.signatoryOrder(ctx, sp); err != nil {
				return nil, err
			}
			if _, err := o.CheckCanSign(sig.ID, s.Now()); err != nil {
				return nil, err
			}
		}
		// Checked here to avoid sealing in vain, and again under the lock against a racing signature.
		if err := o.ClaimEvidenceKey(sig.ID, ev.UniqueKey); err != nil {
			return nil, err
		}
		sealed, err := s.sealDocuments(ctx, o, sig, ev, forms)
		if err != nil {
			return nil, s.signError(ctx, o, sig.ID, err)
		}
		updated, err = s.store.UpdateOrder(ctx, o.ID, func(cur *order.SignatureOrder) error {
			if versionsDiffer(cur, o) {
				return errVersionsMoved
			}
			if _, err := cur.CheckCanSign(sig.ID, s.Now()); err != nil {
				return err
			}
			if err := cur.ClaimEvidenceKey(sig.ID, ev.UniqueKey); err != nil {
				return err
			}
			for _, v := range sealed {
				d := cur.Document(v.documentID)
				d.Versions = append(d.Versions, v.version)
			}
			cur.ActingAs(actorOf(ctx))
			cur.MarkSignedWith(sig.ID, s.Now(), signatureProof(cur, cur.Signatory(sig.ID), in, ev, sealed))
			return nil
		})
		if _, domain := fault.As(err); err != nil && !domain && !errors.Is(err, errVersionsMoved) {
			err = fmt.Errorf("record signature of %s: %w", sig.ID, err)
		}
		return versionsOf(sealed), err
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// signError raises SIGNATORY_SIGN_ERROR for a failed signature (with the message the caller gets,
// never internals) and returns err unchanged. The event is best effort: failing to record it must
// not hide the signing error.
func (s *Service) signError(ctx context.Context, o *order.SignatureOrder, signatoryID string, err error) error {
	if o.Webhook == nil {
		return err
	}
	msg := "the signature could not be completed"
	if de, ok := fault.As(err); ok {
		msg = de.Error()
	}
	_, uerr := s.store.UpdateOrder(context.WithoutCancel(ctx), o.ID, func(cur *order.SignatureOrder) error {
		cur.ActingAs(actorOf(ctx))
		cur.SignError(signatoryID, msg, s.Now())
		return nil
	})
	if uerr != nil {
		s.log.ErrorContext(ctx, "record sign error event failed", "order", o.ID, "err", uerr)
	}
	return err
}

type sealedVersion struct {
	documentID string
	version    order.DocumentVersion
	sha256     string // hex SHA-256 of the new version, for the audit trail (not stored in clear)
}

func versionsOf(sealed []sealedVersion) []order.DocumentVersion {
	out := make([]order.DocumentVersion, len(sealed))
	for i, v := range sealed {
		out[i] = v.version
	}
	return out
}

// sealDocuments seals and stores a new version of each of the signatory's SIGNER documents (the
// ones they only view or approve are not sealed); on failure it removes what it stored.
func (s *Service) sealDocuments(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, ev evidence.Evidence,
	forms map[string]formInput) ([]sealedVersion, error) {
	var sealed []sealedVersion
	fail := func(err error) ([]sealedVersion, error) {
		s.deleteBlobs(context.WithoutCancel(ctx), o.ID, versionsOf(sealed))
		return nil, err
	}
	now := s.Now()
	for _, id := range o.SignatoryDocumentsToSeal(sig) {
		d := o.Document(id)
		cur := d.Current()
		if cur == nil {
			return fail(fault.Conflictf("document %q is no longer stored", d.Title))
		}
		current, err := s.readVersion(ctx, o, d, cur)
		if err != nil {
			return fail(err)
		}
		name := ev.Name
		if name == "" && sig.SigningAs != nil {
			name = *sig.SigningAs
		}
		ui := o.UIFor(sig)
		placements, err := s.resolvePlacements(ctx, o, sig, d)
		if err != nil {
			return fail(err)
		}
		sealIndex := len(d.Versions) - 1
		var template *pades.SealsPageTemplate
		if sealIndex == 0 && len(placements) == 0 {
			// Only the first seal appends a seals page, and not when the seal is placed on the
			// document's own pages: only then is the template read.
			if template, err = s.readTemplate(ctx, o, d); err != nil {
				return fail(err)
			}
		}
		out, err := s.cfg.Sealer.Seal(ctx, current, seal.Request{Evidence: ev, SignatoryName: name, Time: now,
			Language: ui.Language, Timezone: o.Timezone,
			SealIndex: sealIndex, MaxSignatories: o.MaxSignatories, DocumentID: d.DocumentID,
			Placements: placements, Form: forms[d.ID].fields, Appearance: sealAppearance(o, sig, ev),
			DisplayDocumentID: displayDocumentID(d), SealsPageTemplate: template})
		if err != nil {
			// A form value the document cannot take is the signatory's to correct.
			if ferr := formFieldError(forms[d.ID], err); ferr != nil {
				return fail(ferr)
			}
			// Sealing failures (TSA down, HSM error) are the service's, not the signatory's: logged with
			// the cause, answered as retryable.
			s.log.ErrorContext(ctx, "seal failed", "order", o.ID, "document", d.ID, "signatory", sig.ID, "err", err)
			// Except a document the PDF checks refuse (stored before they counted what its streams
			// inflate to): retrying cannot help, so it is named with the rule it breaks.
			var problem *pdf.Problem
			if errors.As(err, &problem) {
				return fail(fault.Invalid("", "Document %s %s; nothing was signed", d.Title, problem.Reason))
			}
			return fail(fault.Retryablef("Document %s could not be sealed right now; nothing was signed, please try again", d.Title))
		}
		v, err := s.putVersion(ctx, o, d, cur.Number+1, out)
		if err != nil {
			return fail(err)
		}
		v.SignedBy = sig.ID
		sealed = append(sealed, sealedVersion{documentID: d.ID, version: v, sha256: fmt.Sprintf("%x", sha256.Sum256(out))})
	}
	return sealed, nil
}

// JWTChecker verifies ID tokens (evidence.JWTVerifier).
type JWTChecker interface {
	Verify(ctx context.Context, domain, audience string, acrValues []string, rawJWT string) (evidence.Evidence, error)
}

// evidenceFor checks the presented evidence against the provider the signatory chose.
func (s *Service) evidenceFor(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, in SignInput) (evidence.Evidence, error) {
	var provider *order.EvidenceProvider
	for _, p := range o.SignatoryProviders(sig) {
		if p.ID == in.ProviderID {
			provider = &p
			break
		}
	}
	if provider == nil {
		return evidence.Evidence{}, fault.Invalid("id", "%q is not an evidence provider this signatory may use", in.ProviderID)
	}
	ev, err := s.checkEvidence(ctx, o, sig, "input", *provider, in)
	if err != nil {
		return evidence.Evidence{}, err
	}
	if key := provider.UniqueEvidenceKey(); key != "" {
		ev.UniqueKey = evidence.UniqueKey(ev, key)
		if ev.UniqueKey == "" {
			return evidence.Evidence{}, fault.Invalid("input", "the evidence lacks the claim %q that tells signatories apart", key)
		}
	}
	return ev, nil
}

func (s *Service) checkEvidence(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, field string, p order.EvidenceProvider, in SignInput) (evidence.Evidence, error) {
	if in.VerifyCode != nil && (p.Kind == order.ProviderOIDC || p.Kind == order.ProviderCriiptoVerify) {
		return s.completeLogin(ctx, o, sig, in.ProviderID, order.EvidenceStageSign, *in.VerifyCode, in.Browser)
	}
	switch p.Kind {
	case order.ProviderNoop:
		if !in.Noop {
			return evidence.Evidence{}, fault.Invalid(field+".noop", "must be true for the noop evidence provider")
		}
		return evidence.Evidence{}, nil
	case order.ProviderDrawable:
		if in.Drawable == nil {
			return evidence.Evidence{}, fault.Invalid(field+".drawable", "is required for a drawable evidence provider")
		}
		return evidence.Drawable(p.Drawable, in.Drawable.Image, in.Drawable.Name)
	case order.ProviderAllOf:
		if in.AllOf == nil {
			return evidence.Evidence{}, fault.Invalid(field+".allOf", "is required for an allOf evidence provider")
		}
		parts := make([]evidence.Evidence, len(p.AllOf))
		for i, sub := range p.AllOf {
			member := *in.AllOf
			member.ProviderID, member.Browser = in.ProviderID, in.Browser
			e, err := s.checkEvidence(ctx, o, sig, field+".allOf", sub, member)
			if err != nil {
				return evidence.Evidence{}, err
			}
			parts[i] = e
		}
		return evidence.Composite(parts)
	case order.ProviderOIDC:
		if in.OIDCJWT == nil {
			return evidence.Evidence{}, fault.Invalid(field+".oidc.jwt", "is required for an oidc evidence provider")
		}
		if s.cfg.JWT == nil {
			return evidence.Evidence{}, fault.NotImplemented("oidc evidence (no verifier configured)")
		}
		ev, err := s.cfg.JWT.Verify(ctx, p.OIDC.Domain, p.OIDC.Audience, p.OIDC.AcrValues, *in.OIDCJWT)
		return ev, fault.Within(field+".oidc", err)
	case order.ProviderCriiptoVerify:
		if in.VerifyJWT == nil {
			return evidence.Evidence{}, fault.Invalid(field+".criiptoVerifyV2", "is required for a criiptoVerify evidence provider")
		}
		if s.cfg.JWT == nil {
			return evidence.Evidence{}, fault.NotImplemented("criiptoVerify evidence (no verifier configured)")
		}
		c := s.loginClient(p)
		ev, err := s.cfg.JWT.Verify(ctx, c.Domain, c.ClientID, c.AcrValues, *in.VerifyJWT)
		return ev, fault.Within(field+".criiptoVerify", err)
	default:
		return evidence.Evidence{}, fault.NotImplemented(fmt.Sprintf("signing with the %s evidence provider", p.Kind))
	}
}

// SignActingAs lets the application sign for one of its signatories whose documents are all
// preapproved (the contract's signActingAs); the VIEWER ones need no approval.
func (s *Service) SignActingAs(ctx context.Context, p Principal, signatoryID string, in SignInput) (*order.SignatureOrder, *order.Signatory, error) {
	if err := requireWrite(p); err != nil {
		return nil, nil, err
	}
	o, err := s.OrderOfSignatory(ctx, p, signatoryID)
	if err != nil {
		return nil, nil, err
	}
	if o == nil {
		return nil, nil, fault.NotFoundf("signatoryId: no signatory with id %q", signatoryID)
	}
	sig := o.Signatory(signatoryID)
	for _, id := range o.SignatoryDocumentsToApprove(sig) {
		if st := sig.SignatoryDocumentStatus(id); st == nil || *st != order.DocumentPreapproved {
			return nil, nil, fault.Conflictf("signActingAs needs every document of the signatory to be preapproved")
		}
	}
	return s.Sign(withoutActor(ctx), SignatoryPrincipal{OrderID: o.ID, SignatoryID: signatoryID}, in)
}
