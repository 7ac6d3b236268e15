package webhook_test

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/store/postgres"
	"esign/internal/store/sqlite"
	"esign/internal/store/storetest"
	"esign/internal/testenv"
	"esign/internal/webhook"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

var backends = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "esign.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t testing.TB) store.Store {
		st, err := postgres.Open(context.Background(), testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, st store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

// receiver is the integrator's endpoint: it answers with the statuses it is given, in turn (200
// once they run out), and keeps what it got.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	delay    time.Duration
	got      []*http.Request
	bodies   []string
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.bodies = append(r.got, req), append(r.bodies, string(body))
		status, delay := http.StatusOK, r.delay
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func newDispatcher(t testing.TB, st store.Store, cfg webhook.Config, now *time.Time) *webhook.Dispatcher {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	cfg.PollInterval = 10 * time.Millisecond
	d, err := webhook.New(st, cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	d.Now = func() time.Time { return *now }
	return d
}

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// orderWithWebhook stores an order whose webhook is url and raises one event on it through an
// update, as the service does: the event reaches the outbox with the change.
func orderWithWebhook(t *testing.T, st store.Store, id, url string, secret []byte) *order.SignatureOrder {
	t.Helper()
	o := storetest.NewOrder("app-1", id, t0)
	o.Webhook = &order.Webhook{URL: url, Secret: secret}
	if err := st.CreateOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateOrder(context.Background(), id, func(o *order.SignatureOrder) error {
		return o.Track(o.Signatories[0].ID, false, t0)
	}); err != nil {
		t.Fatal(err)
	}
	return o
}

func logs(t *testing.T, st store.Store, orderID string) []order.WebhookInvocation {
	t.Helper()
	got, err := st.ListWebhookInvocations(context.Background(), store.WebhookLogQuery{ApplicationID: "app-1", OrderID: orderID,
		From: t0.Add(-time.Hour), To: t0.Add(30 * 24 * time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDeliversSignedEvent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		rcv := newReceiver(t)
		secret := []byte("0123456789abcdef0123456789abcdef")
		o := orderWithWebhook(t, st, "signed", rcv.URL+"/hook", secret)
		now := t0
		d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true}, &now)
		n, err := d.DeliverDue(context.Background())
		if err != nil || n != 1 || rcv.count() != 1 {
			t.Fatalf("DeliverDue: %d, %v; receiver got %d", n, err, rcv.count())
		}
		req, body := rcv.got[0], rcv.bodies[0]
		want := `{"event":"SIGNATORY_SIGN_LINK_OPENED","signatureOrderId":"signed","signatoryId":"` + o.Signatories[0].ID + `"}`
		if body != want || req.Method != http.MethodPost || req.URL.Path != "/hook" || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %q: %s", req.Method, req.URL.Path, req.Header.Get("Content-Type"), body)
		}
		// The receiver checks both signatures with the secret it shares.
		if got, _ := base64.StdEncoding.DecodeString(req.Header.Get(webhook.HeaderCriiptoSignature)); !hmac.Equal(got, mac(secret, body)) {
			t.Errorf("X-Criipto-Signature %q does not verify", req.Header.Get(webhook.HeaderCriiptoSignature))
		}
		id, ts := req.Header.Get(webhook.HeaderDeliveryID), req.Header.Get(webhook.HeaderTimestamp)
		v1, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(req.Header.Get(webhook.HeaderSignature), "v1="))
		if id == "" || ts != fmt.Sprint(t0.Unix()) || !hmac.Equal(v1, mac(secret, id+"."+ts+"."+body)) {
			t.Errorf("delivery id %q, timestamp %q, signature %q", id, ts, req.Header.Get(webhook.HeaderSignature))
		}
		inv := logs(t, st, "signed")
		if len(inv) != 1 || inv[0].Outcome != order.InvocationSuccess || *inv[0].StatusCode != 200 || *inv[0].ResponseBody != "answer 200" ||
			inv[0].RequestBody != want || inv[0].RetryingAt != nil || inv[0].DeliveryID != id {
			t.Errorf("log: %+v", inv)
		}
		// Delivered once: nothing is due any more, ever.
		now = t0.Add(72 * time.Hour)
		if n, err := d.DeliverDue(context.Background()); n != 0 || err != nil {
			t.Errorf("second pass sent %d (%v)", n, err)
		}
	})
}

func mac(secret []byte, msg string) []byte {
	b, _ := base64.StdEncoding.DecodeString(webhook.Sign(secret, []byte(msg)))
	return b
}

