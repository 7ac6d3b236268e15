package signing

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"esign/internal/evidence"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf/pades"
)

// DownloadVerification is a fresh login presented for a download (DownloadVerificationInput, or the
// hosted download page's login): the ID token and which provider it is from. GraphQL names the kind
// (oidc, criiptoVerify), the page the provider id; an empty one is not checked.
type DownloadVerification struct {
	ProviderKind order.ProviderKind
	ProviderID   string
	JWT          string
}

// Download is a signatory's download as they may see it now (SignatoryViewerDownload).
type Download struct {
	// Exists is false while no download can exist yet (order still open, or nothing of the
	// signatory's to take away): GraphQL answers download null, and there is no downloadHref.
	Exists  bool
	Expired bool
	// VerificationRequired: the signatory must log in again with VerificationProvider (a login
	// provider of theirs, or the allOf provider holding it) to get the documents.
	VerificationRequired bool
	VerificationProvider *order.EvidenceProvider
	// Documents are the signatory's documents, nil unless the download is allowed now.
	Documents []order.Document
}

// SignatoryDownload is the signatory's download with the verification they present (nil for none).
// A verification that does not prove what the download asks is refused with the reason; without one,
// a download that needs it answers VerificationRequired and no documents.
func (s *Service) SignatoryDownload(ctx context.Context, sp SignatoryPrincipal, v *DownloadVerification) (Download, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return Download{}, err
	}
	out, _, err := s.download(ctx, o, sig, sp, v)
	return out, err
}

// SignatoryDownloadDocument is one document of the signatory's download: empty when it is not one
// of theirs or the download has expired; Forbidden while the verification is missing.
func (s *Service) SignatoryDownloadDocument(ctx context.Context, sp SignatoryPrincipal, v *DownloadVerification, documentID string) (DocumentBytes, error) {
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return DocumentBytes{}, err
	}
	d, allowed, err := s.download(ctx, o, sig, sp, v)
	if err != nil {
		return DocumentBytes{}, err
	}
	if !allowed {
		if d.VerificationRequired {
			return DocumentBytes{}, fault.Forbiddenf("log in again to download the documents")
		}
		return DocumentBytes{}, nil
	}
	for i := range d.Documents {
		if d.Documents[i].ID != documentID {
			continue
		}
		doc := o.Document(documentID)
		b, err := s.readDocument(ctx, o, doc)
		if err != nil || b.Current == nil {
			return b, err
		}
		// The audit trail says who took the documents away, from where: written before the bytes
		// are handed out, so no download goes unrecorded.
		version := doc.Current().Number
		if _, err := s.store.UpdateOrder(ctx, o.ID, func(cur *order.SignatureOrder) error {
			cur.ActingAs(actorOf(ctx))
			cur.RecordDownload(sig.ID, documentID, version, s.Now())
			return nil
		}); err != nil {
			return DocumentBytes{}, fmt.Errorf("record the download of %s by %s: %w", documentID, sig.ID, err)
		}
		return b, nil
	}
	return DocumentBytes{}, nil
}

// DownloadHref is the hosted download page of one of p's signatories, nil while no download can
// exist yet, and for a READ_ONLY key: the link carries the signatory's token, which also signs.
func (s *Service) DownloadHref(p Principal, o *order.SignatureOrder, sig *order.Signatory) *string {
	if !p.CanWrite() || !o.DownloadOf(sig, s.Now()).Exists {
		return nil
	}
	href := s.SignatoryDownloadHref(sig.ID)
	return &href
}

// SignatoryDownloadHref is the download page link of a signatory.
func (s *Service) SignatoryDownloadHref(signatoryID string) string {
	return s.SignatoryHref(signatoryID) + "/download"
}

// CompleteDownloadLogin completes a download login (order.LoginStageDownload) started on the hosted
// page and returns the ID token the page then presents as the DownloadVerification.
func (s *Service) CompleteDownloadLogin(ctx context.Context, sp SignatoryPrincipal, code LoginCode, browser string) (providerID, jwt string, err error) {
	purpose, err := s.LoginState(code.State)
	if err != nil {
		return "", "", err
	}
	if purpose.Stage != order.LoginStageDownload {
		return "", "", fault.Invalid("state", "is not a download login")
	}
	o, sig, err := s.signatoryOrder(ctx, sp)
	if err != nil {
		return "", "", err
	}
	ev, err := s.completeLogin(ctx, o, sig, purpose.ProviderID, order.LoginStageDownload, code, browser)
	if err != nil {
		return "", "", err
	}
	return purpose.ProviderID, evidence.RawJWT(ev), nil
}

// checkDownloadLogin refuses to start a download login that no download asks for.
func (s *Service) checkDownloadLogin(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, sp SignatoryPrincipal, providerID string) error {
	proof, err := s.downloadProof(ctx, o, sig, sp, o.DownloadOf(sig, s.Now()))
	if err != nil {
		return err
	}
	if proof == nil {
		return fault.Conflictf("this signatory has no download that asks for a login")
	}
	if proof.Provider.ID != providerID {
		return fault.Invalid("id", "the download asks for a login with the evidence provider %q", proof.Provider.ID)
	}
	return nil
}

