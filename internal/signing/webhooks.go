package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"esign/internal/order"
	"esign/internal/store"
)

// WebhookSender sends webhook requests (webhook.Dispatcher).
type WebhookSender interface {
	// Validate sends WEBHOOK_VALIDATION and wants a 200 within 5 s.
	Validate(ctx context.Context, url string, secret []byte) error
	// Attempt sends one delivery once and describes the attempt.
	Attempt(ctx context.Context, d store.WebhookDelivery) store.WebhookInvocation
}

// validateWebhook sends WEBHOOK_VALIDATION when the webhook asks for it; a receiver that does not
// answer 200 in time fails the call that set the webhook.
func (s *Service) validateWebhook(ctx context.Context, w *order.Webhook) error {
	if w == nil || !w.ValidateConnectivity {
		return nil
	}
	if s.cfg.Webhooks == nil {
		return order.NotImplemented("webhook.validateConnectivity (no webhook sender is configured)")
	}
	if err := s.cfg.Webhooks.Validate(ctx, w.URL, w.Secret); err != nil {
		return order.Invalid("webhook.url", "did not answer the WEBHOOK_VALIDATION request with HTTP 200 within 5 seconds (%v)", err)
	}
	return nil
}

// maxWebhookLogs bounds one answer of the webhook logs.
const maxWebhookLogs = 1000

// WebhookLogs lists the caller's webhook invocations with a timestamp in [from, to), of one order
// when orderID is set, oldest first (at most 1,000).
func (s *Service) WebhookLogs(ctx context.Context, p Principal, orderID, from, to string, succeeded *bool) ([]store.WebhookInvocation, error) {
	q := store.WebhookLogQuery{ApplicationID: p.Application.ID, OrderID: orderID, Succeeded: succeeded, Limit: maxWebhookLogs}
	var err error
	if q.From, err = time.Parse(time.RFC3339Nano, from); err != nil {
		return nil, order.Invalid("from", "must be an ISO 8601 date and time such as 2026-01-31T12:00:00Z")
	}
	if q.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
		return nil, order.Invalid("to", "must be an ISO 8601 date and time such as 2026-01-31T12:00:00Z")
	}
	if !q.To.After(q.From) {
		return nil, order.Invalid("to", "must be after from")
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
func (s *Service) RetryWebhook(ctx context.Context, p Principal, orderID, retryPayload string) (store.WebhookInvocation, error) {
	if err := requireWrite(p); err != nil {
		return store.WebhookInvocation{}, err
	}
	if s.cfg.Webhooks == nil {
		return store.WebhookInvocation{}, order.NotImplemented("retrySignatureOrderWebhook (no webhook sender is configured)")
	}
	o, err := s.Order(ctx, p, orderID)
	if err != nil {
		return store.WebhookInvocation{}, err
	}
	if o == nil {
		return store.WebhookInvocation{}, order.NotFoundf("signatureOrderId: no signature order with id %q", orderID)
	}
	if o.Webhook == nil {
		return store.WebhookInvocation{}, order.Conflictf("signature order %s has no webhook", orderID)
	}
	earlier, err := s.store.GetWebhookDelivery(ctx, retryPayload)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (earlier.OrderID != o.ID || earlier.ApplicationID != p.Application.ID)) {
		return store.WebhookInvocation{}, order.Invalid("retryPayload", "is not the retryPayload of a webhook invocation of this signature order")
	}
	if err != nil {
		return store.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	now := s.Now()
	d := store.WebhookDelivery{ID: uuid.Must(uuid.NewV7()).String(), ApplicationID: o.ApplicationID, OrderID: o.ID, Event: earlier.Event,
		URL: o.Webhook.URL, Secret: o.Webhook.Secret, Body: earlier.Body, CreatedAt: now, Attempt: 1}
	if err := s.store.EnqueueWebhook(ctx, d, now.Add(retryLease)); err != nil {
		return store.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	inv := s.cfg.Webhooks.Attempt(ctx, d)
	if err := s.store.RecordWebhookInvocation(context.WithoutCancel(ctx), inv); err != nil {
		return store.WebhookInvocation{}, fmt.Errorf("retry webhook: %w", err)
	}
	return inv, nil
}
