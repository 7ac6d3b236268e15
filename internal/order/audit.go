package order

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AuditKind names what an audit entry records.
type AuditKind string

// Every state change of an order and every act of a person on it.
const (
	AuditOrderCreated        AuditKind = "order.created"
	AuditOrderChanged        AuditKind = "order.changed" // maxSignatories or the webhook
	AuditOrderExtended       AuditKind = "order.extended"
	AuditOrderClosed         AuditKind = "order.closed"
	AuditOrderCancelled      AuditKind = "order.cancelled"
	AuditOrderExpired        AuditKind = "order.expired"
	AuditSignatoryAdded      AuditKind = "signatory.added"
	AuditSignatoryChanged    AuditKind = "signatory.changed"
	AuditSignatoryDeleted    AuditKind = "signatory.deleted"
	AuditLinkOpened          AuditKind = "signatory.link_opened"
	AuditDownloadLinkOpened  AuditKind = "signatory.download_link_opened"
	AuditDocumentOpened      AuditKind = "document.opened"
	AuditDocumentApproved    AuditKind = "document.approved"
	AuditDocumentRejected    AuditKind = "document.rejected"
	AuditSignatoryApproved   AuditKind = "signatory.approved" // an approver approved their last document
	AuditSignatoryRejected   AuditKind = "signatory.rejected"
	AuditSignatoryLogin      AuditKind = "signatory.login"
	AuditSignatorySignFailed AuditKind = "signatory.sign_failed"
	AuditSignatorySigned     AuditKind = "signatory.signed"
	AuditDocumentStored      AuditKind = "document.stored" // the original, as stored at creation
	AuditDocumentSealed      AuditKind = "document.sealed"
	AuditDocumentDownloaded  AuditKind = "document.downloaded"
	AuditDocumentsDeleted    AuditKind = "documents.deleted"
	AuditWebhookDelivered    AuditKind = "webhook.delivered"
	AuditWebhookFailed       AuditKind = "webhook.failed"
)

// Bounds of an entry's Details: what a caller-given text can make an entry cost.
const (
	AuditMaxDetails   = 20  // keys per entry; beyond, the rest are dropped and "truncated" says so
	AuditMaxDetailLen = 256 // bytes per value; a longer one is cut on a rune boundary, ending in "…"
)

// Why documents were deleted (the "reason" of AuditDocumentsDeleted).
const (
	DeletedAtClose        = "closed without retention"
	DeletedByCleanup      = "cleanup"
	DeletedByCancel       = "cancelled"
	DeletedAtExpiry       = "expired"
	DeletedRetentionEnded = "retention ended"
	DeletedBySweep        = "sweep" // an order no longer open whose documents were left (a failed deletion)
)

// AuditEntry is one fact of an order's audit trail. It never holds a secret, a token, a code, a
// JWT, a claim value other than the name the evidence shows, or document content: the trail is
// shown to the integrator and printed on the completion certificate.
type AuditEntry struct {
	At          time.Time         `json:"at"`
	Kind        AuditKind         `json:"kind"`
	SignatoryID string            `json:"signatoryId,omitempty"`
	DocumentID  string            `json:"documentId,omitempty"`
	Actor       *Actor            `json:"actor,omitempty"` // nil: the service or the integrator's API call
	Details     map[string]string `json:"details,omitempty"`
}

