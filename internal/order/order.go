// Package order holds the domain of signature orders: the aggregate and its parts, the rules for
// creating and changing them, and the coded errors those rules produce. It does no I/O, so every rule
// can be tested with plain values and every storage backend stores the same thing.
package order

import (
	"time"

	"esign/internal/i18n"
)

// Status is the lifecycle state of a signature order.
type Status string

const (
	StatusOpen      Status = "OPEN"
	StatusClosed    Status = "CLOSED"
	StatusCancelled Status = "CANCELLED"
	StatusExpired   Status = "EXPIRED"
)

// SignatoryStatus is the state of one signatory.
type SignatoryStatus string

// The contract's statuses ERROR and DELETED are never stored: a signature that fails leaves the
// signatory OPEN (nothing changed, the signatory retries) and a deleted signatory is removed.
const (
	SignatoryOpen     SignatoryStatus = "OPEN"
	SignatorySigned   SignatoryStatus = "SIGNED"
	SignatoryApproved SignatoryStatus = "APPROVED"
	SignatoryRejected SignatoryStatus = "REJECTED"
)

// Role is what a signatory is asked to do.
type Role string

const (
	RoleSigner   Role = "SIGNER"
	RoleApprover Role = "APPROVER"
	RoleViewer   Role = "VIEWER"
)

// DocumentStatus is a signatory's status for one document.
type DocumentStatus string

const (
	DocumentOpened      DocumentStatus = "OPENED"
	DocumentApproved    DocumentStatus = "APPROVED"
	DocumentRejected    DocumentStatus = "REJECTED"
	DocumentPreapproved DocumentStatus = "PREAPPROVED"
	DocumentSigned      DocumentStatus = "SIGNED"
)

// Limits and defaults from the wire contract.
const (
	DefaultMaxSignatories   = 14
	DefaultExpiresInDays    = 90
	DefaultSigningSequence  = 2147483647
	MinRetainDocumentsDays  = 1
	MaxRetainDocumentsDays  = 7
	MinExtendDays           = 1
	MaxExtendDays           = 30
	MinWebhookSecretBits    = 256
	MaxWebhookSecretBits    = 512
	DefaultLanguage         = i18n.Default
	DefaultTimezone         = "Europe/Copenhagen"
	StorageModeTemporary    = "Temporary"
	EvidenceStageSign       = "SIGN"
	EvidenceStageView       = "VIEW"
	MaxSignatoriesHardLimit = 1000
)

// SignatureOrder is the aggregate: everything about one order, loaded and saved as a whole.
type SignatureOrder struct {
	ID            string     `json:"id"`
	ApplicationID string     `json:"applicationId"`
	Title         *string    `json:"title,omitempty"`
	Status        Status     `json:"status"`
	CreatedAt     time.Time  `json:"createdAt"`
	ExpiresAt     time.Time  `json:"expiresAt"`
	ClosedAt      *time.Time `json:"closedAt,omitempty"`
	CancelledAt   *time.Time `json:"cancelledAt,omitempty"`
	// ExpiredAt is when the sweeper found the order OPEN past ExpiresAt and expired it.
	ExpiredAt *time.Time `json:"expiredAt,omitempty"`
	// RetainDocumentsUntil is set when an order is closed with retainDocumentsForDays: the documents stay
	// until then (or until cleanupSignatureOrder), after which the sweeper deletes them.
	RetainDocumentsUntil *time.Time `json:"retainDocumentsUntil,omitempty"`
	// DocumentsDeletedAt is set once every document's blob and keys are gone.
	DocumentsDeletedAt *time.Time `json:"documentsDeletedAt,omitempty"`
	// DeletionReceipt is what was deleted when the documents were (receipt.go); nil before.
	DeletionReceipt *DeletionReceipt `json:"deletionReceipt,omitempty"`
	MaxSignatories  int              `json:"maxSignatories"`
	Timezone        string           `json:"timezone"`
	TraceID         string           `json:"traceId"`

	DisableVerifyEvidenceProvider bool                 `json:"disableVerifyEvidenceProvider,omitempty"`
	FixDocumentFormattingErrors   bool                 `json:"fixDocumentFormattingErrors,omitempty"`
	EvidenceValidationStages      []string             `json:"evidenceValidationStages,omitempty"`
	SignatureAppearance           *SignatureAppearance `json:"signatureAppearance,omitempty"`
	UI                            UI                   `json:"ui"`
	Webhook                       *Webhook             `json:"webhook,omitempty"`
	EvidenceProviders             []EvidenceProvider   `json:"evidenceProviders"`
	Documents                     []Document           `json:"documents"`
	Signatories                   []Signatory          `json:"signatories"`
	// AuditKey seals the order's audit trail (audit.go); nil for orders created before it.
	AuditKey *AuditKey `json:"auditKey,omitempty"`
	// Certificate is the completion certificate's blob (certificate.go); nil when none is kept.
	Certificate *DocumentVersion `json:"certificate,omitempty"`

	events []Event // raised by changes since loading (Events); the store writes them to the outbox
	// audit are the entries recorded since loading (AuditEntries), by actor at auditClock
	// (ActingAs, RecordingAt); dropReason is why DropDocuments drops in this load. None is stored.
	audit      []AuditEntry
	actor      *Actor
	auditClock time.Time
	dropReason string
}

