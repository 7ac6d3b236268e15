package signing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"esign/internal/envelope"
	"esign/internal/fault"
	"esign/internal/order"
	"esign/internal/store"
)

// WebhookSender sends webhook requests (webhook.Dispatcher).
type WebhookSender interface {
	// Validate sends WEBHOOK_VALIDATION and wants a 200 within 5 s.
	Validate(ctx context.Context, url string, secret []byte) error
	// Attempt sends one delivery once and describes the attempt.
	Attempt(ctx context.Context, d store.WebhookDelivery) order.WebhookInvocation
}

// validateWebhook sends WEBHOOK_VALIDATION when the webhook asks for it; a receiver that does not
// answer 200 in time fails the call that set the webhook.
func (s *Service) validateWebhook(ctx context.Context, w *order.Webhook) error {
	if w == nil || !w.ValidateConnectivity {
		return nil
	}
	if s.cfg.Webhooks == nil {
		return fault.NotImplemented("webhook.validateConnectivity (no webhook sender is configured)")
	}
	if err := s.cfg.Webhooks.Validate(ctx, w.URL, w.Secret); err != nil {
		return fault.Invalid("webhook.url", "did not answer the WEBHOOK_VALIDATION request with HTTP 200 within 5 seconds (%v)", err)
	}
	return nil
}

// A webhook secret is kept encrypted with the document envelope (both layers, bound to its order), in
// the order and in every delivery of its events, and decrypted only to sign a request: a database dump
// or backup holds no key that forges webhooks. The encrypted form is encryptedSecretPrefix followed by the
// JSON of encryptedBytes; the prefix tells it from the raw secrets stored before (random bytes that
// start with it by chance: 2^-248).
const encryptedSecretPrefix = "esign-encrypted-webhook-secret/v1:"

// isEncryptedSecret tells a encrypted secret from one stored raw before secrets were encrypted.
func isEncryptedSecret(secret []byte) bool {
	return bytes.HasPrefix(secret, []byte(encryptedSecretPrefix))
}

// webhookSecretBinding binds a encrypted secret to its order: copied to another order's row (or
// delivery), it does not open. No document id is "webhook-secret", so it decrypts as no document either.
func webhookSecretBinding(applicationID, orderID string) envelope.Binding {
	return envelope.Binding{ApplicationID: applicationID, OrderID: orderID, DocumentID: "webhook-secret"}
}

// encryptWebhook returns a copy of w whose secret is encrypted for the order, or w itself when there is no
// secret. The caller has validated the secret in clear (its length, the connectivity check).
func (s *Service) encryptWebhook(ctx context.Context, applicationID, orderID string, w *order.Webhook) (*order.Webhook, error) {
	if w == nil || len(w.Secret) == 0 {
		return w, nil
	}
	secret, err := s.encryptSecret(ctx, applicationID, orderID, w.Secret)
	if err != nil {
		return nil, err
	}
	encrypted := *w
	encrypted.Secret = secret
	return &encrypted, nil
}

// encryptSecret is the encrypted form of a webhook secret of the order.
func (s *Service) encryptSecret(ctx context.Context, applicationID, orderID string, secret []byte) ([]byte, error) {
	encoded, err := s.encryptBytes(ctx, secret, webhookSecretBinding(applicationID, orderID))
	if err != nil {
		return nil, fmt.Errorf("encrypt webhook secret of order %s: %w", orderID, err)
	}
	return append([]byte(encryptedSecretPrefix), encoded...), nil
}

// DecryptWebhookSecret returns the HMAC key a delivery is signed with (webhook.Dispatcher calls it just
// before it signs): nil for none, the secret in clear for one encrypted at rest, and a secret stored
// before encryption as it is.
func (s *Service) DecryptWebhookSecret(ctx context.Context, d store.WebhookDelivery) ([]byte, error) {
	encoded, encrypted := bytes.CutPrefix(d.Secret, []byte(encryptedSecretPrefix))
	if !encrypted {
		return d.Secret, nil
	}
	secret, err := s.decryptBytes(ctx, encoded, webhookSecretBinding(d.ApplicationID, d.OrderID))
	if err != nil {
		return nil, fmt.Errorf("open webhook secret of delivery %s: %w", d.ID, err)
	}
	return secret, nil
}

// encryptBatch is how many rows one step of EncryptStoredWebhookSecrets reads.
const encryptBatch = 200

// EncryptStoredWebhookSecrets encrypts the webhook secrets that were stored in clear before secrets were
// encrypted at rest, in orders and in deliveries, and says how many of each it encrypted. It may run while
// the service serves (an order whose webhook changed meanwhile keeps the change) and again at will:
// encrypted secrets are left as they are.
func (s *Service) EncryptStoredWebhookSecrets(ctx context.Context) (orders, deliveries int, err error) {
	for after := ""; ; {
		ids, err := s.store.ListOrdersWithWebhookSecret(ctx, after, encryptBatch)
		if err != nil {
			return orders, deliveries, fmt.Errorf("encrypt stored webhook secrets: %w", err)
		}
		for _, id := range ids {
			encrypted, err := s.encryptOrderSecret(ctx, id)
			if err != nil {
				return orders, deliveries, fmt.Errorf("encrypt stored webhook secrets: %w", err)
			}
			if encrypted {
				orders++
			}
		}
		if len(ids) < encryptBatch {
			break
		}
		after = ids[len(ids)-1]
	}
	for after := ""; ; {
		page, err := s.store.ListWebhookSecrets(ctx, after, encryptBatch)
		if err != nil {
			return orders, deliveries, fmt.Errorf("encrypt stored webhook secrets: %w", err)
		}
		for _, d := range page {
			if isEncryptedSecret(d.Secret) {
				continue
			}
			encrypted, err := s.encryptSecret(ctx, d.ApplicationID, d.OrderID, d.Secret)
			if err != nil {
				return orders, deliveries, fmt.Errorf("encrypt stored webhook secrets: %w", err)
			}
			ok, err := s.store.SetWebhookSecret(ctx, d.ID, d.Secret, encrypted)
			if err != nil {
				return orders, deliveries, fmt.Errorf("encrypt stored webhook secrets: %w", err)
			}
			if ok {
				deliveries++
			}
		}
		if len(page) < encryptBatch {
			break
		}
		after = page[len(page)-1].ID
	}
	return orders, deliveries, nil
}