// download is the signatory's download with v checked; allowed reports whether the documents may be
// given now.
func (s *Service) download(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, sp SignatoryPrincipal, v *DownloadVerification) (Download, bool, error) {
	d := o.DownloadOf(sig, s.Now())
	out := Download{Exists: d.Exists, Expired: d.Expired}
	if !d.Exists || d.Expired {
		return out, false, nil
	}
	proof, err := s.downloadProof(ctx, o, sig, sp, d)
	if err != nil {
		return Download{}, false, err
	}
	if proof != nil {
		p := proof.Provider
		out.VerificationRequired, out.VerificationProvider = true, &p
		if v == nil {
			return out, false, nil
		}
		if err := s.checkDownloadVerification(ctx, sig, proof, *v); err != nil {
			return Download{}, false, err
		}
	}
	out.Documents = make([]order.Document, len(d.Documents))
	for i, doc := range d.Documents {
		out.Documents[i] = *doc
	}
	return out, true, nil
}

// downloadProof is what the signatory must prove to download d: it reads the evidence of their
// signature back from the version it made (the evidence is kept in the encrypted PDF only).
func (s *Service) downloadProof(ctx context.Context, o *order.SignatureOrder, sig *order.Signatory, sp SignatoryPrincipal, d order.Download) (*order.DownloadProof, error) {
	if !d.Exists || d.Expired {
		return nil, nil
	}
	var signed *order.SignatureLogin
	if d.Signed != nil {
		var err error
		if signed, err = s.signatureLogin(ctx, o, d.Signed); err != nil {
			return nil, fmt.Errorf("read the signature of %s: %w", sig.ID, err)
		}
	}
	return o.DownloadProofFor(sig, d, signed, sp.ViewValidated), nil
}

// signatureLogin is the ID token the signature of a signed version carries, nil when its evidence
// has none (drawn, noop). The signatory's signature is the version's last one that is not a
// document timestamp.
func (s *Service) signatureLogin(ctx context.Context, o *order.SignatureOrder, sv *order.SignedVersion) (*order.SignatureLogin, error) {
	data, err := s.readVersion(ctx, o, sv.Document, sv.Version)
	if err != nil {
		return nil, err
	}
	ctx, release, err := s.cfg.PDFAdmission.Admit(ctx, data)
	if err != nil {
		return nil, err
	}
	defer release()
	infos, err := pades.ReadSignatures(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("read signatures: %w", err)
	}
	var last *pades.SignatureInfo
	for i := range infos {
		if !infos[i].DocumentTimestamp {
			last = &infos[i]
		}
	}
	if last == nil {
		return nil, fmt.Errorf("document %s v%d has no signature", sv.Document.ID, sv.Version.Number)
	}
	ev, err := evidence.ParseContactInfo(last.ContactInfo)
	if err != nil {
		return nil, err
	}
	raw := signatureJWT(ev)
	if raw == "" {
		return nil, nil
	}
	claims, err := jwtClaims(raw)
	if err != nil {
		return nil, err
	}
	l := &order.SignatureLogin{}
	l.Issuer, _ = claims["iss"].(string)
	l.Subject, _ = claims["sub"].(string)
	switch aud := claims["aud"].(type) {
	case string:
		l.Audience = []string{aud}
	case []any:
		for _, a := range aud {
			if a, ok := a.(string); ok {
				l.Audience = append(l.Audience, a)
			}
		}
	}
	return l, nil
}

// signatureJWT is the ID token of a signature's evidence (its first, inside composite evidence).
func signatureJWT(ev evidence.Signature) string {
	if ev.Type == evidence.TypeJWT {
		return ev.JWT
	}
	for _, p := range ev.Parts {
		if p.Type == evidence.TypeJWT {
			return p.JWT
		}
	}
	return ""
}

// jwtClaims reads a JWT's claims without checking it: only for tokens this service checked before
// it sealed them into a document it signed.
func jwtClaims(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("the signature's ID token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("the signature's ID token: %w", err)
	}
	claims := map[string]any{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("the signature's ID token: %w", err)
	}
	return claims, nil
}

// checkDownloadVerification verifies v's ID token as a login with the proof's provider (issuer
// keys, audience, expiry, acr: as signing checks it), against the signatory's evidenceValidation,
// and then that it proves what the download asks (order.DownloadProof.Accepts).
func (s *Service) checkDownloadVerification(ctx context.Context, sig *order.Signatory, proof *order.DownloadProof, v DownloadVerification) error {
	if v.ProviderID != "" && v.ProviderID != proof.Provider.ID {
		return fault.Invalid("verification", "must be a login with the evidence provider %q", proof.Provider.ID)
	}
	if v.ProviderKind != "" && v.ProviderKind != proof.Login.Kind {
		return fault.Invalid("verification", "must be a login with the signatory's %s evidence provider", proof.Login.Kind)
	}
	if strings.TrimSpace(v.JWT) == "" {
		return fault.Invalid("verification.jwt", "must not be empty")
	}
	if s.cfg.JWT == nil {
		return fault.NotImplemented("download verification (no ID token verifier is configured)")
	}
	c := s.loginClient(proof.Login)
	aud := c.Audience
	if aud == "" {
		aud = c.ClientID
	}
	ev, err := s.cfg.JWT.Verify(ctx, c.Domain, aud, c.AcrValues, v.JWT)
	if err != nil {
		return fault.Within("verification", err)
	}
	if err := evidence.CheckValidation(sig.EvidenceValidation, ev); err != nil {
		return fault.Within("verification", err)
	}
	l := order.VerifiedLogin{}
	l.Issuer, _ = ev.Claims["iss"].(string)
	l.Subject, _ = ev.Claims["sub"].(string)
	if iat, ok := ev.Claims["iat"].(float64); ok {
		l.IssuedAt = time.Unix(int64(iat), 0).UTC()
	}
	if proof.EvidenceKeyClaim != "" {
		l.EvidenceKey = evidence.UniqueKey(ev, proof.EvidenceKeyClaim)
	}
	return proof.Accepts(l, s.Now())
}