// UI is the signing page configuration of an order or a signatory.
type UI struct {
	SignatoryRedirectURI     *string `json:"signatoryRedirectUri,omitempty"`
	Language                 string  `json:"language"`
	Logo                     *Logo   `json:"logo,omitempty"`
	Stylesheet               *string `json:"stylesheet,omitempty"`
	DisableRejection         bool    `json:"disableRejection,omitempty"`
	EnableCancel             bool    `json:"enableCancel,omitempty"`
	RenderPdfAnnotationLayer bool    `json:"renderPdfAnnotationLayer,omitempty"`
}

// Logo is shown on the signing page.
type Logo struct {
	Src  string  `json:"src"`
	Href *string `json:"href,omitempty"`
}

// Webhook is where events about an order are posted.
type Webhook struct {
	URL                  string `json:"url"`
	ValidateConnectivity bool   `json:"validateConnectivity,omitempty"`
	// Secret is the HMAC key. The domain sees it in clear (raw bytes) while it checks a draft or a
	// change; as stored it is encrypted by package signing (bound to the order), which decrypts it only to
	// sign a delivery. Orders stored before encryption may still hold it raw until encrypt-secrets runs.
	Secret []byte `json:"secret,omitempty"`
	// DeletionReceipts asks for the EventDocumentsDeleted event (an extension: receivers that know
	// only the contract's events get none they did not ask for).
	DeletionReceipts bool `json:"deletionReceipts,omitempty"`
}

// SignatureAppearance is kept as given; it shapes the visible seal (signing issue).
type SignatureAppearance struct {
	IdentifierFromEvidence []string                      `json:"identifierFromEvidence"`
	HeaderLeft             []SignatureAppearanceTemplate `json:"headerLeft,omitempty"`
	DisplayName            []SignatureAppearanceTemplate `json:"displayName,omitempty"`
	Footer                 []SignatureAppearanceTemplate `json:"footer,omitempty"`
}

// SignatureAppearanceTemplate is one line of a seal.
type SignatureAppearanceTemplate struct {
	Template     string                           `json:"template"`
	Replacements []SignatureAppearanceReplacement `json:"replacements,omitempty"`
}

// SignatureAppearanceReplacement fills a placeholder from evidence claims.
type SignatureAppearanceReplacement struct {
	Placeholder  string   `json:"placeholder"`
	FromEvidence []string `json:"fromEvidence"`
}

// ProviderKind names the kind of an evidence provider.
type ProviderKind string

const (
	ProviderOIDC          ProviderKind = "oidc"
	ProviderCriiptoVerify ProviderKind = "criiptoVerify"
	ProviderNoop          ProviderKind = "noop"
	ProviderDrawable      ProviderKind = "drawable"
	ProviderAllOf         ProviderKind = "allOf"
)

// EvidenceProvider is one way a signatory can prove who they are. Exactly one of the kind-specific
// fields is set, matching Kind.
type EvidenceProvider struct {
	ID               string                 `json:"id"`
	Kind             ProviderKind           `json:"kind"`
	EnabledByDefault bool                   `json:"enabledByDefault"`
	OIDC             *OIDCProvider          `json:"oidc,omitempty"`
	CriiptoVerify    *CriiptoVerifyProvider `json:"criiptoVerify,omitempty"`
	Noop             *NoopProvider          `json:"noop,omitempty"`
	Drawable         *DrawableProvider      `json:"drawable,omitempty"`
	AllOf            []EvidenceProvider     `json:"allOf,omitempty"`
}

// OIDCProvider is a plain OpenID Connect provider whose ID token is the evidence.
type OIDCProvider struct {
	Name              string   `json:"name"`
	Domain            string   `json:"domain"`
	ClientID          string   `json:"clientId"`
	Audience          string   `json:"audience"`
	AcrValues         []string `json:"acrValues,omitempty"`
	AlwaysRedirect    bool     `json:"alwaysRedirect,omitempty"`
	UniqueEvidenceKey *string  `json:"uniqueEvidenceKey,omitempty"`
}

