// Package telemetry holds the service's operability plumbing: Prometheus metrics, JSON logs that carry
// the request id, and the HTTP middleware that assigns request ids and writes access logs.
package telemetry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the service's Prometheus metrics, on a registry of their own (no global state).
type Metrics struct {
	registry      *prometheus.Registry
	operations    *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	documentBytes prometheus.Counter
	documents     prometheus.Counter
	httpRequests  *prometheus.CounterVec
	sweepRuns     *prometheus.CounterVec
	sweepSeconds  *prometheus.HistogramVec
	sweepItems    *prometheus.CounterVec
}

// NewMetrics registers every metric.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esign_graphql_operations_total", Help: "GraphQL operations by root field and outcome.",
		}, []string{"operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "esign_graphql_operation_seconds", Help: "GraphQL operation latency by root field.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation"}),
		documentBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "esign_document_bytes_stored_total", Help: "Plaintext bytes of document versions encrypted and stored.",
		}),
		documents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "esign_document_versions_stored_total", Help: "Document versions encrypted and stored.",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esign_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		sweepRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esign_sweeper_runs_total", Help: "Sweeper passes (sweep, orphans) by outcome.",
		}, []string{"pass", "outcome"}),
		sweepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "esign_sweeper_run_seconds", Help: "Sweeper pass duration.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
		}, []string{"pass"}),
		sweepItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "esign_sweeper_items_total",
			Help: "What the sweeper did: orders_changed, orders_expired, document_versions_deleted, blob_delete_errors, orphan_blobs_deleted, orders_purged, idempotency_keys_purged, login_forms_purged.",
		}, []string{"item"}),
	}
	m.registry.MustRegister(m.operations, m.latency, m.documentBytes, m.documents, m.httpRequests,
		m.sweepRuns, m.sweepSeconds, m.sweepItems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// MinMetricsTokenBytes is the shortest bearer token RequireBearer is meant for: a token that guards
// an endpoint anyone can reach must not be guessable.
const MinMetricsTokenBytes = 16

// RequireBearer serves next only to requests with "Authorization: Bearer <token>" (what Prometheus
// sends with a bearer_token scrape setting) and answers 401 to the others. The comparison is of
// SHA-256 digests in constant time, so neither the token's bytes nor its length leak through timing.
func RequireBearer(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok || token == "" { // an empty token opens nothing
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token\n", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ObserveOperation records one GraphQL operation.
func (m *Metrics) ObserveOperation(operation, outcome string, d time.Duration) {
	m.operations.WithLabelValues(operation, outcome).Inc()
	m.latency.WithLabelValues(operation).Observe(d.Seconds())
}

// DocumentStored records one stored document version of n plaintext bytes.
func (m *Metrics) DocumentStored(n int64) {
	m.documents.Inc()
	m.documentBytes.Add(float64(n))
}

// ObserveSweep records one sweeper pass: its outcome, duration and what it did, by item.
func (m *Metrics) ObserveSweep(pass string, err error, d time.Duration, items map[string]int) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.sweepRuns.WithLabelValues(pass, outcome).Inc()
	m.sweepSeconds.WithLabelValues(pass).Observe(d.Seconds())
	for item, n := range items {
		m.sweepItems.WithLabelValues(item).Add(float64(n))
	}
}

type ctxKey struct{}

// RequestID returns the id of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// NewLogger writes JSON lines and adds the request id of the context to every record.
func NewLogger(h slog.Handler) *slog.Logger { return slog.New(contextHandler{h}) }

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}
func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Middleware gives every request an id (a sane incoming X-Request-Id is kept), answers with it, and
// logs one line per request. Paths that carry secrets (signing links) are logged without them.
func Middleware(log *slog.Logger, m *Metrics, route func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxKey{}, id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))
		m.httpRequests.WithLabelValues(route(r), strconv.Itoa(rec.status)).Inc()
		log.InfoContext(ctx, "http request", "method", r.Method, "path", RedactPath(r.URL.Path),
			"status", rec.status, "bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds())
	})
}

// RedactPath removes signatory tokens from signing-page paths.
func RedactPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/sign/"); ok && rest != "" {
		return "/sign/[redacted]"
	}
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
