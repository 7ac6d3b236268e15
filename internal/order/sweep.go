package order

import "time"

// SweepAt is when the sweeper next has work on the order, nil when never: an OPEN order at its
// expiry; a CLOSED order with retained documents when the retention ends; any other order that is
// no longer OPEN but still has documents at once (its creation time, which is in the past).
// Backends store it in an indexed column so the sweeper finds due orders without reading the rest.
func (o *SignatureOrder) SweepAt() *time.Time {
	switch {
	case o.Status == StatusOpen:
		return &o.ExpiresAt
	case !o.HasStoredDocuments():
		return nil
	case o.RetainDocumentsUntil != nil:
		return o.RetainDocumentsUntil
	default:
		return &o.CreatedAt
	}
}

// HasStoredDocuments reports whether any document still has a stored version or seals page
// template (the store deletes kept answers quoting the documents when this turns false; a template
// left alone keeps the order due for the sweep, so its blob is never forgotten).
func (o *SignatureOrder) HasStoredDocuments() bool {
	for i := range o.Documents {
		if len(o.Documents[i].StoredBlobs()) > 0 {
			return true
		}
	}
	return false
}

// SweepResult says what Sweep did to one order.
type SweepResult struct {
	Expired bool              // the order was OPEN past its expiry and is now EXPIRED
	Dropped []DocumentVersion // versions whose keys are gone: the caller deletes their blobs after saving
}

// Sweep applies what is due at now: an OPEN order past its expiry becomes EXPIRED and loses its
// documents; an order no longer OPEN loses documents that are not retained past now. It is decided
// on the order as stored when the sweeper holds its lock, so an order closed or extended meanwhile is
// left alone, and a second sweeper finds nothing left to do.
func (o *SignatureOrder) Sweep(now time.Time) SweepResult {
	var r SweepResult
	switch {
	case o.Status == StatusOpen:
		if now.Before(o.ExpiresAt) {
			return r
		}
		o.Status = StatusExpired
		o.ExpiredAt = &now
		r.Expired = true
		o.raise(EventSignatureOrderExpired, now)
		o.record(now, AuditOrderExpired, "", "")
		o.dropReason = DeletedAtExpiry
	case o.RetainDocumentsUntil != nil && now.Before(*o.RetainDocumentsUntil):
		return r
	case o.RetainDocumentsUntil != nil:
		o.dropReason = DeletedRetentionEnded
	}
	if o.HasStoredDocuments() || o.DocumentsDeletedAt == nil {
		r.Dropped = o.DropDocuments(now)
	}
	return r
}

// RetiredAt is when the order had both ended (closed, cancelled or expired) and lost its documents,
// nil while it is OPEN or still holds documents. Metadata retention counts from it.
func (o *SignatureOrder) RetiredAt() *time.Time {
	var ended *time.Time
	switch o.Status {
	case StatusClosed:
		ended = o.ClosedAt
	case StatusCancelled:
		ended = o.CancelledAt
	case StatusExpired:
		ended = o.ExpiredAt
	}
	if ended == nil || o.HasStoredDocuments() || o.DocumentsDeletedAt == nil {
		return nil
	}
	if o.DocumentsDeletedAt.After(*ended) {
		return o.DocumentsDeletedAt
	}
	return ended
}
