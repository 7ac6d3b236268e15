package order

import (
	"encoding/json"
	"time"
)

// Webhook events of the contract.
const (
	EventSignatorySigned         = "SIGNATORY_SIGNED"
	EventSignatoryRejected       = "SIGNATORY_REJECTED"
	EventSignatoryApproved       = "SIGNATORY_APPROVED"
	EventSignatorySignError      = "SIGNATORY_SIGN_ERROR"
	EventSignLinkOpened          = "SIGNATORY_SIGN_LINK_OPENED"
	EventDownloadLinkOpened      = "SIGNATORY_DOWNLOAD_LINK_OPENED"
	EventDocumentStatusChanged   = "SIGNATORY_DOCUMENT_STATUS_CHANGED"
	EventSignatureOrderExpired   = "SIGNATURE_ORDER_EXPIRED"
	EventAllCurrentSignersSigned = "ALL_CURRENT_SIGNATORIES_SIGNED"
)

// Event is something an integrator's webhook hears about. A change raises it on the order, and the
// store writes it to the webhook outbox in the same transaction as the order, so that no event is
// lost and none is sent for a change that did not commit.
type Event struct {
	Name string
	// URL and Secret are the order's webhook when the event was raised.
	URL    string
	Secret []byte
	Body   []byte // the JSON the receiver gets, as the contract spells it
	At     time.Time
}

// Events are the events raised since the order was loaded; not part of the stored aggregate.
func (o *SignatureOrder) Events() []Event { return o.events }

// raise records an event when the order has a webhook. fields come after event and
// signatureOrderId in the body, in the contract's order.
func (o *SignatureOrder) raise(name string, at time.Time, fields ...field) {
	if o.Webhook == nil || o.Webhook.URL == "" {
		return
	}
	body := []byte(`{"event":` + quote(name) + `,"signatureOrderId":` + quote(o.ID))
	for _, f := range fields {
		v, _ := json.Marshal(f.value) // strings and *string only: cannot fail
		body = append(append(append(body, ',', '"'), f.name...), append([]byte(`":`), v...)...)
	}
	body = append(body, '}')
	o.events = append(o.events, Event{Name: name, URL: o.Webhook.URL, Secret: o.Webhook.Secret, Body: body, At: at})
}

type field struct {
	name  string
	value any
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
