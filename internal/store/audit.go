package store

import (
	"encoding/json"
	"fmt"
	"time"

	"esign/internal/auditlog"
	"esign/internal/order"
)

// SealedAuditEntry is one entry of an order's audit trail as stored: Seq counts from 1 per order,
// without gaps; At is the entry's time (in clear, for ordering and listing); Sealed is the entry
// sealed to the order's audit key (package auditlog), opened only by package signing.
type SealedAuditEntry struct {
	OrderID string
	Seq     int64
	At      time.Time
	Sealed  []byte
}

// SealAudit seals the entries an order recorded (order.AuditEntries), numbered from next on. An
// order without an audit key (stored before the trail existed) records nothing: there is no key
// to seal its entries to, and no entry is ever written in clear.
func SealAudit(o *order.SignatureOrder, next int64) ([]SealedAuditEntry, error) {
	entries := o.AuditEntries()
	if len(entries) == 0 || o.AuditKey == nil {
		return nil, nil
	}
	return sealAudit(o.AuditKey.Public, o.ID, next, entries)
}

func sealAudit(public []byte, orderID string, next int64, entries []order.AuditEntry) ([]SealedAuditEntry, error) {
	out := make([]SealedAuditEntry, len(entries))
	for i, e := range entries {
		seq := next + int64(i)
		sealed, err := auditlog.Seal(public, orderID, seq, e)
		if err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		out[i] = SealedAuditEntry{OrderID: orderID, Seq: seq, At: e.At, Sealed: sealed}
	}
	return out, nil
}

// SealWebhookAudit seals the entry of a webhook delivery attempt (order.WebhookAuditEntry) for the
// order stored as data, at next; nil when the order has no audit key.
func SealWebhookAudit(data []byte, inv order.WebhookInvocation, next int64) (*SealedAuditEntry, error) {
	// Only the key is needed: the rest of the aggregate is not decoded.
	var keyed struct {
		AuditKey *order.AuditKey `json:"auditKey"`
	}
	if err := json.Unmarshal(data, &keyed); err != nil {
		return nil, fmt.Errorf("decode order %s: %w", inv.OrderID, err)
	}
	if keyed.AuditKey == nil {
		return nil, nil
	}
	sealed, err := sealAudit(keyed.AuditKey.Public, inv.OrderID, next, []order.AuditEntry{order.WebhookAuditEntry(inv)})
	if err != nil {
		return nil, err
	}
	return &sealed[0], nil
}
