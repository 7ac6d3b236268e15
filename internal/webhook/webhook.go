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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"esign/internal/netguard"
	"esign/internal/order"
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
	ClaimWebhookDeliveries(ctx context.Context, c store.WebhookClaim) ([]store.WebhookDelivery, error)
	RecordWebhookInvocation(ctx context.Context, inv order.WebhookInvocation) error
}

// Config is the delivery part of the server configuration.
type Config struct {
	Workers             int           // concurrent requests
	Timeout             time.Duration // per request
	PollInterval        time.Duration // how often an idle dispatcher looks for due deliveries
	AllowPrivateTargets bool          // send to loopback, private and link-local addresses (tests, on-premises receivers)
	// PerHost bounds one application's attempts in flight to one target host (host:port), so that
	// a slow receiver holds at most that many workers; 4 when zero. It counts per application so that
	// integrators sharing a receiving service (one host for many applications) do not queue behind
	// each other there.
	PerHost int
	// PerApplication bounds the attempts in flight for one application (over all its hosts); half
	// the workers when zero.
	PerApplication int
	// Backlog bounds the claimed deliveries waiting for their host or application to have room; 4
	// per worker when zero. Claims stop while it is full. One application holds little of it: once
	// PerApplication of its deliveries wait here, claims skip it (store.WebhookClaim.SkipApplications)
	// and go to the others' until some of those start.
	Backlog int
	// Net makes the HTTP client (the server's one outbound policy); nil refuses every non-public
	// address unless AllowPrivateTargets.
	Net *netguard.Factory
}

// Dispatcher sends due deliveries. It is safe for concurrent use.
type Dispatcher struct {
	store  Store
	cfg    Config
	log    *slog.Logger
	client *http.Client
	// Now is a field so that tests can move time.
	Now func() time.Time
	// DecryptSecret turns a delivery's stored secret (encrypted at rest) into the HMAC key, just before
	// the request is signed (signing.Service.DecryptWebhookSecret); nil uses the stored bytes as they are.
	DecryptSecret func(ctx context.Context, d store.WebhookDelivery) ([]byte, error)
}

// New prepares a dispatcher; Run starts it.
func New(st Store, cfg Config, log *slog.Logger) (*Dispatcher, error) {
	if cfg.Workers <= 0 || cfg.Timeout <= 0 || cfg.PollInterval <= 0 {
		return nil, errors.New("webhook: workers, timeout and poll interval must be positive")
	}
	if cfg.PerHost <= 0 {
		cfg.PerHost = 4
	}
	if cfg.PerApplication <= 0 {
		cfg.PerApplication = max(1, cfg.Workers/2)
	}
	if cfg.Backlog <= 0 {
		cfg.Backlog = 4 * cfg.Workers
	}
	if cfg.Net == nil {
		cfg.Net = netguard.New(netguard.Config{})
	}
	// The address check is netguard's, on the address actually dialled. Redirects are not
	// followed: a redirect is not a 200, it is logged and retried like any other answer.
	client := cfg.Net.Client(netguard.Options{Timeout: cfg.Timeout, MaxResponseBytes: maxResponseBody + 1<<20,
		AllowPrivate: cfg.AllowPrivateTargets})
	return &Dispatcher{store: st, cfg: cfg, log: log, client: client,
		Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}, nil
}