// Non-200 answers are retried on the contract's schedule, and the log says when.
func TestRetriesOnTheSchedule(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		rcv := newReceiver(t, 500, 404)
		orderWithWebhook(t, st, "retried", rcv.URL, nil)
		now := t0
		d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true}, &now)
		ctx := context.Background()
		for _, step := range []struct {
			at   time.Duration
			sent int
		}{{0, 1}, {4 * time.Second, 0}, {5 * time.Second, 1}, {34 * time.Second, 0}, {35 * time.Second, 1}, {24 * time.Hour, 0}} {
			now = t0.Add(step.at)
			if n, err := d.DeliverDue(ctx); n != step.sent || err != nil {
				t.Fatalf("at +%v: sent %d (%v), want %d", step.at, n, err, step.sent)
			}
		}
		inv := logs(t, st, "retried")
		if len(inv) != 3 {
			t.Fatalf("%d invocations, want 3", len(inv))
		}
		for i, want := range []struct {
			outcome order.InvocationOutcome
			status  int
			retry   time.Duration
		}{{order.InvocationHTTPError, 500, 5 * time.Second}, {order.InvocationHTTPError, 404, 35 * time.Second}, {order.InvocationSuccess, 200, -1}} {
			got := inv[i]
			if got.Outcome != want.outcome || *got.StatusCode != want.status || (want.retry < 0) != (got.RetryingAt == nil) ||
				(got.RetryingAt != nil && !got.RetryingAt.Equal(t0.Add(want.retry))) {
				t.Errorf("invocation %d: %s %d retrying %v; want %s %d at +%v", i, got.Outcome, *got.StatusCode, got.RetryingAt, want.outcome, want.status, want.retry)
			}
		}
	})
}

// A receiver down for hours gets the event once it is back; one down for good is given up after
// the last retry of the schedule.
func TestReceiverDown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens: connections are refused
		orderWithWebhook(t, st, "down", "http://"+addr+"/hook", nil)
		now := t0
		d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true}, &now)
		ctx := context.Background()
		// Six hours of outage: the attempts at 0, 5 s, 35 s, 95 s, 395 s, 3995 s fail.
		elapsed := time.Duration(0)
		for i := 0; i < 6; i++ {
			now = t0.Add(elapsed)
			if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d at +%v: sent %d (%v)", i+1, elapsed, n, err)
			}
			elapsed += webhook.RetrySchedule[i]
		}
		for _, inv := range logs(t, st, "down") {
			if inv.Outcome != order.InvocationException || inv.Exception == nil || !strings.Contains(*inv.Exception, "refused") {
				t.Errorf("while down: %s %v", inv.Outcome, inv.Exception)
			}
		}
		// Back up on the same address; the seventh attempt (5 h after the sixth) delivers.
		back, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("could not listen on %s again: %v", addr, err)
		}
		rcv := &receiver{}
		rcv.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			rcv.mu.Lock()
			rcv.got, rcv.bodies = append(rcv.got, r), append(rcv.bodies, string(body))
			rcv.mu.Unlock()
		}))
		rcv.Listener.Close()
		rcv.Listener = back
		rcv.Start()
		t.Cleanup(rcv.Close)
		now = t0.Add(elapsed - time.Second)
		if n, _ := d.DeliverDue(ctx); n != 0 {
			t.Fatalf("sent %d before the next retry was due", n)
		}
		now = t0.Add(elapsed)
		if n, err := d.DeliverDue(ctx); n != 1 || err != nil || rcv.count() != 1 {
			t.Fatalf("after the outage: sent %d (%v), received %d", n, err, rcv.count())
		}
		if n, _ := d.DeliverDue(ctx); n != 0 {
			t.Errorf("delivered twice")
		}

		// An endpoint that never answers 200: 1 + 10 attempts, then given up.
		always := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
		orderWithWebhook(t, st, "broken", always.URL, nil)
		now, elapsed = t0, 0
		for i := 0; i <= len(webhook.RetrySchedule); i++ {
			now = t0.Add(elapsed)
			if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d: sent %d (%v)", i+1, n, err)
			}
			if i < len(webhook.RetrySchedule) {
				elapsed += webhook.RetrySchedule[i]
			}
		}
		now = t0.Add(30 * 24 * time.Hour)
		if n, _ := d.DeliverDue(ctx); n != 0 || always.count() != 11 {
			t.Errorf("after the last retry: sent %d more, %d attempts in all; want 0 and 11", n, always.count())
		}
		inv := logs(t, st, "broken")
		if last := inv[len(inv)-1]; last.RetryingAt != nil {
			t.Errorf("the last attempt says it retries at %v", last.RetryingAt)
		}
	})
}

