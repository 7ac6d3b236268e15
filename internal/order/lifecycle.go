package order

import (
	"strconv"
	"time"

	"esign/internal/fault"
)

func (o *SignatureOrder) requireOpen() error {
	if o.Status != StatusOpen {
		return fault.Conflictf("signature order is %s: only OPEN orders can be changed", o.Status)
	}
	return nil
}

func (o *SignatureOrder) hasSignatures() bool {
	for _, s := range o.Signatories {
		if s.Status == SignatorySigned {
			return true
		}
	}
	return false
}

// ChangeSignatory applies the draft's given fields to an open signatory.
func (o *SignatureOrder) ChangeSignatory(id string, d SignatoryDraft) error {
	if err := o.requireOpen(); err != nil {
		return err
	}
	s := o.Signatory(id)
	if s == nil {
		return fault.NotFoundf("signatureOrder does not contain the defined signatory")
	}
	if s.Status != SignatoryOpen {
		return fault.Conflictf("signatory is %s: only OPEN signatories can be changed", s.Status)
	}
	changed := *s
	if err := o.applySignatoryDraft("input", &changed, d, false); err != nil {
		return err
	}
	*s = changed
	if err := o.checkSealPositions("input"); err != nil {
		return err
	}
	if err := o.checkSize(); err != nil { // changes can fill every signatory's fields after they were added short
		return err
	}
	o.record(time.Time{}, AuditSignatoryChanged, id, "")
	return nil
}

// DeleteSignatory removes a signatory that has not signed.
func (o *SignatureOrder) DeleteSignatory(id string) error {
	if err := o.requireOpen(); err != nil {
		return err
	}
	for i, s := range o.Signatories {
		if s.ID != id {
			continue
		}
		if s.Status == SignatorySigned {
			return fault.Conflictf("signatory has signed and cannot be deleted")
		}
		o.Signatories = append(o.Signatories[:i], o.Signatories[i+1:]...)
		o.record(time.Time{}, AuditSignatoryDeleted, id, "")
		return nil
	}
	return fault.NotFoundf("signatureOrder does not contain the defined signatory")
}

// Change sets maxSignatories (before the first signature only) and/or the webhook.
func (o *SignatureOrder) Change(maxSignatories *int, webhook *Webhook) error {
	if err := o.requireOpen(); err != nil {
		return err
	}
	if maxSignatories != nil {
		if err := checkMaxSignatories(*maxSignatories); err != nil {
			return err
		}
		if o.hasSignatures() {
			return fault.Conflictf("maxSignatories can only be changed before the first signature")
		}
		if n := o.activeSignatories(); *maxSignatories < n {
			return fault.Invalid("maxSignatories", "must be at least the %d signatories the order already has", n)
		}
		// A seals page template's grid was sized for the order's maxSignatories at creation: a
		// signatory beyond its slots could never be sealed.
		for _, d := range o.Documents {
			if t := d.SealsPageTemplate; t != nil && *maxSignatories > t.Columns*t.Rows {
				return fault.Invalid("maxSignatories", "must be at most %d: the seals page template of document %s has %d × %d slots",
					t.Columns*t.Rows, d.Title, t.Columns, t.Rows)
			}
		}
		o.MaxSignatories = *maxSignatories
	}
	if webhook != nil {
		if err := checkWebhook(webhook); err != nil {
			return err
		}
		o.Webhook = webhook
	}
	if err := o.checkSize(); err != nil {
		return err
	}
	var details []string
	if maxSignatories != nil {
		details = append(details, "maxSignatories", strconv.Itoa(*maxSignatories))
	}
	if webhook != nil {
		details = append(details, "webhook", "changed") // not the URL: it may carry a token
	}
	o.record(time.Time{}, AuditOrderChanged, "", "", details...)
	return nil
}

