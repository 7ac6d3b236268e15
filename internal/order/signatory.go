package order

import (
	"strconv"
	"time"

	"esign/internal/fault"
)

// What a signatory may do, and how their statuses move. Pure rules; the signing service applies them
// to the aggregate inside the store's transaction.

// SignatoryDocumentIDs returns the ids of the documents the signatory is given (their subset, or all).
func (o *SignatureOrder) SignatoryDocumentIDs(s *Signatory) []string {
	if s.Documents != nil {
		ids := make([]string, len(s.Documents))
		for i, sd := range s.Documents {
			ids[i] = sd.ID
		}
		return ids
	}
	ids := make([]string, len(o.Documents))
	for i, d := range o.Documents {
		ids[i] = d.ID
	}
	return ids
}

// SignatoryDocumentStatus is the signatory's status for a document: what they did, else PREAPPROVED
// when the document was preapproved for them, else none (nil).
func (s *Signatory) SignatoryDocumentStatus(documentID string) *DocumentStatus {
	if st, ok := s.DocumentStatus[documentID]; ok {
		return &st
	}
	for _, sd := range s.Documents {
		if sd.ID == documentID && sd.Preapproved {
			st := DocumentPreapproved
			return &st
		}
	}
	return nil
}

func (o *SignatureOrder) hasDocument(s *Signatory, documentID string) bool {
	for _, id := range o.SignatoryDocumentIDs(s) {
		if id == documentID {
			return true
		}
	}
	return false
}

// finished reports whether the signatory is done (their turn no longer blocks later ones).
func (s *Signatory) finished() bool {
	switch s.Status {
	case SignatorySigned, SignatoryApproved, SignatoryRejected:
		return true
	}
	return s.SignatoryRole == RoleViewer
}

// IsTurn reports whether every signatory with a lower signingSequence has finished: lower numbers go
// first, equal numbers in parallel.
func (o *SignatureOrder) IsTurn(s *Signatory) bool {
	for i := range o.Signatories {
		other := &o.Signatories[i]
		if other.ID != s.ID && other.SigningSequence < s.SigningSequence && !other.finished() {
			return false
		}
	}
	return true
}

// requireActive checks the order is open and the signatory may still act now.
func (o *SignatureOrder) requireActive(s *Signatory, now time.Time) error {
	if o.Status != StatusOpen {
		return fault.Conflictf("signature order is %s", o.Status)
	}
	if !now.Before(o.ExpiresAt) {
		return fault.Conflictf("signature order has expired")
	}
	if s.Status != SignatoryOpen {
		return fault.Conflictf("signatory is %s and cannot act again", s.Status)
	}
	if !o.IsTurn(s) {
		return fault.Conflictf("it is not this signatory's turn yet: signatories with a lower signingSequence go first")
	}
	return nil
}

// InCooldown says whether the signatory's cooldown (cooldownExpiresAt: "when the cooldown period
// expires and the signatory is allowed to perform their role") has not expired at now.
func (s *Signatory) InCooldown(now time.Time) bool {
	return s.CooldownExpiresAt != nil && now.Before(*s.CooldownExpiresAt)
}