// Run delivers until ctx ends, as a pool of workers that never waits for a batch: whenever a worker
// is free it takes the next claimed delivery whose host and application are under their caps
// (Config.PerHost, Config.PerApplication), and claims more as soon as workers are free with nothing
// to do. A slow receiver thus holds at most PerHost workers while the others keep delivering, and
// claims skip an application with a round (PerApplication) already waiting here, so its backlog in
// the outbox does not keep other applications' deliveries from being claimed. When
// ctx ends no attempt is started; those in flight finish (failing fast) and are recorded, and what
// was claimed but not started is left to its lease.
func (d *Dispatcher) Run(ctx context.Context) {
	d.log.Info("webhook dispatcher started", "workers", d.cfg.Workers, "per_host", d.cfg.PerHost, "per_application", d.cfg.PerApplication)
	p := d.newPool()
	var nextClaim time.Time // on the wall clock: polling is real time even when tests move d.Now
	var skipped []string    // what the last short claim skipped
	for ctx.Err() == nil {
		p.startReady(ctx)
		// As many as there are free workers: a claim leases only what this replica can soon send
		// (short leases, and other replicas get the rest), yet repeats at once while what it gets
		// must wait for busy hosts, until the backlog is full. A short claim found nothing more due
		// but the skipped applications': it is repeated after PollInterval, or as soon as one of
		// those has started enough of its held deliveries to be claimed for again.
		room := min(d.cfg.Workers-p.running, d.cfg.Backlog-len(p.held))
		skip := p.skip()
		if room > 0 && (!time.Now().Before(nextClaim) || !slices.Equal(skip, skipped)) {
			n, err := p.claim(ctx, room, skip)
			if err != nil && ctx.Err() == nil {
				d.log.ErrorContext(ctx, "webhook claim failed", "err", err)
			}
			if err != nil || n < room {
				nextClaim, skipped = time.Now().Add(d.cfg.PollInterval), skip
			} else {
				nextClaim = time.Time{} // more may be due: claim again while there is room
			}
			continue
		}
		var poll <-chan time.Time
		if room > 0 {
			poll = time.After(time.Until(nextClaim))
		}
		select {
		case r := <-p.done:
			p.finish(r)
			if r.err != nil {
				d.log.ErrorContext(ctx, "webhook attempt not recorded", "delivery", r.c.del.ID, "err", r.err)
			}
		case <-poll:
		case <-ctx.Done():
		}
	}
	for p.running > 0 {
		r := <-p.done
		p.finish(r)
		if r.err != nil {
			d.log.Error("webhook attempt not recorded", "delivery", r.c.del.ID, "err", r.err)
		}
	}
}

// DeliverDue claims the deliveries due now (a few per worker), sends them under the same caps as
// Run and records each attempt; it returns when all are done and says how many it claimed. It is
// one pass, for tests and tools; the server uses Run.
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	p := d.newPool()
	n, err := p.claim(ctx, 4*d.cfg.Workers, nil)
	if err != nil {
		return 0, err
	}
	var errs []error
	for {
		p.startReady(ctx)
		if p.running == 0 {
			break
		}
		r := <-p.done
		p.finish(r)
		errs = append(errs, r.err)
	}
	return n, errors.Join(errs...)
}

// pool is the scheduling state of one Run or DeliverDue; only its owner's goroutine touches it,
// attempts report back on done.
type pool struct {
	d       *Dispatcher
	held    []claimed      // claimed and not started, in claim order
	waiting map[string]int // len(held) per application id
	running int            // attempts in flight
	busy    map[string]int // attempts in flight per application and host (hostKey) and per application (appKey)
	done    chan result
}

type claimed struct {
	del      store.WebhookDelivery
	host     string
	leaseEnd time.Time
}

type result struct {
	c   claimed
	err error // recording the attempt failed
}

func (d *Dispatcher) newPool() *pool {
	return &pool{d: d, waiting: map[string]int{}, busy: map[string]int{}, done: make(chan result)}
}

// skip is the applications a claim leaves out, sorted: those with PerApplication or more held
// (waiting for their host or application to have room). They have a round to start as soon as
// theirs finish; more would only wait here, where no other replica can send them, and would keep
// other applications' deliveries, due after theirs, from being claimed.
func (p *pool) skip() []string {
	var skip []string
	for app, n := range p.waiting {
		if n >= p.d.cfg.PerApplication {
			skip = append(skip, app)
		}
	}
	slices.Sort(skip)
	return skip
}

// claim leases up to limit more deliveries, none of the applications in skip. The lease covers
// the longest a delivery can wait here: every held one ahead of it, PerHost (or PerApplication) at
// a time, each at most Timeout, and its own attempt; so no other replica takes a delivery this one
// still means to send.
func (p *pool) claim(ctx context.Context, limit int, skip []string) (int, error) {
	cfg := p.d.cfg
	perRound := min(cfg.PerHost, cfg.PerApplication)
	rounds := (len(p.held)+limit+perRound-1)/perRound + 2
	lease := time.Duration(rounds)*cfg.Timeout + 30*time.Second
	now := p.d.Now()
	got, err := p.d.store.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: now, Lease: lease, Limit: limit, SkipApplications: skip})
	if err != nil {
		return 0, err
	}
	for _, del := range got {
		p.held = append(p.held, claimed{del: del, host: hostOf(del.URL), leaseEnd: now.Add(lease)})
		p.waiting[del.ApplicationID]++
	}
	return len(got), nil
}

