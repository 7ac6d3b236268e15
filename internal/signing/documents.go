package signing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"esign/internal/envelope"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/pdf"
	"esign/internal/pdf/pades"
	"esign/internal/store"
)

// intakeDocument runs the PDF intake on document i of the draft, applies the uploader's document
// options as the domain decides (order.Draft.PlanIntake) and returns the bytes to store: the upload
// as given, or its rewrite (repaired, without earlier signatures or bookmarks when asked), so that
// every later seal appends to a sound file, with its page count. Problems with the document are the
// contract's messages.
func (s *Service) intakeDocument(ctx context.Context, d order.Draft, i int, withFields bool) ([]byte, int, error) {
	doc := d.Documents[i]
	info, err := s.inspect(ctx, doc.Data)
	if err != nil {
		return nil, 0, documentProblem(doc.Title, err)
	}
	plan, err := d.PlanIntake(i, order.DocumentFacts{PreviouslySigned: info.PreviouslySigned,
		HasBookmarks: info.HasBookmarks, Defect: info.Defect})
	if err != nil {
		return nil, 0, err
	}
	if err := d.CheckFieldsIntake(i, withFields, order.DocumentFacts{PreviouslySigned: info.PreviouslySigned}, plan); err != nil {
		return nil, 0, err
	}
	if !plan.Rewrite {
		if info.Defect != "" {
			s.log.InfoContext(ctx, "document with a structural defect stored as given", "document", i, "defect", info.Defect,
				"previously_signed", info.PreviouslySigned)
		}
		return doc.Data, info.Pages, nil
	}
	out, after, err := pdf.Inspector{Admission: s.cfg.PDFAdmission}.Rewrite(ctx, doc.Data,
		pdf.RewriteOptions{RemoveSignatures: plan.RemoveSignatures, RemoveBookmarks: plan.RemoveBookmarks})
	if err != nil {
		return nil, 0, documentProblem(doc.Title, err)
	}
	s.log.InfoContext(ctx, "document rewritten at intake", "document", i, "defect", info.Defect,
		"removed_signatures", plan.RemoveSignatures, "removed_bookmarks", plan.RemoveBookmarks,
		"bytes_before", len(doc.Data), "bytes_after", len(out), "pages", after.Pages)
	return out, after.Pages, nil
}

// intakeSealsPageTemplate checks document i's seals page template as an upload of its own: the
// same PDF intake as a document (no encryption, no bombs, readable), then the template's rules
// (one unrotated page, the area inside it, room for the order's maxSignatories in slots a seal's
// text fits). It answers what the sealer needs; errors name the template's field.
func (s *Service) intakeSealsPageTemplate(ctx context.Context, d order.Draft, i int) (pades.SealsPageTemplate, error) {
	t := d.Documents[i].SealsPageTemplate
	field := fmt.Sprintf("documents[%d].pdf.sealsPageTemplate", i)
	maxSignatories := order.DefaultMaxSignatories
	if d.MaxSignatories != nil {
		maxSignatories = *d.MaxSignatories
	}
	columns, rows, err := t.SealsPageGrid(field, maxSignatories)
	if err != nil {
		return pades.SealsPageTemplate{}, err
	}
	if _, err := s.inspect(ctx, t.Data); err != nil {
		var problem *pdf.Problem
		if errors.As(err, &problem) {
			return pades.SealsPageTemplate{}, fault.Invalid(field+".blob", "the seals page template %s", problem.Reason)
		}
		return pades.SealsPageTemplate{}, fmt.Errorf("intake of the seals page template of document %d: %w", i, err)
	}
	page, err := pades.InspectTemplate(ctx, t.Data)
	if err != nil {
		return pades.SealsPageTemplate{}, fault.Invalid(field+".blob", "the seals page template cannot be read: %v", err)
	}
	spec := pades.SealsPageTemplate{Page: t.Data, Area: t.Area, Columns: columns, Rows: rows}
	if err := pades.CheckTemplate(field, page, spec); err != nil {
		return pades.SealsPageTemplate{}, err
	}
	return spec, nil
}

// documentProblem turns an intake refusal into the contract's message; other errors are wrapped.
func documentProblem(title string, err error) error {
	var problem *pdf.Problem
	if errors.As(err, &problem) {
		return fault.Invalid("", "Document %s %s", title, problem.Reason)
	}
	return fmt.Errorf("intake of document %q: %w", title, err)
}

