// Package signing is the application service behind the GraphQL API (and, later, the signing page):
// it checks who is asking, applies the order rules from package order, and does the I/O around them
// (encrypting and storing documents, persisting orders).
package signing

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/google/uuid"

	"esign/internal/blob"
	"esign/internal/envelope"
	"esign/internal/evidence"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/store"
)

// Encrypter encrypts and decrypts document versions, kept answers and webhook secrets (package
// envelope). "Seal" in this service means the PAdES signature only.
type Encrypter interface {
	Encrypt(ctx context.Context, plaintext []byte, b envelope.Binding) ([]byte, order.Keys, error)
	Decrypt(ctx context.Context, ciphertext []byte, keys order.Keys, b envelope.Binding) ([]byte, error)
}

// Inspector checks an uploaded document before it is stored (package pdf).
type Inspector func(ctx context.Context, data []byte) (pdf.Info, error)

// Config is what the service needs besides its dependencies.
type Config struct {
	// PublicURL is the base of signatory hrefs, without a trailing slash.
	PublicURL string
	// MaxDocumentBytes limits each document's decoded size.
	MaxDocumentBytes int
	// TokenKey derives signatory tokens (HMAC-SHA256); at least 32 bytes.
	TokenKey []byte
	// Observer, if set, is told about stored documents (metrics).
	Observer Observer
	// Sealer seals documents at signing; without one, sign answers "not implemented yet".
	Sealer DocumentSealer
	// Finalizer adds validation data and a document timestamp to signed documents at close.
	Finalizer DocumentFinalizer
	// Certificates seals the completion certificate of a close that retains the documents
	// (certificate.go); nil: closes keep none.
	Certificates CertificateSealer
	// JWT verifies ID tokens presented as oidc evidence.
	JWT JWTChecker
	// Webhooks validates webhook receivers and sends manual retries; nil refuses validateConnectivity.
	Webhooks WebhookSender
	// Login runs OpenID Connect logins (criiptoVerify and oidc providers, the VIEW stage).
	Login *evidence.Login
	// Verify is the eID broker behind criiptoVerify providers; nil when none is configured.
	Verify *VerifyConfig
	// Receipts signs deletion receipts (the seal key); nil answers them not implemented.
	Receipts *ReceiptKey
	// PDFAdmission holds back reading signatures back from a document until the process's PDF memory
	// budget has room (the sealer and finalizer hold their own handle); nil admits all.
	PDFAdmission *pdf.Admission
}

// Observer is told what the service stored.
type Observer interface {
	DocumentStored(plaintextBytes int64)
}

// Service is safe for concurrent use.
type Service struct {
	store   store.Store
	blobs   blob.Store
	crypt   Encrypter
	inspect Inspector
	cfg     Config
	log     *slog.Logger
	// Now and NewID are fields so tests can control time and ids.
	Now   func() time.Time
	NewID func() string
	// listings are the form listings of document versions the signing page showed (pageforms.go).
	listings *lru.Cache[string, []order.FormField]
}

// listingsCached is how many versions' form listings the service keeps in memory.
const listingsCached = 1024

// New wires a service.
func New(st store.Store, blobs blob.Store, crypt Encrypter, inspect Inspector, cfg Config, log *slog.Logger) *Service {
	listings, _ := lru.New[string, []order.FormField](listingsCached) // size > 0: no error
	return &Service{
		store: st, blobs: blobs, crypt: crypt, inspect: inspect, cfg: cfg, log: log,
		Now:      func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		NewID:    func() string { return uuid.Must(uuid.NewRandomFromReader(rand.Reader)).String() },
		listings: listings,
	}
}

// Ready reports whether the store and the blob store answer.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return err
	}
	return s.blobs.Ping(ctx)
}

// SetJWTChecker replaces the ID-token verifier (tests point it at a loopback provider).
func (s *Service) SetJWTChecker(j JWTChecker) { s.cfg.JWT = j }
