// Package webhook delivers the events in the outbox to integrators' receivers: workers claim due
// deliveries with a lease, POST them (signed with HMAC when the order has a secret), log every
// attempt and schedule the retries of the contract. A worker that dies mid-send leaves its
// deliveries to another once the lease ends: delivery is at least once, and the delivery id header
// lets receivers drop duplicates.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"esign/internal/store"
)

// RetrySchedule is how long after each failed attempt the next one is made (the contract's); after
// the last, the delivery is given up.
var RetrySchedule = []time.Duration{5 * time.Second, 30 * time.Second, time.Minute, 5 * time.Minute, time.Hour,
	5 * time.Hour, 12 * time.Hour, 24 * time.Hour, 36 * time.Hour, 48 * time.Hour}

// Headers of every request. X-Criipto-Signature is Criipto's (HMAC of the body); the others let a
// receiver drop duplicates and replays: the signature covers "<delivery id>.<timestamp>.<body>".
const (
	HeaderCriiptoSignature = "X-Criipto-Signature"
	HeaderDeliveryID       = "X-Esign-Delivery-Id"
	HeaderTimestamp        = "X-Esign-Timestamp"
	HeaderSignature        = "X-Esign-Signature"
)

// ValidationBody is what a receiver gets when an order with validateConnectivity is created.
const ValidationBody = `{"event":"WEBHOOK_VALIDATION"}`

// Store is the outbox (store.Store).
type Store interface {
	ClaimWebhookDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.WebhookDelivery, error)
	RecordWebhookInvocation(ctx context.Context, inv store.WebhookInvocation) error
}

// Config is the delivery part of the server configuration.
type Config struct {
	Workers             int           // concurrent requests
	Timeout             time.Duration // per request
	PollInterval        time.Duration // how often an idle dispatcher looks for due deliveries
	AllowPrivateTargets bool          // send to loopback, private and link-local addresses (tests, on-premises receivers)
}

// Dispatcher sends due deliveries. It is safe for concurrent use.
type Dispatcher struct {
	store  Store
	cfg    Config
	log    *slog.Logger
	client *http.Client
	// Now is a field so that tests can move time.
	Now func() time.Time
}

// New prepares a dispatcher; Run starts it.
func New(st Store, cfg Config, log *slog.Logger) (*Dispatcher, error) {
	if cfg.Workers <= 0 || cfg.Timeout <= 0 || cfg.PollInterval <= 0 {
		return nil, errors.New("webhook: workers, timeout and poll interval must be positive")
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivateTargets {
		// Checked on the address actually dialled, after DNS: a name that resolves to an internal
		// address (or is rebound to one) is refused too.
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook target %s: %w", address, err)
			}
			if ip := ap.Addr().Unmap(); !publicAddress(ip) {
				return fmt.Errorf("webhook target %s is not a public address (set WEBHOOK_ALLOW_PRIVATE_TARGETS to allow it)", ip)
			}
			return nil
		}
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, around the address check
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConnsPerHost:   cfg.Workers,
		IdleConnTimeout:       time.Minute,
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect is not a 200: it is logged and retried like any other answer.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Dispatcher{store: st, cfg: cfg, log: log, client: client,
		Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// publicAddress says whether ip may receive webhooks by default.
func publicAddress(ip netip.Addr) bool {
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !cgnat.Contains(ip)
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.log.Info("webhook dispatcher started", "workers", d.cfg.Workers)
	for ctx.Err() == nil {
		n, err := d.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "webhook delivery pass failed", "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(d.cfg.PollInterval):
			}
		}
	}
}

// lease is how long a claimed delivery is ours: longer than any attempt takes.
func (d *Dispatcher) lease() time.Duration { return 2*d.cfg.Timeout + 30*time.Second }

// DeliverDue claims the deliveries due now (a few per worker), sends them concurrently and records
// each attempt; it says how many it sent.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	claimed, err := d.store.ClaimWebhookDeliveries(ctx, d.Now(), d.lease(), 4*d.cfg.Workers)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	next := make(chan store.WebhookDelivery)
	for range min(d.cfg.Workers, len(claimed)) {
		wg.Go(func() {
			for del := range next {
				inv := d.Attempt(ctx, del)
				// Recorded even when ctx ends: the attempt happened.
				if err := d.store.RecordWebhookInvocation(context.WithoutCancel(ctx), inv); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, del := range claimed {
		next <- del
	}
	close(next)
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// Attempt sends one delivery once and describes the attempt, with when to try again (nil after a
// 200 or the last retry).
func (d *Dispatcher) Attempt(ctx context.Context, del store.WebhookDelivery) store.WebhookInvocation {
	start := d.Now()
	inv := store.WebhookInvocation{ID: uuid.Must(uuid.NewV7()).String(), DeliveryID: del.ID, ApplicationID: del.ApplicationID,
		OrderID: del.OrderID, Event: del.Event, URL: del.URL, RequestBody: string(del.Body), At: start}
	status, body, err := d.post(ctx, del.URL, del.ID, del.Secret, del.Body)
	var netErr net.Error
	switch {
	case err == nil && status == http.StatusOK:
		inv.Outcome = store.InvocationSuccess
	case err == nil:
		inv.Outcome = store.InvocationHTTPError
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		inv.Outcome = store.InvocationTimeout
		inv.TimeoutMillis = ptr(int(d.cfg.Timeout.Milliseconds()))
	default:
		inv.Outcome = store.InvocationException
		inv.Exception = ptr(err.Error())
	}
	if err == nil {
		inv.StatusCode, inv.ResponseBody = &status, &body
	}
	if inv.Outcome != store.InvocationSuccess && del.Attempt >= 1 && del.Attempt <= len(RetrySchedule) {
		inv.RetryingAt = ptr(start.Add(RetrySchedule[del.Attempt-1]))
	}
	d.log.InfoContext(ctx, "webhook attempt", "delivery", del.ID, "order", del.OrderID, "event", del.Event,
		"attempt", del.Attempt, "outcome", inv.Outcome, "status", status, "retrying_at", inv.RetryingAt)
	return inv
}

// Validate sends WEBHOOK_VALIDATION and wants a 200 within 5 s.
func (d *Dispatcher) Validate(ctx context.Context, url string, secret []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	status, _, err := d.post(ctx, url, uuid.Must(uuid.NewV7()).String(), secret, []byte(ValidationBody))
	switch {
	case err != nil:
		return err
	case status != http.StatusOK:
		return fmt.Errorf("answered HTTP %d", status)
	}
	return nil
}

// maxResponseBody is how much of a receiver's answer the log keeps.
const maxResponseBody = 16 << 10

func (d *Dispatcher) post(ctx context.Context, url, deliveryID string, secret, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("webhook url: %w", err)
	}
	ts := strconv.FormatInt(d.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "esign-webhooks/1")
	req.Header.Set(HeaderDeliveryID, deliveryID)
	req.Header.Set(HeaderTimestamp, ts)
	if len(secret) > 0 {
		req.Header.Set(HeaderCriiptoSignature, Sign(secret, body))
		req.Header.Set(HeaderSignature, "v1="+Sign(secret, []byte(deliveryID+"."+ts+"."), body))
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection can be reused
	return resp.StatusCode, string(answer), nil
}

// Sign is base64(HMAC-SHA256(secret, parts...)).
func Sign(secret []byte, parts ...[]byte) string {
	mac := hmac.New(sha256.New, secret)
	for _, p := range parts {
		mac.Write(p)
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func ptr[T any](v T) *T { return &v }