// CriiptoVerifyProvider is an OIDC eID broker.
type CriiptoVerifyProvider struct {
	Domain            string   `json:"domain"`
	ClientID          string   `json:"clientId"`
	Audiences         []string `json:"audiences,omitempty"`
	AcrValues         []string `json:"acrValues,omitempty"`
	AlwaysRedirect    bool     `json:"alwaysRedirect,omitempty"`
	UniqueEvidenceKey *string  `json:"uniqueEvidenceKey,omitempty"`
	Message           *string  `json:"message,omitempty"`
	LoginHint         *string  `json:"loginHint,omitempty"`
	Scope             *string  `json:"scope,omitempty"`
	Version           string   `json:"version"`
}

// NoopProvider signs without evidence (test applications only).
type NoopProvider struct {
	Name string `json:"name"`
}

// DrawableProvider asks for a hand-drawn signature.
type DrawableProvider struct {
	RequireName   bool `json:"requireName,omitempty"`
	MinimumWidth  *int `json:"minimumWidth,omitempty"`
	MinimumHeight *int `json:"minimumHeight,omitempty"`
}

// DocumentKind is the format of a document.
type DocumentKind string

const (
	DocumentPDF DocumentKind = "PDF"
	DocumentXML DocumentKind = "XML"
)

// Document is one document of an order. Its bytes live encrypted in the blob store, one blob per
// version: version 0 is the original, later versions are signed copies.
type Document struct {
	ID                string            `json:"id"`
	Kind              DocumentKind      `json:"kind"`
	Title             string            `json:"title"`
	Reference         *string           `json:"reference,omitempty"`
	DocumentID        string            `json:"documentId"`
	DisplayDocumentID *string           `json:"displayDocumentId,omitempty"`
	FormEnabled       *bool             `json:"formEnabled,omitempty"`
	RemoveBookmarks   bool              `json:"removeBookmarks,omitempty"`
	Versions          []DocumentVersion `json:"versions,omitempty"`
	// SealsPageTemplate is the integrator's seals page the document's first seal appends instead
	// of the generated one; nil: the generated page.
	SealsPageTemplate *SealsPageTemplate `json:"sealsPageTemplate,omitempty"`
	// DeletedAt is set when the blobs and keys of every version are gone; only metadata remains.
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
}

// SealsPageTemplate is a document's seals page template as stored: where its seals go (Area, in
// points from the page's lower left corner, as Columns × Rows slots) and its encrypted bytes. The
// bytes are stored and shredded like a version of the document (same envelope, bound to the order
// and document) because they are the integrator's upload, often with their branding or names: they
// live exactly as long as the document's versions (DropDocuments), and no longer.
type SealsPageTemplate struct {
	Area    [4]float64 `json:"area"`
	Columns int        `json:"columns"`
	Rows    int        `json:"rows"`
	// Blob points at the template's ciphertext and holds its wrapped keys (Number is
	// TemplateVersion); nil once the document's versions are dropped.
	Blob *DocumentVersion `json:"blob,omitempty"`
}

// TemplateVersion is the version number a seals page template is encrypted under (the envelope's
// binding): no document version has it, so the template's ciphertext never opens as one of the
// document's versions, nor a version as the template.
const TemplateVersion = -1

// StoredBlobs are the blobs the document references now: its versions and its template's.
func (d *Document) StoredBlobs() []DocumentVersion {
	out := append([]DocumentVersion(nil), d.Versions...)
	if d.SealsPageTemplate != nil && d.SealsPageTemplate.Blob != nil {
		out = append(out, *d.SealsPageTemplate.Blob)
	}
	return out
}

// Current is the newest stored version, or nil once the document is deleted.
func (d *Document) Current() *DocumentVersion {
	if d.DeletedAt != nil || len(d.Versions) == 0 {
		return nil
	}
	return &d.Versions[len(d.Versions)-1]
}

// Original is version 0, or nil once the document is deleted.
func (d *Document) Original() *DocumentVersion {
	if d.DeletedAt != nil || len(d.Versions) == 0 {
		return nil
	}
	return &d.Versions[0]
}

// DocumentVersion points at one encrypted blob and holds the wrapped data keys that open it.
// Dropping a version's keys makes its blob unreadable even where a copy of the blob survives.
type DocumentVersion struct {
	Number  int    `json:"number"`
	BlobKey string `json:"blobKey"`
	Size    int64  `json:"size"`
	// Fingerprint identifies the version's bytes: "hmac-sha256:<hex>", keyed so that the database
	// alone cannot confirm a guessed document (signing.documentFingerprint); versions stored before
	// hold a plain SHA-256 in hex. The JSON name is kept from then.
	Fingerprint string    `json:"sha256"`
	Keys        Keys      `json:"keys"`
	CreatedAt   time.Time `json:"createdAt"`
	// SignedBy is the signatory whose signature made this version (empty for the original). The
	// signature's evidence stays inside the encrypted PDF, not in the database.
	SignedBy string `json:"signedBy,omitempty"`
	// KeyedHash is the version's hash for the deletion receipt (receipt.go), hex; empty for
	// versions stored before receipts existed.
	KeyedHash string `json:"keyedHash,omitempty"`
}