// startReady starts every held delivery a worker is free for and whose host and application are
// under their caps, oldest claim first; the rest stay held.
func (p *pool) startReady(ctx context.Context) {
	cfg := p.d.cfg
	kept := p.held[:0]
	for _, c := range p.held {
		if p.running >= cfg.Workers || p.busy[c.hostKey()] >= cfg.PerHost || p.busy[c.appKey()] >= cfg.PerApplication {
			kept = append(kept, c)
			continue
		}
		if p.waiting[c.del.ApplicationID]--; p.waiting[c.del.ApplicationID] <= 0 {
			delete(p.waiting, c.del.ApplicationID)
		}
		if p.d.Now().Add(cfg.Timeout).After(c.leaseEnd) {
			// Cannot happen while attempts keep to Timeout; if it does, another replica may own the
			// delivery by now, and sending it here too would be a duplicate for nothing.
			p.d.log.WarnContext(ctx, "webhook delivery left to another worker: its lease ran out while it waited", "delivery", c.del.ID)
			continue
		}
		p.running++
		p.busy[c.hostKey()]++
		p.busy[c.appKey()]++
		go func() {
			inv := p.d.Attempt(ctx, c.del)
			// Recorded even when ctx ends: the attempt happened.
			p.done <- result{c: c, err: p.d.store.RecordWebhookInvocation(context.WithoutCancel(ctx), inv)}
		}()
	}
	clear(p.held[len(kept):])
	p.held = kept
}

func (p *pool) finish(r result) {
	p.running--
	for _, k := range []string{r.c.hostKey(), r.c.appKey()} {
		if p.busy[k]--; p.busy[k] <= 0 {
			delete(p.busy, k)
		}
	}
}

// hostKey and appKey name what Config.PerHost and Config.PerApplication count. An application id
// holds no space, so the two never collide.
func (c claimed) hostKey() string { return "h " + c.del.ApplicationID + " " + c.host }
func (c claimed) appKey() string  { return "a " + c.del.ApplicationID }

// hostOf is what PerHost counts by: the target's host and port, the scheme's port when the URL
// names none.
func hostOf(rawURL string) string {
	if hp, err := netguard.HostPort(rawURL); err == nil {
		return strings.ToLower(hp)
	}
	return rawURL
}

// Attempt sends one delivery once and describes the attempt, with when to try again (nil after a
// 200 or the last retry).
func (d *Dispatcher) Attempt(ctx context.Context, del store.WebhookDelivery) order.WebhookInvocation {
	start := d.Now()
	inv := order.WebhookInvocation{ID: uuid.Must(uuid.NewV7()).String(), DeliveryID: del.ID, ApplicationID: del.ApplicationID,
		OrderID: del.OrderID, Event: del.Event, URL: del.URL, RequestBody: string(del.Body), At: start}
	status, body, err := 0, "", error(nil)
	if secret, serr := d.secret(ctx, del); serr != nil {
		err = serr
	} else {
		status, body, err = d.post(ctx, del.URL, del.ID, secret, del.Body)
	}
	var netErr net.Error
	switch {
	case err == nil && status == http.StatusOK:
		inv.Outcome = order.InvocationSuccess
	case err == nil:
		inv.Outcome = order.InvocationHTTPError
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		inv.Outcome = order.InvocationTimeout
		inv.TimeoutMillis = ptr(int(d.cfg.Timeout.Milliseconds()))
	default:
		inv.Outcome = order.InvocationException
		inv.Exception = ptr(err.Error())
	}
	if err == nil {
		inv.StatusCode, inv.ResponseBody = &status, &body
	}
	if inv.Outcome != order.InvocationSuccess && del.Attempt >= 1 && del.Attempt <= len(RetrySchedule) {
		inv.RetryingAt = ptr(start.Add(RetrySchedule[del.Attempt-1]))
	}
	d.log.InfoContext(ctx, "webhook attempt", "delivery", del.ID, "order", del.OrderID, "event", del.Event,
		"attempt", del.Attempt, "outcome", inv.Outcome, "status", status, "retrying_at", inv.RetryingAt)
	return inv
}

// errSecret is what the webhook logs say when a delivery's secret cannot be opened (the cause,
// which may name keys, goes to the server log only); the delivery is retried like a failed request.
var errSecret = errors.New("the webhook secret could not be decrypted, so the request was not sent")

// secret is the HMAC key of a delivery, opened from its sealed form.
func (d *Dispatcher) secret(ctx context.Context, del store.WebhookDelivery) ([]byte, error) {
	if d.DecryptSecret == nil || len(del.Secret) == 0 {
		return del.Secret, nil
	}
	secret, err := d.DecryptSecret(ctx, del)
	if err != nil {
		d.log.ErrorContext(ctx, "webhook secret did not open", "delivery", del.ID, "order", del.OrderID, "err", err)
		return nil, errSecret
	}
	return secret, nil
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
