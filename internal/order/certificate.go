package order

import (
	"strconv"
	"time"

	"esign/internal/fault"
)

// The completion certificate is a PDF the service renders, seals and timestamps at close from the
// order and its audit trail (signing.CompletionCertificate). It is kept only while the documents
// are: it quotes their titles and fingerprints and names the signatories, so it lives exactly as
// long as the documents' versions (DropDocuments) and no longer. A close without retention deletes
// the documents at once and keeps no certificate.

// CertificateDocumentID is the pseudo-document the certificate's ciphertext is bound to and stored
// under. Document ids are UUIDs, so no document has it: the certificate never opens as a version
// of a document, nor a version as the certificate.
const CertificateDocumentID = "completion-certificate"

// CertificateVersion is the version number the certificate is encrypted under.
const CertificateVersion = 0

// AuditCertificateIssued records that a completion certificate was stored, with its SHA-256.
const AuditCertificateIssued AuditKind = "certificate.issued"

// SetCertificate records the completion certificate stored for a closed order that keeps its
// documents, in the close's change; sha256 is the hex SHA-256 of its bytes, for the trail.
func (o *SignatureOrder) SetCertificate(v DocumentVersion, sha256 string, now time.Time) error {
	if o.Status != StatusClosed || o.RetainDocumentsUntil == nil || !o.HasStoredDocuments() {
		return fault.Conflictf("a completion certificate is kept only for a closed order that retains its documents")
	}
	o.Certificate = &v
	o.record(now, AuditCertificateIssued, "", "", "sha256", sha256, "size", strconv.FormatInt(v.Size, 10))
	return nil
}

// dropCertificate forgets the certificate's blob and keys (DropDocuments) and returns it, if any,
// for the caller to delete.
func (o *SignatureOrder) dropCertificate() []DocumentVersion {
	if o.Certificate == nil {
		return nil
	}
	v := *o.Certificate
	o.Certificate = nil
	return []DocumentVersion{v}
}