// Keys are the two wrapped data keys of a version's two encryption layers, with the ids of the key
// managers' keys that wrapped them (for rotation).
type Keys struct {
	InnerKeyID string `json:"innerKeyId"`
	Inner      []byte `json:"inner"`
	OuterKeyID string `json:"outerKeyId"`
	Outer      []byte `json:"outer"`
}

// Signatory is a person asked to view, approve or sign.
type Signatory struct {
	ID                string          `json:"id"`
	Reference         *string         `json:"reference,omitempty"`
	Role              *string         `json:"role,omitempty"`
	SigningAs         *string         `json:"signingAs,omitempty"`
	SignatoryRole     Role            `json:"signatoryRole"`
	Status            SignatoryStatus `json:"status"`
	StatusReason      *string         `json:"statusReason,omitempty"`
	CooldownExpiresAt *time.Time      `json:"cooldownExpiresAt,omitempty"`
	SigningSequence   int             `json:"signingSequence"`
	SpanID            string          `json:"spanId"`
	// TokenHash is the hex SHA-256 of the signatory's token; the token itself is never stored.
	TokenHash string `json:"tokenHash,omitempty"`
	// Documents nil means every document of the order; otherwise the non-empty subset.
	Documents []SignatoryDocument `json:"documents,omitempty"`
	// EvidenceProviders nil means the order's providers that are enabled by default.
	EvidenceProviders []string `json:"evidenceProviders,omitempty"`
	// ProviderSettings are this signatory's own settings of some of their providers
	// (SignatoryProviders applies them).
	ProviderSettings    []ProviderSettings   `json:"providerSettings,omitempty"`
	EvidenceValidation  []EvidenceValidation `json:"evidenceValidation,omitempty"`
	SignatureAppearance *SignatureAppearance `json:"signatureAppearance,omitempty"`
	UI                  *UI                  `json:"ui,omitempty"`
	// EvidenceKey is the hash that identifies the person who signed, when the provider has a
	// uniqueEvidenceKey: no two signatories of an order may share it.
	EvidenceKey string `json:"evidenceKey,omitempty"`
	// SignLinkOpenedAt and DownloadLinkOpenedAt are when the signatory first opened their links
	// (trackSignatory); the webhooks that announce them are sent by the webhook outbox.
	SignLinkOpenedAt     *time.Time `json:"signLinkOpenedAt,omitempty"`
	DownloadLinkOpenedAt *time.Time `json:"downloadLinkOpenedAt,omitempty"`
	// DocumentStatus is the signatory's status per document id, absent until they act.
	DocumentStatus map[string]DocumentStatus `json:"documentStatus,omitempty"`
}

// SignatoryDocument limits a signatory to a document, possibly preapproved or with seal positions.
type SignatoryDocument struct {
	ID            string         `json:"id"`
	Preapproved   bool           `json:"preapproved,omitempty"`
	SealPositions []SealPosition `json:"sealPositions,omitempty"`
	// Fields are the signatory's typed fields on the document (field.go); given only at creation.
	Fields []SignatoryField `json:"fields,omitempty"`
	// Role is the signatory's role on this document (the input's signatoryRole; docroles.go), nil
	// for the signatory's own role. Read it with Signatory.DocumentRole.
	Role *Role `json:"role,omitempty"`
}

// SealPosition places a visible seal on a page.
type SealPosition struct {
	Page  int      `json:"page"`
	X     float64  `json:"x"`
	Y     float64  `json:"y"`
	Scale *float64 `json:"scale,omitempty"`
}

// EvidenceValidation is a claim the signatory's evidence must carry.
type EvidenceValidation struct {
	Key     string  `json:"key"`
	Value   *string `json:"value,omitempty"`
	Boolean *bool   `json:"boolean,omitempty"`
}

// Signatory returns the signatory with the given id, or nil.
func (o *SignatureOrder) Signatory(id string) *Signatory {
	for i := range o.Signatories {
		if o.Signatories[i].ID == id {
			return &o.Signatories[i]
		}
	}
	return nil
}

// Document returns the document with the given id, or nil.
func (o *SignatureOrder) Document(id string) *Document {
	for i := range o.Documents {
		if o.Documents[i].ID == id {
			return &o.Documents[i]
		}
	}
	return nil
}
