package order

import "time"

// What a signatory sees and may do now: computed once here, so that the GraphQL viewer, the
// application's view of a signatory and the hosted signing page give the same answers.

// Blocked is why a signatory cannot act now ("" when they can).
type Blocked string

// The reasons, in the order they are checked: what the signatory did comes first, then what
// became of the order, then whose turn it is.
const (
	BlockedNone      Blocked = ""
	BlockedSigned    Blocked = "signed"
	BlockedApproved  Blocked = "approved"
	BlockedRejected  Blocked = "rejected"
	BlockedClosed    Blocked = "closed"
	BlockedCancelled Blocked = "cancelled"
	BlockedExpired   Blocked = "expired"  // status EXPIRED, or past ExpiresAt before the sweeper saw it
	BlockedNotOpen   Blocked = "not open" // the signatory is in no state to act (none is stored today)
	BlockedNotTurn   Blocked = "not turn" // a lower signingSequence has not finished; never a VIEWER
	BlockedCooldown  Blocked = "cooldown" // before the signatory's cooldownExpiresAt; never a VIEWER
)

// SignatoryView is what a signatory sees and may do at one moment.
type SignatoryView struct {
	Order     *SignatureOrder
	Signatory *Signatory
	// UI is the signing page configuration the signatory sees (UIFor: theirs, with the order's
	// redirect, logo and stylesheet where theirs has none).
	UI UI
	// Documents are the signatory's documents in order, with their status. They are shown only
	// once LoginNeeded is false.
	Documents []ViewDocument
	// Providers are the evidence providers the signatory may use (SignatoryProviders).
	Providers []EvidenceProvider
	// LoginNeeded is set while the signatory owes the VIEW-stage login of the order.
	LoginNeeded bool
	// Blocked is why the signatory cannot act now, BlockedNone when they can.
	Blocked Blocked
	// AllApproved reports whether every one of Documents but the VIEWER ones is approved,
	// preapproved or signed: a SIGNER may then choose how to sign.
	AllApproved bool
}

// ViewDocument is one of a signatory's documents with the signatory's status for it (nil while
// they did nothing and it was not preapproved for them) and their role on it (Signatory.DocumentRole:
// a VIEWER document is only to be viewed, never approved).
type ViewDocument struct {
	Document *Document
	Status   *DocumentStatus
	Role     Role
}

// ViewOf is what the signatory s of o sees and may do at now; validated is whether they logged in
// for the VIEW stage.
func (o *SignatureOrder) ViewOf(s *Signatory, now time.Time, validated bool) SignatoryView {
	v := SignatoryView{
		Order:       o,
		Signatory:   s,
		UI:          o.UIFor(s),
		Documents:   []ViewDocument{},
		Providers:   o.SignatoryProviders(s),
		LoginNeeded: o.NeedsViewLogin() && !validated,
		Blocked:     o.blocked(s, now),
		AllApproved: true,
	}
	for _, id := range o.SignatoryDocumentIDs(s) {
		d := o.Document(id)
		if d == nil {
			continue
		}
		vd := ViewDocument{Document: d, Status: s.SignatoryDocumentStatus(id), Role: s.DocumentRole(id)}
		v.AllApproved = v.AllApproved && (vd.Role == RoleViewer || vd.Approved())
		v.Documents = append(v.Documents, vd)
	}
	return v
}

// Document is the view of the signatory's document with this id, or nil when it is not theirs.
func (v SignatoryView) Document(id string) *ViewDocument {
	for i := range v.Documents {
		if v.Documents[i].Document.ID == id {
			return &v.Documents[i]
		}
	}
	return nil
}

// Approved reports whether the signatory approved the document (or it was preapproved for them,
// or they signed it).
func (d ViewDocument) Approved() bool {
	if d.Status == nil {
		return false
	}
	switch *d.Status {
	case DocumentApproved, DocumentPreapproved, DocumentSigned:
		return true
	}
	return false
}

func (o *SignatureOrder) blocked(s *Signatory, now time.Time) Blocked {
	switch {
	case s.Status == SignatorySigned:
		return BlockedSigned
	case s.Status == SignatoryApproved:
		return BlockedApproved
	case s.Status == SignatoryRejected:
		return BlockedRejected
	case o.Status == StatusClosed:
		return BlockedClosed
	case o.Status == StatusCancelled:
		return BlockedCancelled
	case o.Status == StatusExpired || !now.Before(o.ExpiresAt):
		return BlockedExpired
	case s.Status != SignatoryOpen:
		return BlockedNotOpen
	case s.SignatoryRole != RoleViewer && !o.IsTurn(s):
		return BlockedNotTurn
	case s.SignatoryRole != RoleViewer && s.InCooldown(now):
		return BlockedCooldown
	}
	return BlockedNone
}

// NeedsViewLogin reports whether the order asks signatories to log in before they see the documents.
func (o *SignatureOrder) NeedsViewLogin() bool {
	for _, stage := range o.EvidenceValidationStages {
		if stage == EvidenceStageView {
			return true
		}
	}
	return false
}
