package webhook_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/netguard/netguardtest"
	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/webhook"
)

// flight counts requests in progress and the most there were at once.
type flight struct {
	mu        sync.Mutex
	now, most int
	total     int
}

func (f *flight) enter() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now++
	f.total++
	f.most = max(f.most, f.now)
}

func (f *flight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now--
}

func (f *flight) counts() (now, most, total int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now, f.most, f.total
}

// newStalling is a receiver that holds every request of application A until release is closed,
// counting them in its own flight and in app (A's, over all its receivers). It answers the others
// (application B's, delivery ids "b-…") at once and tells other about them.
func newStalling(t testing.TB, release chan struct{}, own, app *flight, other chan<- string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read first: the server notices a client that gave up (r.Context) only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		if id := r.Header.Get(webhook.HeaderDeliveryID); strings.HasPrefix(id, "b-") {
			other <- id
			return
		}
		own.enter()
		app.enter()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		app.leave()
		own.leave()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func enqueue(t testing.TB, st store.Store, id, app, url string, due time.Time) {
	t.Helper()
	if err := st.EnqueueWebhook(context.Background(), store.WebhookDelivery{ID: id, ApplicationID: app, OrderID: "o-" + app,
		Event: order.EventSignatorySigned, URL: url, Body: []byte(`{"event":"SIGNATORY_SIGNED"}`), CreatedAt: due}, due); err != nil {
		t.Fatal(err)
	}
}

// Application A has 64 deliveries, due first, to two receivers that do not answer; application B
// has one, due after all of A's. B's delivery lands while every one of A's is still held by its
// receiver, and A never has more in flight than the caps allow. (Before the worker pool, a pass
// claimed a batch of A's and waited for all of it: B waited for A's receivers.)
func TestSlowReceiverDoesNotDelayAnotherApplication(t *testing.T) {
	st := backends[0].open(t)
	release := make(chan struct{})
	var f1, f2, app flight
	bGot := make(chan string, 4)
	a1, a2 := newStalling(t, release, &f1, &app, bGot), newStalling(t, release, &f2, &app, bGot)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bGot <- r.Header.Get(webhook.HeaderDeliveryID)
	}))
	t.Cleanup(b.Close)
	for i := range 64 {
		url := a1.URL
		if i%2 == 1 {
			url = a2.URL
		}
		enqueue(t, st, fmt.Sprintf("a-%02d", i), "app-a", url+"/hook", t0)
	}
	// B's two: one to its own receiver, one to the service A's first receiver is (a host many
	// integrators may share).
	enqueue(t, st, "b-own", "app-b", b.URL+"/hook", t0.Add(time.Millisecond))
	enqueue(t, st, "b-shared", "app-b", a1.URL+"/hook", t0.Add(2*time.Millisecond))

	now := t0.Add(time.Second)
	d := newDispatcher(t, st, webhook.Config{AllowPrivateTargets: true, Workers: 16, PerHost: 4, PerApplication: 6, Timeout: time.Minute}, &now)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })

	for range 2 {
		select {
		case <-bGot:
		case <-time.After(20 * time.Second):
			_, _, got := app.counts()
			t.Fatalf("application B's deliveries did not land while A's receivers stalled (they got %d)", got)
		}
	}
	for _, f := range []*flight{&f1, &f2} {
		if now, most, total := f.counts(); now != total || most > 4 {
			t.Errorf("a receiver of A: %d in flight of %d received (none may have finished), at most %d at once, want ≤ 4", now, total, most)
		}
	}
	if now, _, _ := app.counts(); now > 6 {
		t.Errorf("application A had %d in flight when B landed, want ≤ 6", now)
	}
	// The deliveries waiting here are leased for as long as they may wait: six minutes on (six
	// rounds of a minute-long attempt, 6 at a time), another replica claiming gets none of them,
	// only those this one never claimed (their first attempt). (A fixed lease of two attempts and
	// 30 s would have let it take those still waiting here.)
	stolen, err := st.ClaimWebhookDeliveries(context.Background(), store.WebhookClaim{Now: now.Add(6 * time.Minute), Lease: time.Minute, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, del := range stolen {
		if del.Attempt != 1 {
			t.Errorf("another replica could claim %s, which this one holds", del.ID)
		}
	}
	if inFlight, _, _ := app.counts(); 64-len(stolen) <= inFlight {
		t.Errorf("this replica holds %d of A's deliveries, %d in flight: none waiting, the lease went untested", 64-len(stolen), inFlight)
	}

	// A's receivers recover: all of A's this replica holds get delivered, still within the caps.
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, got := app.counts()
		if got == 64-len(stolen) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the receivers recovered, %d of the %d deliveries of A's this replica holds arrived", got, 64-len(stolen))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, f := range []*flight{&f1, &f2} {
		if _, most, _ := f.counts(); most > 4 {
			t.Errorf("a receiver of A had %d requests at once, want ≤ 4", most)
		}
	}
	if _, most, _ := app.counts(); most > 6 {
		t.Errorf("application A had %d requests in flight at once, want ≤ 6", most)
	}
}