// requireCooledDown refuses to approve, reject or sign during the signatory's cooldown.
func requireCooledDown(s *Signatory, now time.Time) error {
	if s.InCooldown(now) {
		return fault.Conflictf("the signatory may not act before their cooldown expires at %s (cooldownExpiresAt)",
			s.CooldownExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// SetDocumentStatus records a signatory's OPENED, APPROVED or REJECTED for one of their documents.
// A signatory who signs nothing (an APPROVER, or by document roles) becomes APPROVED once every
// document they are asked to approve is approved.
func (o *SignatureOrder) SetDocumentStatus(signatoryID, documentID string, status DocumentStatus, now time.Time) error {
	s := o.Signatory(signatoryID)
	if s == nil {
		return fault.NotFoundf("signatureOrder does not contain the defined signatory")
	}
	if err := o.requireActive(s, now); err != nil {
		return err
	}
	if !o.hasDocument(s, documentID) {
		return fault.Invalid("documentId", "%q is not one of this signatory's documents", documentID)
	}
	switch status {
	case DocumentOpened, DocumentApproved, DocumentRejected:
	default:
		return fault.Invalid("status", "must be OPENED, APPROVED or REJECTED")
	}
	if s.SignatoryRole == RoleViewer && status != DocumentOpened {
		return fault.Conflictf("a VIEWER can only open documents")
	}
	if s.DocumentRole(documentID) == RoleViewer && status != DocumentOpened {
		return fault.Conflictf("this document is only to be viewed (signatoryRole VIEWER): it can only be opened")
	}
	if status != DocumentOpened {
		if err := requireCooledDown(s, now); err != nil {
			return err
		}
	}
	if status == DocumentRejected && o.UIFor(s).DisableRejection {
		return fault.Conflictf("rejection is disabled for this signature order")
	}
	if current := s.SignatoryDocumentStatus(documentID); current != nil && (status == DocumentOpened || *current == status) {
		return nil // opening again does not undo an approval; the same status again changes nothing
	}
	if s.DocumentStatus == nil {
		s.DocumentStatus = map[string]DocumentStatus{}
	}
	s.DocumentStatus[documentID] = status
	o.raise(EventDocumentStatusChanged, now, field{"signatoryId", s.ID}, field{"documentId", documentID}, field{"status", string(status)})
	o.record(now, documentStatusAudit(status), s.ID, documentID)
	if o.approvesOnly(s) && s.Status != SignatoryApproved && o.allApproved(s) {
		s.Status = SignatoryApproved
		o.raise(EventSignatoryApproved, now, field{"signatoryId", s.ID})
		o.record(now, AuditSignatoryApproved, s.ID, "")
		o.raiseIfAllSigned(now)
	}
	return nil
}

// allApproved reports whether every document the signatory must approve (all but the VIEWER ones)
// is approved or preapproved.
func (o *SignatureOrder) allApproved(s *Signatory) bool {
	for _, id := range o.SignatoryDocumentsToApprove(s) {
		st := s.SignatoryDocumentStatus(id)
		if st == nil || (*st != DocumentApproved && *st != DocumentPreapproved) {
			return false
		}
	}
	return true
}

// UIFor is the signing page configuration the signatory sees: the signatory's own ui when it has
// one, where an unset redirect URI, logo or stylesheet falls back to the order's, because an
// integrator who only changes a signatory's language still expects the order's redirect and brand.
func (o *SignatureOrder) UIFor(s *Signatory) UI {
	if s.UI == nil {
		return o.UI
	}
	ui := *s.UI
	if ui.SignatoryRedirectURI == nil {
		ui.SignatoryRedirectURI = o.UI.SignatoryRedirectURI
	}
	if ui.Logo == nil {
		ui.Logo = o.UI.Logo
	}
	if ui.Stylesheet == nil {
		ui.Stylesheet = o.UI.Stylesheet
	}
	return ui
}

// Reject records that the signatory rejects the whole order, with an optional reason.
func (o *SignatureOrder) Reject(signatoryID string, reason *string, now time.Time) error {
	s := o.Signatory(signatoryID)
	if s == nil {
		return fault.NotFoundf("signatureOrder does not contain the defined signatory")
	}
	if err := o.requireActive(s, now); err != nil {
		return err
	}
	if o.UIFor(s).DisableRejection {
		return fault.Conflictf("rejection is disabled for this signature order")
	}
	if reason != nil {
		// The reason is stored, posted in the SIGNATORY_REJECTED webhook and shown to the integrator.
		if err := CheckText("reason", *reason, MaxMessageLen, true); err != nil {
			return err
		}
	}
	s.Status = SignatoryRejected
	s.StatusReason = reason
	o.raise(EventSignatoryRejected, now, field{"signatoryId", s.ID}, field{"reason", reason})
	o.record(now, AuditSignatoryRejected, s.ID, "", "reason", textOf(reason))
	return nil
}

// CheckCanSign reports whether the signatory may sign now: a SIGNER with a SIGNER document, whose
// turn it is, with every document but the VIEWER ones approved (or preapproved).
func (o *SignatureOrder) CheckCanSign(signatoryID string, now time.Time) (*Signatory, error) {
	s := o.Signatory(signatoryID)
	if s == nil {
		return nil, fault.NotFoundf("signatureOrder does not contain the defined signatory")
	}
	if err := o.requireActive(s, now); err != nil {
		return nil, err
	}
	if s.SignatoryRole != RoleSigner {
		return nil, fault.Conflictf("a %s does not sign", s.SignatoryRole)
	}
	if len(o.SignatoryDocumentsToSeal(s)) == 0 {
		return nil, fault.Conflictf("none of this signatory's documents is theirs to sign (signatoryRole SIGNER)")
	}
	if err := requireCooledDown(s, now); err != nil {
		return nil, err
	}
	if !o.allApproved(s) {
		return nil, fault.Conflictf("every document must be approved before signing")
	}
	return s, nil
}

// MarkSigned records a completed signature: each of the signatory's SIGNER documents SIGNED (the
// others keep what the signatory did with them).
func (o *SignatureOrder) MarkSigned(signatoryID string, now time.Time) {
	o.MarkSignedWith(signatoryID, now, SignatureProof{})
}

// MarkSignedWith is MarkSigned with how the signatory proved who they are, for the audit trail:
// their login (when proof.Login), each document's new version and the signature.
func (o *SignatureOrder) MarkSignedWith(signatoryID string, now time.Time, proof SignatureProof) {
	s := o.Signatory(signatoryID)
	if proof.Login {
		o.record(now, AuditSignatoryLogin, s.ID, "", append(proof.details(), "stage", EvidenceStageSign)...)
	}
	for _, id := range o.SignatoryDocumentIDs(s) {
		if v := o.Document(id).Current(); v != nil && v.SignedBy == s.ID {
			o.record(now, AuditDocumentSealed, s.ID, id, "version", strconv.Itoa(v.Number),
				"sha256", proof.SHA256[id], "fingerprint", v.Fingerprint)
		}
	}
	if s.DocumentStatus == nil {
		s.DocumentStatus = map[string]DocumentStatus{}
	}
	for _, id := range o.SignatoryDocumentsToSeal(s) {
		s.DocumentStatus[id] = DocumentSigned
	}
	s.Status = SignatorySigned
	s.StatusReason = nil
	o.raise(EventSignatorySigned, now, field{"signatoryId", s.ID})
	o.record(now, AuditSignatorySigned, s.ID, "", proof.details()...)
	o.raiseIfAllSigned(now)
}

// raiseIfAllSigned raises ALL_CURRENT_SIGNATORIES_SIGNED when every signer has signed and every
// approver approved (viewers do not count; a rejection means not everyone signed).
func (o *SignatureOrder) raiseIfAllSigned(now time.Time) {
	acting := 0
	for _, s := range o.Signatories {
		switch {
		case s.SignatoryRole == RoleViewer:
		case s.Status == SignatorySigned || s.Status == SignatoryApproved:
			acting++
		default:
			return
		}
	}
	if acting > 0 {
		o.raise(EventAllCurrentSignersSigned, now)
	}
}

// SignError tells the webhook that a signature attempt failed (the signatory stays OPEN and may
// try again).
func (o *SignatureOrder) SignError(signatoryID, message string, now time.Time) {
	o.raise(EventSignatorySignError, now, field{"error", message}, field{"signatoryId", signatoryID})
	o.record(now, AuditSignatorySignFailed, signatoryID, "", "error", message)
}

// AllCurrentSignatoriesSigned reports whether no signatory is still expected to act.
func (o *SignatureOrder) AllCurrentSignatoriesSigned() bool {
	for i := range o.Signatories {
		if !o.Signatories[i].finished() {
			return false
		}
	}
	return len(o.Signatories) > 0
}

// SignatoryProviders are the evidence providers the signatory may use: their chosen ones, or the
// order's enabled-by-default ones, with the signatory's own settings applied (ProviderSettings).
func (o *SignatureOrder) SignatoryProviders(s *Signatory) []EvidenceProvider {
	var out []EvidenceProvider
	for _, p := range o.EvidenceProviders {
		chosen := p.EnabledByDefault
		if s.EvidenceProviders != nil {
			chosen = false
			for _, id := range s.EvidenceProviders {
				chosen = chosen || id == p.ID
			}
		}
		if chosen {
			out = append(out, s.withSettings(p))
		}
	}
	return out
}

// Track records the first time a signatory opened their signing or download link.
func (o *SignatureOrder) Track(signatoryID string, download bool, now time.Time) error {
	s := o.Signatory(signatoryID)
	if s == nil {
		return fault.NotFoundf("signatureOrder does not contain the defined signatory")
	}
	at := &s.SignLinkOpenedAt
	if download {
		at = &s.DownloadLinkOpenedAt
	}
	if *at == nil {
		*at = &now
		event := EventSignLinkOpened
		if download {
			event = EventDownloadLinkOpened
		}
		o.raise(event, now, field{"signatoryId", s.ID})
		kind := AuditLinkOpened
		if download {
			kind = AuditDownloadLinkOpened
		}
		o.record(now, kind, s.ID, "")
	}
	return nil
}

// ClaimEvidenceKey records who signed (a hash from evidence.UniqueKey) and refuses a person who already
// signed this order as another signatory. An empty key claims nothing.
func (o *SignatureOrder) ClaimEvidenceKey(signatoryID, key string) error {
	if key == "" {
		return nil
	}
	for i := range o.Signatories {
		other := &o.Signatories[i]
		if other.ID != signatoryID && other.EvidenceKey == key {
			return fault.Conflictf("the same person has already signed this signature order as another signatory")
		}
	}
	o.Signatory(signatoryID).EvidenceKey = key
	return nil
}