// encryptOrderSecret encrypts the secret of one order's webhook if it is still in clear, and says
// whether it did.
func (s *Service) encryptOrderSecret(ctx context.Context, id string) (bool, error) {
	o, err := s.store.GetOrder(ctx, id)
	if errors.Is(err, store.ErrNotFound) { // purged meanwhile
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if o.Webhook == nil || len(o.Webhook.Secret) == 0 || isEncryptedSecret(o.Webhook.Secret) {
		return false, nil
	}
	// Encrypted outside the transaction (an HSM call must not hold the order's lock); kept only if the
	// webhook still has the secret that was encrypted.
	secret, err := s.encryptSecret(ctx, o.ApplicationID, o.ID, o.Webhook.Secret)
	if err != nil {
		return false, err
	}
	encrypted := false
	_, err = s.store.UpdateOrder(ctx, id, func(cur *order.SignatureOrder) error {
		if cur.Webhook == nil || !bytes.Equal(cur.Webhook.Secret, o.Webhook.Secret) {
			return nil
		}
		changed := *cur.Webhook
		changed.Secret = secret
		cur.Webhook, encrypted = &changed, true
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return encrypted, err
}

// maxWebhookLogs bounds one answer of the webhook logs.
const maxWebhookLogs = 1000

// WebhookLogQuery selects webhook invocations as the caller gives the bounds (ISO 8601 text).
type WebhookLogQuery struct {
	OrderID   string // "" for every order of the caller's
	From, To  string // invocations at or after From, before To
	Succeeded *bool  // nil: any outcome
}

// WebhookLogs lists the caller's webhook invocations with a timestamp in [From, To), of one order
// when OrderID is set, oldest first (at most 1,000).
func (s *Service) WebhookLogs(ctx context.Context, p Principal, in WebhookLogQuery) ([]order.WebhookInvocation, error) {
	orderID, from, to := in.OrderID, in.From, in.To
	q := store.WebhookLogQuery{ApplicationID: p.Application.ID, OrderID: orderID, Succeeded: in.Succeeded, Limit: maxWebhookLogs}
	var err error
	if q.From, err = time.Parse(time.RFC3339Nano, from); err != nil {
		return nil, fault.Invalid("from", "must be an ISO 8601 date and time such as 2026-01-31T12:00:00Z")
	}
	if q.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
		return nil, fault.Invalid("to", "must be an ISO 8601 date and time such as 2026-01-31T12:00:00Z")
	}
	if !q.To.After(q.From) {
		return nil, fault.Invalid("to", "must be after from")
	}
	if orderID != "" {
		o, err := s.Order(ctx, p, orderID)
		if err != nil || o == nil {
			return nil, err
		}
	}
	out, err := s.store.ListWebhookInvocations(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("webhook logs: %w", err)
	}
	return out, nil
}

// retryLease keeps workers off a manual retry while it is being sent.
const retryLease = 5 * time.Minute

// RetryWebhook sends the event of an earlier invocation again, now, to the order's current webhook
// (the integrator may have fixed its URL or secret since), as a new delivery: if this attempt
// fails too, the contract's retry schedule takes over.
func (s *Service) RetryWebhook(ctx context.Context, p Principal, orderID, retryPayload string) (order.WebhookInvocation, error) {
	if err := requireWrite(p); err != nil {
		return order.WebhookInvocation{}, err
	}
	if s.cfg.Webhooks == nil {
		return order.WebhookInvocation{}, fault.NotImplemented("retrySignatureOrderWebhook (no webhook sender is configured)")
	}
	o, err := s.Order(ctx, p, orderID)
	if err != nil {
		return order.WebhookInvocation{}, err
	}
	if o == nil {
		return order.WebhookInvocation{}, fault.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
	}
	if o.Webhook == nil {
		return order.WebhookInvocation{}, fault.Conflictf("signature order %s has no webhook", orderID)
	}
	earlier, err := s.store.GetWebhookDelivery(ctx, retryPayload)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (earlier.OrderID != o.ID || earlier.ApplicationID != p.Application.ID)) {
		return order.WebhookInvocation{}, fault.Invalid("retryPayload", "is not the retryPayload of a webhook invocation of this signature order")
	}
	if err != nil {
		return order.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	now := s.Now()
	d := store.WebhookDelivery{ID: uuid.Must(uuid.NewV7()).String(), ApplicationID: o.ApplicationID, OrderID: o.ID, Event: earlier.Event,
		URL: o.Webhook.URL, Secret: o.Webhook.Secret, Body: earlier.Body, CreatedAt: now, Attempt: 1}
	if err := s.store.EnqueueWebhook(ctx, d, now.Add(retryLease)); err != nil {
		return order.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	inv := s.cfg.Webhooks.Attempt(ctx, d)
	if err := s.store.RecordWebhookInvocation(context.WithoutCancel(ctx), inv); err != nil {
		return order.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	return inv, nil
}