// A webhook aimed at loopback, in any spelling, never reaches a listener there: neither the
// delivery nor validateConnectivity. The log says why.
func TestRefusedTargetNeverContacted(t *testing.T) {
	st := backends[0].open(t)
	l := netguardtest.Listen(t)
	now := t0
	d := newDispatcher(t, st, webhook.Config{}, &now)
	urls := []string{"http://127.0.0.1:%s/hook", "https://localhost:%s/hook", "http://0.0.0.0:%s/hook", "http://[::ffff:127.0.0.1]:%s/hook", "http://[::1]:%s/"}
	for i, u := range urls {
		u = fmt.Sprintf(u, l.Port())
		orderWithWebhook(t, st, fmt.Sprintf("loop-%d", i), u, nil)
		if err := d.Validate(context.Background(), u, nil); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("Validate(%s) = %v, want refused", u, err)
		}
	}
	if n, err := d.DeliverDue(context.Background()); n != len(urls) || err != nil {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	for i := range urls {
		inv := logs(t, st, fmt.Sprintf("loop-%d", i))
		if len(inv) != 1 || inv[0].Outcome != order.InvocationException || !strings.Contains(*inv[0].Exception, "not a public address") {
			t.Errorf("%s: log %+v", urls[i], inv)
		}
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// The forms the old address guard let through (NAT64 of internal addresses, 6to4, IPv4-compatible,
// site-local, benchmarking, "this network", reserved and IETF protocol addresses) are refused
// before connecting.
func TestSpecialPurposeTargetsRefused(t *testing.T) {
	now := t0
	d := newDispatcher(t, backends[0].open(t), webhook.Config{Timeout: 300 * time.Millisecond}, &now)
	for _, host := range []string{"[64:ff9b::a9fe:a9fe]", "[64:ff9b::7f00:1]", "[2002:7f00:1::1]", "[::7f00:1]", "[fec0::1]",
		"198.18.0.1", "0.0.0.1", "240.0.0.1", "192.0.0.1", "[64:ff9b:1::a00:1]", "[2001::1]", "[2001:db8::1]"} {
		u := "http://" + host + ":9/hook"
		if err := d.Validate(context.Background(), u, nil); err == nil || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("Validate(%s) = %v, want refused as not a public address", u, err)
		}
	}
}

// BenchmarkOtherApplicationLatency measures how long application B's delivery takes to land while
// application A has 64 deliveries, due first, to a receiver that answers after a delay (default
// caps, 16 workers). "idle" is B's delivery with nothing else due, for comparison.
func BenchmarkOtherApplicationLatency(b *testing.B) {
	b.Run("idle", func(b *testing.B) { benchmarkOtherApplication(b, 0) })
	for _, slowAnswer := range []time.Duration{3 * time.Second, 15 * time.Second} {
		b.Run("receiver="+slowAnswer.String(), func(b *testing.B) { benchmarkOtherApplication(b, slowAnswer) })
	}
}

func benchmarkOtherApplication(b *testing.B, slowAnswer time.Duration) {
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st := backends[0].open(b)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-time.After(slowAnswer):
			case <-r.Context().Done():
			}
		}))
		bGot := make(chan time.Time, 1)
		fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case bGot <- time.Now():
			default:
			}
		}))
		for j := range 64 * min(int(slowAnswer), 1) {
			enqueue(b, st, fmt.Sprintf("a-%d-%02d", i, j), "app-a", slow.URL, t0)
		}
		enqueue(b, st, fmt.Sprintf("b-%d", i), "app-b", fast.URL, t0.Add(time.Millisecond))
		now := t0.Add(time.Second)
		d, err := webhook.New(st, webhook.Config{AllowPrivateTargets: true, Workers: 16, Timeout: slowAnswer + 5*time.Second, PollInterval: 100 * time.Millisecond},
			discardLogger())
		if err != nil {
			b.Fatal(err)
		}
		d.Now = func() time.Time { return now }
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		b.StartTimer()
		start := time.Now()
		go func() { defer close(stopped); d.Run(ctx) }()
		landed := <-bGot
		total += landed.Sub(start)
		b.StopTimer()
		cancel()
		<-stopped
		slow.Close()
		fast.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/other-app-delivery")
}