func TestTimeout(t *testing.T) {
	st := backends[0].open(t)
	rcv := newReceiver(t)
	rcv.delay = time.Second
	orderWithWebhook(t, st, "slow", rcv.URL, nil)
	now := t0
	d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true, Timeout: 200 * time.Millisecond}, &now)
	if n, err := d.DeliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("sent %d (%v)", n, err)
	}
	inv := logs(t, st, "slow")
	if len(inv) != 1 || inv[0].Outcome != order.InvocationTimeout || inv[0].TimeoutMillis == nil || *inv[0].TimeoutMillis != 200 || inv[0].RetryingAt == nil {
		t.Errorf("log: %+v", inv)
	}
}

// Without permission, loopback, private and link-local targets are refused before connecting.
func TestPrivateTargetsRefused(t *testing.T) {
	st := backends[0].open(t)
	rcv := newReceiver(t)
	orderWithWebhook(t, st, "private", rcv.URL, nil)
	now := t0
	d := newDispatcher(t, st, webhook.Config{}, &now)
	if n, err := d.DeliverDue(context.Background()); n != 1 || err != nil {
		t.Fatalf("sent %d (%v)", n, err)
	}
	inv := logs(t, st, "private")
	if rcv.count() != 0 || len(inv) != 1 || inv[0].Outcome != order.InvocationException || !strings.Contains(*inv[0].Exception, "not a public address") {
		t.Errorf("receiver got %d; log %+v", rcv.count(), inv)
	}
	for _, url := range []string{"http://169.254.169.254/latest/meta-data", "http://10.0.0.1/", "http://[::1]:9/", "http://100.64.0.1/"} {
		if err := d.Validate(context.Background(), url, nil); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("Validate(%s) = %v, want refused", url, err)
		}
	}
}

// A worker that claimed deliveries and died leaves them to another after the lease.
func TestLostWorker(t *testing.T) {
	forEachBackend(t, func(t *testing.T, st store.Store) {
		rcv := newReceiver(t)
		orderWithWebhook(t, st, "lost", rcv.URL, nil)
		ctx := context.Background()
		if claimed, err := st.ClaimWebhookDeliveries(ctx, store.WebhookClaim{Now: t0, Lease: time.Minute, Limit: 10}); err != nil || len(claimed) != 1 {
			t.Fatalf("the dying worker's claim: %d, %v", len(claimed), err)
		}
		now := t0.Add(30 * time.Second)
		d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true}, &now)
		if n, _ := d.DeliverDue(ctx); n != 0 {
			t.Fatalf("a leased delivery was sent again")
		}
		now = t0.Add(2 * time.Minute)
		if n, err := d.DeliverDue(ctx); n != 1 || err != nil || rcv.count() != 1 {
			t.Fatalf("after the lease: sent %d (%v), received %d", n, err, rcv.count())
		}
	})
}

func TestValidate(t *testing.T) {
	ok, failing := newReceiver(t), newReceiver(t, 503)
	now := t0
	d := newDispatcher(t, backends[0].open(t), webhook.Config{AllowPrivateTargets: true}, &now)
	secret := []byte("s3cret-s3cret-s3cret-s3cret-s3cret")
	if err := d.Validate(context.Background(), ok.URL, secret); err != nil {
		t.Fatal(err)
	}
	if ok.bodies[0] != webhook.ValidationBody || ok.got[0].Header.Get(webhook.HeaderCriiptoSignature) != webhook.Sign(secret, []byte(webhook.ValidationBody)) {
		t.Errorf("validation request: %s %v", ok.bodies[0], ok.got[0].Header)
	}
	if err := d.Validate(context.Background(), failing.URL, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Validate against a 503: %v", err)
	}
}

// BenchmarkDeliveries sends 2,000 deliveries to a local receiver with 16 workers and reports
// deliveries per second (target: 500/s).
func BenchmarkDeliveries(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			st := be.open(b)
			rcv := newReceiver(b)
			now := t0
			d := newDispatcher(b, st, webhook.Config{AllowPrivateTargets: true, Workers: 16}, &now)
			ctx := context.Background()
			const n = 2000
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				for j := range n {
					if err := st.EnqueueWebhook(ctx, store.WebhookDelivery{ID: fmt.Sprintf("b%d-%d", i, j), ApplicationID: "app-1", OrderID: "o",
						Event: order.EventSignatorySigned, URL: rcv.URL, Secret: []byte("secret"), Body: []byte(`{"event":"SIGNATORY_SIGNED"}`), CreatedAt: t0}, t0); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start, sent := time.Now(), 0
				for sent < n {
					k, err := d.DeliverDue(ctx)
					if err != nil || k == 0 {
						b.Fatalf("after %d: %d, %v", sent, k, err)
					}
					sent += k
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "deliveries/s")
		})
	}
}
