package order

import (
	"fmt"
	"time"
)

// A deletion receipt is what the service states when an order's documents are deleted: which
// order, which documents by keyed hash, when and why. The domain writes its content in the change
// that drops the documents (DropDocuments), so no deletion goes without one; the service signs it
// with the seal key when it is asked for (signing.DeletionReceipt), so it can be shown to a data
// subject or an auditor and checked by anyone who trusts the seal's certificate.
//
// The keyed hash of a version is HMAC-SHA256(k, SHA-256(the version's bytes)) with k a key of the
// order's own that the application gets with the receipt: the receipt alone confirms nothing about
// a document to whoever holds it, while the integrator (or a data subject the integrator gives k
// and their document) can check that the deleted document was theirs.

// EventDocumentsDeleted is the webhook event announcing a deletion receipt (an extension of the
// contract's events, raised only for a webhook that asks for it: Webhook.DeletionReceipts).
const EventDocumentsDeleted = "SIGNATURE_ORDER_DOCUMENTS_DELETED"

// DeletionReceipt is the content of an order's deletion receipt.
type DeletionReceipt struct {
	ID        string            `json:"id"`
	Reason    string            `json:"reason"` // one of the Deleted* reasons
	DeletedAt time.Time         `json:"deletedAt"`
	Documents []ReceiptDocument `json:"documents"`
}

// ReceiptDocument is one deleted document: its versions by keyed hash.
type ReceiptDocument struct {
	DocumentID string           `json:"documentId"`
	Versions   []ReceiptVersion `json:"versions"`
}

// ReceiptVersion is one deleted version of a document. KeyedHash is empty for a version stored
// before receipts existed.
type ReceiptVersion struct {
	Number    int    `json:"number"`
	KeyedHash string `json:"keyedHash,omitempty"`
}

// issueReceipt writes the receipt for documents about to be dropped at now for reason, from the
// versions they hold, and raises its webhook event. Called by DropDocuments before it forgets them.
func (o *SignatureOrder) issueReceipt(now time.Time, reason string) {
	r := DeletionReceipt{ID: fmt.Sprintf("%s.deletion", o.ID), Reason: reason, DeletedAt: now,
		Documents: make([]ReceiptDocument, 0, len(o.Documents))}
	for _, d := range o.Documents {
		rd := ReceiptDocument{DocumentID: d.ID, Versions: make([]ReceiptVersion, 0, len(d.Versions))}
		for _, v := range d.Versions {
			rd.Versions = append(rd.Versions, ReceiptVersion{Number: v.Number, KeyedHash: v.KeyedHash})
		}
		r.Documents = append(r.Documents, rd)
	}
	if c := o.Certificate; c != nil {
		// The completion certificate names the signatories and quotes their acts: it goes too.
		r.Documents = append(r.Documents, ReceiptDocument{DocumentID: CertificateDocumentID,
			Versions: []ReceiptVersion{{Number: c.Number, KeyedHash: c.KeyedHash}}})
	}
	o.DeletionReceipt = &r
	if o.Webhook != nil && o.Webhook.DeletionReceipts {
		o.raise(EventDocumentsDeleted, now, field{"receiptId", r.ID}, field{"reason", reason},
			field{"deletedAt", now.UTC().Format(time.RFC3339Nano)})
	}
}