func binding(o *order.SignatureOrder, d *order.Document, version int) envelope.Binding {
	return envelope.Binding{ApplicationID: o.ApplicationID, OrderID: o.ID, DocumentID: d.ID, Version: version}
}

// blobKey is where a version's ciphertext lives. The order id comes first so that the sweeper can
// find blobs whose order no longer references them; the attempt id last, so that two writers racing
// for the same version (two signatures at once) never overwrite each other's blob: the loser deletes
// only its own. The attempt id is a UUIDv7, so the key tells when the blob was written.
func blobKey(orderID, documentID string, version int) string {
	return fmt.Sprintf("orders/%s/%s/v%d-%s", orderID, documentID, version, uuid.Must(uuid.NewV7()))
}

// templateBlobKey is where a document's seals page template lives: beside its versions, in the
// same layout (so blobOrderID and blobWrittenAt read it as they read a version's key), under a
// name no version has.
func templateBlobKey(orderID, documentID string) string {
	return fmt.Sprintf("orders/%s/%s/template-%s", orderID, documentID, uuid.Must(uuid.NewV7()))
}

// certificateBlobKey is where an order's completion certificate lives: under its pseudo-document,
// in the layout of a version's key (blobOrderID and blobWrittenAt read it alike).
func certificateBlobKey(orderID string) string {
	return fmt.Sprintf("orders/%s/%s/certificate-%s", orderID, order.CertificateDocumentID, uuid.Must(uuid.NewV7()))
}

// certificateDocument is the pseudo-document the completion certificate is encrypted as: the
// envelope binds it to the order and order.CertificateDocumentID, which no document has.
var certificateDocument = &order.Document{ID: order.CertificateDocumentID, Title: "completion certificate"}

// putCertificate stores an order's completion certificate exactly as a version (putVersion), for
// the caller to record in o.Certificate.
func (s *Service) putCertificate(ctx context.Context, o *order.SignatureOrder, data []byte) (order.DocumentVersion, error) {
	return s.putBlob(ctx, o, certificateDocument, order.CertificateVersion, certificateBlobKey(o.ID), data)
}

// readCertificate decrypts an order's completion certificate; nil when it keeps none.
func (s *Service) readCertificate(ctx context.Context, o *order.SignatureOrder) ([]byte, error) {
	if o.Certificate == nil {
		return nil, nil
	}
	data, err := s.readVersion(ctx, o, certificateDocument, o.Certificate)
	if err != nil {
		return nil, fmt.Errorf("completion certificate: %w", err)
	}
	return data, nil
}

// blobOrderID is the order a blob key names ("" for a key that is not a document blob).
func blobOrderID(key string) string {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != "orders" {
		return ""
	}
	return parts[1]
}

// blobWrittenAt is when a blob was written, from the UUIDv7 in its key; false for keys written
// before the attempt ids were time-ordered.
func blobWrittenAt(key string) (time.Time, bool) {
	_, attempt, ok := strings.Cut(path.Base(key), "-")
	if !ok {
		return time.Time{}, false
	}
	id, err := uuid.Parse(attempt)
	if err != nil || id.Version() != 7 {
		return time.Time{}, false
	}
	sec, nsec := id.Time().UnixTime()
	return time.Unix(sec, nsec).UTC(), true
}

// putVersion encrypts data in both layers and writes the blob. The caller records the returned version
// (with its wrapped keys) in the order.
func (s *Service) putVersion(ctx context.Context, o *order.SignatureOrder, d *order.Document, number int, data []byte) (order.DocumentVersion, error) {
	return s.putBlob(ctx, o, d, number, blobKey(o.ID, d.ID, number), data)
}

// putTemplate stores a document's seals page template exactly as a version (putVersion), under the
// template's version number and key, for the caller to record in d.SealsPageTemplate.Blob.
func (s *Service) putTemplate(ctx context.Context, o *order.SignatureOrder, d *order.Document, data []byte) (order.DocumentVersion, error) {
	return s.putBlob(ctx, o, d, order.TemplateVersion, templateBlobKey(o.ID, d.ID), data)
}