// Actor is the person's request behind an entry.
type Actor struct {
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// AuditKey is the order's audit trail key pair: entries are sealed to Public (in clear, so the
// store can seal without a key manager); Private is encrypted by package signing with the order's
// envelope (Keys are its wrapped data keys), and opens them.
type AuditKey struct {
	Public  []byte `json:"public"`
	Private []byte `json:"private"`
	Keys    Keys   `json:"keys"`
}

// AuditEntries are the entries recorded since the order was loaded; not part of the stored
// aggregate: the store seals them into the order's trail in the same transaction as the order.
func (o *SignatureOrder) AuditEntries() []AuditEntry { return o.audit }

// ActingAs sets the person whose request the changes that follow in this load are (nil: the
// service or the API). Not stored.
func (o *SignatureOrder) ActingAs(a *Actor) {
	if a != nil {
		c := *a
		a = &c
	}
	o.actor = a
}

// RecordingAt sets the time of entries recorded by changes that take no time of their own
// (Change, Extend, ChangeSignatory, DeleteSignatory). Not stored.
func (o *SignatureOrder) RecordingAt(now time.Time) { o.auditClock = now }

// SignatureProof summarizes how a signatory proved who they are when signing, for the trail: the
// provider, the name the evidence shows and the names (never the values) of its claims.
type SignatureProof struct {
	ProviderID   string
	ProviderKind ProviderKind
	Name         string
	ClaimNames   []string
	// Login: the evidence came from a login through the service (an authorization code), not an ID
	// token the caller brought; a signatory.login entry precedes the signature.
	Login bool
	// SHA256 is the hex SHA-256 of each document's new version, by document id, where known.
	SHA256 map[string]string
}

// details returns the proof's fields as entry details.
func (p SignatureProof) details() []string {
	d := []string{"provider", p.ProviderID, "providerKind", string(p.ProviderKind)}
	if p.Name != "" {
		d = append(d, "name", p.Name)
	}
	if len(p.ClaimNames) > 0 {
		names := slices.Clone(p.ClaimNames)
		slices.Sort(names)
		d = append(d, "claims", strings.Join(names, ","))
	}
	return d
}

// RecordLogin records a signatory's login at the VIEW stage (a SIGN-stage login is recorded with
// the signature, MarkSignedWith). proof.SHA256 is ignored.
func (o *SignatureOrder) RecordLogin(signatoryID, stage string, proof SignatureProof, now time.Time) {
	o.record(now, AuditSignatoryLogin, signatoryID, "", append(proof.details(), "stage", stage)...)
}

// RecordStored records a document version stored by the service outside a signature (the original
// at creation), with the hex SHA-256 of its bytes.
func (o *SignatureOrder) RecordStored(documentID string, v DocumentVersion, sha256 string) {
	o.record(v.CreatedAt, AuditDocumentStored, "", documentID, "version", strconv.Itoa(v.Number),
		"sha256", sha256, "fingerprint", v.Fingerprint, "size", strconv.FormatInt(v.Size, 10))
}

// RecordDownload records that a signatory downloaded one of the order's documents (version: the
// one they got).
func (o *SignatureOrder) RecordDownload(signatoryID, documentID string, version int, now time.Time) {
	o.record(now, AuditDocumentDownloaded, signatoryID, documentID, "version", strconv.Itoa(version))
}

// WebhookAuditEntry is the entry for one webhook delivery attempt.
func WebhookAuditEntry(inv WebhookInvocation) AuditEntry {
	kind := AuditWebhookFailed
	if inv.Outcome == InvocationSuccess {
		kind = AuditWebhookDelivered
	}
	d := []string{"event", inv.Event, "outcome", string(inv.Outcome)}
	if inv.StatusCode != nil {
		d = append(d, "statusCode", strconv.Itoa(*inv.StatusCode))
	}
	if inv.RetryingAt != nil {
		d = append(d, "retryingAt", inv.RetryingAt.UTC().Format(time.RFC3339))
	}
	return AuditEntry{At: inv.At, Kind: kind, Details: boundDetails(d)}
}

// record appends an entry by the current actor. details are key, value pairs. A zero at is the
// time set by RecordingAt.
func (o *SignatureOrder) record(at time.Time, kind AuditKind, signatoryID, documentID string, details ...string) {
	if at.IsZero() {
		at = o.auditClock
	}
	var actor *Actor
	if o.actor != nil {
		c := *o.actor
		actor = &c
	}
	o.audit = append(o.audit, AuditEntry{At: at, Kind: kind, SignatoryID: signatoryID, DocumentID: documentID,
		Actor: actor, Details: boundDetails(details)})
}

// boundDetails makes a map of key, value pairs with at most AuditMaxDetails keys (the rest are
// dropped, and "truncated" says so) and values of at most AuditMaxDetailLen bytes; empty values are
// left out.
func boundDetails(kv []string) map[string]string {
	if len(kv) < 2 {
		return nil
	}
	var pairs [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			pairs = append(pairs, [2]string{kv[i], kv[i+1]})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	truncated := len(pairs) > AuditMaxDetails
	if truncated {
		pairs = pairs[:AuditMaxDetails-1]
	}
	m := make(map[string]string, len(pairs)+1)
	for _, p := range pairs {
		m[cut(p[0], AuditMaxDetailLen)] = cut(p[1], AuditMaxDetailLen)
	}
	if truncated {
		m["truncated"] = "details"
	}
	return m
}

// cut shortens s to at most n bytes on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	end := n - len(mark)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + mark
}

func textOf(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// documentStatusAudit is the entry kind of a status a signatory gives a document.
func documentStatusAudit(st DocumentStatus) AuditKind {
	switch st {
	case DocumentApproved:
		return AuditDocumentApproved
	case DocumentRejected:
		return AuditDocumentRejected
	}
	return AuditDocumentOpened
}