// Application A has 500 deliveries due, far more than the backlog, all to one receiver that holds
// every request; application B has one, due after all of A's. B's lands while every request of
// A's is still held, so the claims got past A's rows (they skip an application that has a round
// waiting here) and this replica holds only a few of A's: another one can claim the rest at once.
// (Before claims skipped capped applications, A's rows filled the backlog and B waited for A's
// receiver.)
func TestCappedApplicationDoesNotFillTheBacklog(t *testing.T) {
	st := backends[0].open(t)
	release := make(chan struct{})
	var recv, app flight
	bGot := make(chan string, 1)
	a := newStalling(t, release, &recv, &app, bGot)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bGot <- r.Header.Get(webhook.HeaderDeliveryID)
	}))
	t.Cleanup(b.Close)
	const many = 500
	for i := range many {
		enqueue(t, st, fmt.Sprintf("a-%03d", i), "app-a", a.URL+"/hook", t0)
	}
	enqueue(t, st, "b-late", "app-b", b.URL+"/hook", t0.Add(time.Millisecond))

	now := t0.Add(time.Second)
	cfg := webhook.Config{AllowPrivateTargets: true, Workers: 16, PerHost: 4, PerApplication: 8, Timeout: time.Minute}
	d := newDispatcher(t, st, cfg, &now)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	t.Cleanup(func() { close(release); cancel(); <-stopped })

	select {
	case <-bGot:
	case <-time.After(20 * time.Second):
		_, _, got := app.counts()
		t.Fatalf("application B's delivery did not land while A's receiver held %d requests", got)
	}
	// Ordering, not timing: none of A's requests had an answer when B's landed.
	if inFlight, most, total := recv.counts(); inFlight != total || most > cfg.PerHost {
		t.Errorf("A's receiver: %d in flight of %d received, %d at most at once; want all still held, at most %d", inFlight, total, most, cfg.PerHost)
	}
	// What this replica took of A's is what it runs (PerHost) and one round waiting, plus at most
	// the one claim that filled that round: another replica gets the rest.
	rest, err := st.ClaimWebhookDeliveries(context.Background(), store.WebhookClaim{Now: now, Lease: time.Minute, Limit: 2 * many})
	if err != nil {
		t.Fatal(err)
	}
	if taken := many - len(rest); taken > cfg.PerHost+cfg.PerApplication+cfg.Workers {
		t.Errorf("this replica claimed %d of A's deliveries, want at most %d", taken, cfg.PerHost+cfg.PerApplication+cfg.Workers)
	}
}

// A claim that skipped an application and came back short is repeated as soon as that
// application has room again, not a PollInterval later: one application's deliveries to a fast
// receiver flow without waiting for the poll. (Waiting for it made that 16 deliveries a second
// with the default interval and 16 workers.)
func TestSkippedApplicationClaimedAgainWhenItHasRoom(t *testing.T) {
	st := backends[0].open(t)
	rcv := newReceiver(t)
	const n = 100
	for i := range n {
		enqueue(t, st, fmt.Sprintf("a-%03d", i), "app-a", rcv.URL+"/hook", t0)
	}
	d, err := webhook.New(st, webhook.Config{AllowPrivateTargets: true, Workers: 4, PerHost: 2, PerApplication: 2, Timeout: 5 * time.Second,
		PollInterval: time.Hour}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Second)
	d.Now = func() time.Time { return now }
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	deadline := time.Now().Add(20 * time.Second)
	for rcv.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d delivered: the claims waited for the poll", rcv.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