// readTemplate decrypts a document's seals page template for its first seal; nil when it has none.
func (s *Service) readTemplate(ctx context.Context, o *order.SignatureOrder, d *order.Document) (*pades.SealsPageTemplate, error) {
	t := d.SealsPageTemplate
	if t == nil {
		return nil, nil
	}
	if t.Blob == nil {
		return nil, fault.Conflictf("the seals page template of document %q is no longer stored", d.Title)
	}
	page, err := s.readVersion(ctx, o, d, t.Blob)
	if err != nil {
		return nil, fmt.Errorf("seals page template: %w", err)
	}
	return &pades.SealsPageTemplate{Page: page, Area: t.Area, Columns: t.Columns, Rows: t.Rows}, nil
}

func (s *Service) putBlob(ctx context.Context, o *order.SignatureOrder, d *order.Document, number int, key string, data []byte) (order.DocumentVersion, error) {
	ciphertext, keys, err := s.crypt.Encrypt(ctx, data, binding(o, d, number))
	if err != nil {
		return order.DocumentVersion{}, fmt.Errorf("encrypt document %s v%d: %w", d.ID, number, err)
	}
	if err := s.blobs.Put(ctx, key, ciphertext); err != nil {
		return order.DocumentVersion{}, fmt.Errorf("store document %s v%d: %w", d.ID, number, err)
	}
	if s.cfg.Observer != nil {
		s.cfg.Observer.DocumentStored(int64(len(data)))
	}
	return order.DocumentVersion{Number: number, BlobKey: key, Size: int64(len(data)),
		Fingerprint: s.documentFingerprint(data), KeyedHash: s.receiptHash(o.ID, data), Keys: keys, CreatedAt: s.Now()}, nil
}

// fingerprintPrefix marks a keyed fingerprint, so that it is never read as a plain SHA-256 (which
// versions stored before it hold).
const fingerprintPrefix = "hmac-sha256:"

// documentFingerprint is what a version records of its bytes (DocumentVersion.Fingerprint): HMAC-SHA256
// under the token key, with its own label. It identifies a version's bytes for whoever holds the key
// (the service can tell whether given bytes are the ones it stored) while the database alone
// confirms nothing: a plain SHA-256 would let anyone with a dump test a guessed document (a standard
// contract with one name changed) against it. It goes when the version goes (its keys are shredded).
func (s *Service) documentFingerprint(data []byte) string {
	mac := hmac.New(sha256.New, s.cfg.TokenKey)
	mac.Write([]byte("esign document fingerprint v1\x00"))
	mac.Write(data)
	return fingerprintPrefix + hex.EncodeToString(mac.Sum(nil))
}

// staleTempRemover is a blob store where a process killed mid-write leaves a temporary file that
// List never shows (blob/fs).
type staleTempRemover interface {
	RemoveStaleTemps(ctx context.Context, before time.Time) (int, error)
}

// removeStaleTemps deletes the temporary files of writes last written to before the cutoff that never
// finished, for the orphan pass; the same grace that keeps unreferenced blobs of writes in flight
// keeps their temporary files.
func (s *Service) removeStaleTemps(ctx context.Context, before time.Time) (int, error) {
	r, ok := s.blobs.(staleTempRemover)
	if !ok {
		return 0, nil
	}
	n, err := r.RemoveStaleTemps(ctx, before)
	if n > 0 {
		s.log.InfoContext(ctx, "deleted temporary files of unfinished blob writes", "files", n, "before", before)
	}
	if err != nil {
		return n, fmt.Errorf("orphan temporary blob files: %w", err)
	}
	return n, nil
}

func (s *Service) readVersion(ctx context.Context, o *order.SignatureOrder, d *order.Document, v *order.DocumentVersion) ([]byte, error) {
	ciphertext, err := s.blobs.Get(ctx, v.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("read document %s v%d: %w", d.ID, v.Number, err)
	}
	plaintext, err := s.crypt.Decrypt(ctx, ciphertext, v.Keys, binding(o, d, v.Number))
	if err != nil {
		return nil, fmt.Errorf("decrypt document %s v%d: %w", d.ID, v.Number, err)
	}
	return plaintext, nil
}

