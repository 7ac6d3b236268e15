package evidence_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"esign/internal/evidence"
	"esign/internal/evidence/oidctest"
	"esign/internal/netguard"
	"esign/internal/netguard/netguardtest"
)

// guarded is a verifier as the server builds it: http issuers accepted, addresses checked, and
// trusted the operator's hosts (the explicit test configuration that stands for a public issuer).
func guarded(trusted ...string) *evidence.JWTVerifier {
	client := netguard.New(netguard.Config{TrustedHosts: trusted}).Client(netguard.Options{Timeout: 5 * time.Second})
	return evidence.NewJWTVerifierClient(client, 5*time.Second, true)
}

func hostPort(t *testing.T, url string) string {
	t.Helper()
	hp, err := netguard.HostPort(url)
	if err != nil {
		t.Fatal(err)
	}
	return hp
}

// A provider domain an API caller gives (createSignatureOrder) that names loopback is never
// contacted, in any spelling, with or without a scheme, for verification or for a login.
func TestProviderDomainOnLoopbackNeverContacted(t *testing.T) {
	l := netguardtest.Listen(t)
	v := guarded()
	login, err := evidence.NewLogin(v, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, domain := range []string{"127.0.0.1:" + l.Port(), "http://127.0.0.1:" + l.Port(), "localhost:" + l.Port(),
		"http://[::ffff:127.0.0.1]:" + l.Port(), "http://0.0.0.0:" + l.Port(), "http://[::1]:" + l.Port()} {
		if _, err := v.Verify(context.Background(), domain, "c", nil, "x.y.z"); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("Verify at %s: %v", domain, err)
		}
		_, _, err := login.Start(context.Background(), evidence.LoginRequest{Client: evidence.LoginClient{Domain: domain, ClientID: "c"},
			RedirectURI: "https://app.example/callback"})
		if err == nil || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("login at %s: %v", domain, err)
		}
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// A reachable issuer whose discovery names a jwks_uri on loopback, or that redirects there, does
// not make the server fetch from loopback.
func TestIssuerCannotSendTheServerToLoopback(t *testing.T) {
	l := netguardtest.Listen(t)
	inner := "http://localhost:" + l.Port()
	var issuer *httptest.Server
	issuer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			http.Redirect(w, r, inner+"/.well-known/openid-configuration", http.StatusFound)
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer.URL + strings.TrimSuffix(r.URL.Path, "/.well-known/openid-configuration"),
				"jwks_uri": inner + "/jwks", "authorization_endpoint": issuer.URL + "/auth", "token_endpoint": inner + "/token"})
		}
	}))
	t.Cleanup(issuer.Close)
	v := guarded(hostPort(t, issuer.URL))
	for _, domain := range []string{issuer.URL, issuer.URL + "/redirect/x"} {
		if _, err := v.Verify(context.Background(), domain, "c", nil, "x.y.z"); err == nil || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("Verify at %s: %v", domain, err)
		}
	}
	if n := l.Accepted(); n != 0 {
		t.Errorf("the loopback listener accepted %d connections", n)
	}
}

// stalledIssuer answers discovery only when release is closed; entered gets a value per request.
func stalledIssuer(t *testing.T, release chan struct{}) (*httptest.Server, chan struct{}, *atomic.Int32) {
	entered := make(chan struct{}, 64)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, entered, &requests
}

// While one issuer stalls, a login against another one completes: the stalled call is still
// waiting when the other returns. (Before, one mutex over all issuers held every login until the
// stalled fetch gave up.)
func TestStalledIssuerDoesNotBlockAnother(t *testing.T) {
	release := make(chan struct{})
	stalled, entered, _ := stalledIssuer(t, release)
	t.Cleanup(func() { close(release) })
	good := oidctest.NewIssuer(t)
	v := evidence.NewJWTVerifier(10*time.Second, true)

	stalledDone := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), stalled.URL, "client-1", nil, "x.y.z")
		stalledDone <- err
	}()
	<-entered // the stalled discovery is in progress
	if _, err := v.Verify(context.Background(), good.URL(), "client-1", nil, good.Token(t, nil, nil)); err != nil {
		t.Fatalf("login against the good issuer: %v", err)
	}
	select {
	case err := <-stalledDone:
		t.Fatalf("the stalled issuer's call ended (%v) before the good issuer's could: it waited for it", err)
	default:
	}
}

// Callers waiting for the same issuer share one fetch; a failure is kept for FailureTTL and then
// asked again.
func TestDiscoveryIsSharedAndFailuresCached(t *testing.T) {
	release := make(chan struct{})
	stalled, entered, requests := stalledIssuer(t, release)
	v := evidence.NewJWTVerifier(10*time.Second, true)
	var mu sync.Mutex
	now := time.Now()
	v.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := v.Verify(context.Background(), stalled.URL, "client-1", nil, "x.y.z")
			errs <- err
		})
	}
	<-entered
	// Every caller is waiting on the one fetch; letting it answer ends them all.
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("caller: %v", err)
		}
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d concurrent logins made %d discovery requests, want 1", callers, n)
	}
	if _, err := v.Verify(context.Background(), stalled.URL, "client-1", nil, "x.y.z"); err == nil {
		t.Error("a failed issuer verified")
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("a login within FailureTTL asked the failed issuer again (%d requests)", n)
	}
	mu.Lock()
	now = now.Add(evidence.FailureTTL)
	mu.Unlock()
	_, _ = v.Verify(context.Background(), stalled.URL, "client-1", nil, "x.y.z")
	if n := requests.Load(); n != 2 {
		t.Errorf("after FailureTTL: %d requests, want 2", n)
	}
}

// A caller that gives up does not fail the fetch for the others waiting on it.
func TestCallerGivingUpDoesNotCancelTheSharedFetch(t *testing.T) {
	good := oidctest.NewIssuer(t)
	v := evidence.NewJWTVerifier(10*time.Second, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Verify(ctx, good.URL(), "client-1", nil, good.Token(t, nil, nil)); err == nil {
		t.Fatal("a cancelled call verified")
	}
	if _, err := v.Verify(context.Background(), good.URL(), "client-1", nil, good.Token(t, nil, nil)); err != nil {
		t.Fatalf("after a cancelled caller: %v", err)
	}
}

// BenchmarkLoginWhileAnotherIssuerStalls measures verifying a token of a working issuer (its
// discovery already cached) while another issuer's discovery hangs, with the server's 5 s timeout.
func BenchmarkLoginWhileAnotherIssuerStalls(b *testing.B) {
	good := oidctest.NewIssuer(b)
	token := good.Token(b, nil, nil)
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1024)
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer stalled.Close()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v := evidence.NewJWTVerifier(5*time.Second, true)
		if _, err := v.Verify(context.Background(), good.URL(), "client-1", nil, token); err != nil {
			b.Fatal(err)
		}
		go func() { _, _ = v.Verify(context.Background(), stalled.URL, "client-1", nil, "x.y.z") }()
		<-entered
		b.StartTimer()
		start := time.Now()
		if _, err := v.Verify(context.Background(), good.URL(), "client-1", nil, token); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/login")
}