// Extend moves expiresAt exactly days × 24 h later.
func (o *SignatureOrder) Extend(days int) error {
	if days < MinExtendDays || days > MaxExtendDays {
		return fault.Invalid("additionalExpirationInDays", "must be between %d and %d", MinExtendDays, MaxExtendDays)
	}
	if err := o.requireOpen(); err != nil {
		return err
	}
	o.ExpiresAt = o.ExpiresAt.Add(time.Duration(days) * 24 * time.Hour)
	o.record(time.Time{}, AuditOrderExtended, "", "", "days", strconv.Itoa(days), "expiresAt", o.ExpiresAt.UTC().Format(time.RFC3339))
	return nil
}

// Cancel marks an open order cancelled; the caller then deletes its documents.
func (o *SignatureOrder) Cancel(now time.Time) error {
	if err := o.requireOpen(); err != nil {
		return err
	}
	o.Status = StatusCancelled
	o.CancelledAt = &now
	o.dropReason = DeletedByCancel
	o.record(now, AuditOrderCancelled, "", "")
	return nil
}

// CheckRetainDays validates closeSignatureOrder's retainDocumentsForDays.
func CheckRetainDays(days *int) error {
	if days != nil && (*days < MinRetainDocumentsDays || *days > MaxRetainDocumentsDays) {
		return fault.Invalid("retainDocumentsForDays", "must be between %d and %d", MinRetainDocumentsDays, MaxRetainDocumentsDays)
	}
	return nil
}

// Close marks an open order closed. With retainDays its documents stay until now + retainDays;
// without, the caller deletes them once it has answered with them.
func (o *SignatureOrder) Close(now time.Time, retainDays *int) error {
	if err := CheckRetainDays(retainDays); err != nil {
		return err
	}
	if err := o.requireOpen(); err != nil {
		return err
	}
	o.Status = StatusClosed
	o.ClosedAt = &now
	if retainDays != nil {
		until := now.Add(time.Duration(*retainDays) * 24 * time.Hour)
		o.RetainDocumentsUntil = &until
		o.record(now, AuditOrderClosed, "", "", "retainDocumentsForDays", strconv.Itoa(*retainDays),
			"retainDocumentsUntil", until.UTC().Format(time.RFC3339))
		return nil
	}
	o.dropReason = DeletedAtClose
	o.record(now, AuditOrderClosed, "", "")
	return nil
}

// CheckCleanup says whether cleanupSignatureOrder may delete the documents: any order that is no
// longer OPEN; calling it again is fine.
func (o *SignatureOrder) CheckCleanup() error {
	if o.Status == StatusOpen {
		return fault.Conflictf("signature order is OPEN: close or cancel it before cleaning up")
	}
	o.dropReason = DeletedByCleanup
	return nil
}

// DropDocuments forgets every stored version (blob key and wrapped keys), seals page templates
// included, and returns them so the caller can delete the blobs. After it, only metadata remains.
func (o *SignatureOrder) DropDocuments(now time.Time) []DocumentVersion {
	var dropped []DocumentVersion
	held := o.HasStoredDocuments() || o.DocumentsDeletedAt == nil
	reason := o.dropReason
	if reason == "" {
		reason = DeletedBySweep
	}
	if held && o.DeletionReceipt == nil {
		o.issueReceipt(now, reason)
	}
	for i := range o.Documents {
		d := &o.Documents[i]
		dropped = append(dropped, d.StoredBlobs()...)
		d.Versions = nil
		if d.SealsPageTemplate != nil {
			// A copy, not a change through the pointer: the store's Apply keeps the order as it
			// was loaded beside this one, sharing the documents.
			t := *d.SealsPageTemplate
			t.Blob = nil
			d.SealsPageTemplate = &t
		}
		if d.DeletedAt == nil {
			d.DeletedAt = &now
		}
	}
	dropped = append(dropped, o.dropCertificate()...) // it lives as long as the documents
	if o.DocumentsDeletedAt == nil {
		o.DocumentsDeletedAt = &now
	}
	o.RetainDocumentsUntil = nil
	if held {
		o.record(now, AuditDocumentsDeleted, "", "", "reason", reason, "documents", strconv.Itoa(len(o.Documents)))
	}
	return dropped
}