// readDocument returns a document's current and original bytes (one read when they are the same version).
func (s *Service) readDocument(ctx context.Context, o *order.SignatureOrder, d *order.Document) (DocumentBytes, error) {
	cur := d.Current()
	if cur == nil {
		return DocumentBytes{}, nil
	}
	current, err := s.readVersion(ctx, o, d, cur)
	if err != nil {
		return DocumentBytes{}, err
	}
	orig := d.Original()
	if orig.Number == cur.Number {
		return DocumentBytes{Current: current, Original: current, SignedBy: signers(d)}, nil
	}
	original, err := s.readVersion(ctx, o, d, orig)
	if err != nil {
		return DocumentBytes{}, err
	}
	return DocumentBytes{Current: current, Original: original, SignedBy: signers(d)}, nil
}

func (s *Service) readAll(ctx context.Context, o *order.SignatureOrder) (map[string]DocumentBytes, error) {
	out := make(map[string]DocumentBytes, len(o.Documents))
	for i := range o.Documents {
		b, err := s.readDocument(ctx, o, &o.Documents[i])
		if err != nil {
			return nil, err
		}
		out[o.Documents[i].ID] = b
	}
	return out, nil
}

// DocumentBytes returns the caller's document bytes; empty when the order or document is unknown to
// the caller or the document is deleted.
func (s *Service) DocumentBytes(ctx context.Context, p Principal, orderID, documentID string) (DocumentBytes, error) {
	o, err := s.Order(ctx, p, orderID)
	if err != nil || o == nil {
		return DocumentBytes{}, err
	}
	d := o.Document(documentID)
	if d == nil {
		return DocumentBytes{}, nil
	}
	return s.readDocument(ctx, o, d)
}

// discardUncommitted removes the blobs of versions a store write was to record and did not. When
// the store's answer leaves open whether the write committed (a connection lost at commit), the
// blobs stay: if it did commit they are the documents' only copy, and if not, the sweeper's orphan
// pass removes them after its grace period.
func (s *Service) discardUncommitted(ctx context.Context, orderID string, versions []order.DocumentVersion, storeErr error) {
	_, domain := fault.As(storeErr)
	if domain || errors.Is(storeErr, errVersionsMoved) || errors.Is(storeErr, store.ErrConflict) || errors.Is(storeErr, store.ErrNotFound) {
		s.deleteBlobs(ctx, orderID, versions)
		return
	}
	s.log.WarnContext(ctx, "the store write may have committed: blobs left for the orphan pass", "order", orderID, "blobs", len(versions), "err", storeErr)
}

// deleteBlobs removes the blobs of versions whose keys are already gone from the store. A failure
// leaves an unreadable ciphertext (its keys are shredded) that the sweeper removes later; it is
// logged, not returned, because the order change it follows has already been committed.
func (s *Service) deleteBlobs(ctx context.Context, orderID string, versions []order.DocumentVersion) (failed int) {
	for _, v := range versions {
		if err := s.blobs.Delete(ctx, v.BlobKey); err != nil {
			s.log.ErrorContext(ctx, "delete blob failed; the sweeper's orphan pass will delete it", "order", orderID, "blob", v.BlobKey, "err", err)
			failed++
		}
	}
	return failed
}

// Validation is the answer of validateDocument.
type Validation struct {
	Valid            bool
	Errors           []string
	Fixable          *bool
	HasBookmarks     *bool
	PreviouslySigned *bool
}

// ValidateDocument runs the intake on a PDF without storing anything.
func (s *Service) ValidateDocument(ctx context.Context, data []byte) (Validation, error) {
	info, err := s.inspect(ctx, data)
	if err != nil {
		var problem *pdf.Problem
		if !errors.As(err, &problem) {
			return Validation{}, fmt.Errorf("inspect document: %w", err)
		}
		fixable := problem.Fixable
		return Validation{Valid: false, Errors: []string{"Document " + problem.Reason}, Fixable: &fixable}, nil
	}
	// Accepted; fixable says whether it has formatting errors that fixDocumentFormattingErrors (on by
	// default) repairs at creation.
	fixable := info.Defect != ""
	return Validation{Valid: true, Fixable: &fixable, HasBookmarks: &info.HasBookmarks, PreviouslySigned: &info.PreviouslySigned}, nil
}
