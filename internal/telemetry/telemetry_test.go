package telemetry

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRedactPath(t *testing.T) {
	cases := map[string]string{
		"/sign/abcDEF123":  "/sign/[redacted]",
		"/sign/abc/extra":  "/sign/[redacted]",
		"/sign/":           "/sign/",
		"/v1/graphql":      "/v1/graphql",
		"/signature/thing": "/signature/thing",
	}
	for in, want := range cases {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMiddlewareRequestIDsLogsAndMetrics(t *testing.T) {
	var logs bytes.Buffer
	log := NewLogger(slog.NewJSONHandler(&logs, nil))
	m := NewMetrics()
	var seen string
	h := Middleware(log, m, func(*http.Request) string { return "route" }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestID(r.Context())
		log.InfoContext(r.Context(), "inside")
		w.WriteHeader(http.StatusTeapot)
	}))
	for _, tc := range []struct{ incoming, want string }{
		{"client-chosen.id_1", "client-chosen.id_1"},
		{"bad id with spaces", ""}, // replaced by a fresh one
	} {
		logs.Reset()
		req := httptest.NewRequest(http.MethodGet, "/sign/secret-token", nil)
		req.Header.Set("X-Request-Id", tc.incoming)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get("X-Request-Id")
		if got != seen || got == "" || (tc.want != "" && got != tc.want) || (tc.want == "" && got == tc.incoming) {
			t.Errorf("incoming %q: answered %q, handler saw %q", tc.incoming, got, seen)
		}
		if strings.Contains(logs.String(), "secret-token") {
			t.Error("the access log contains the signing token")
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("want 2 log lines, got %d: %s", len(lines), logs.String())
		}
		for _, line := range lines {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["request_id"] != got {
				t.Errorf("log line without the request id: %s", line)
			}
		}
	}
	m.ObserveOperation("mutation createSignatureOrder", "ok", 3*time.Millisecond)
	m.DocumentStored(1234)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`esign_graphql_operations_total{operation="mutation createSignatureOrder",outcome="ok"} 1`,
		`esign_document_bytes_stored_total 1234`,
		`esign_http_requests_total{code="418",route="route"} 2`,
		`esign_graphql_operation_seconds_bucket`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The metrics behind a bearer token: only the exact token passes; anything else gets 401 with a
// WWW-Authenticate challenge and no metrics.
func TestRequireBearer(t *testing.T) {
	m := NewMetrics()
	m.DocumentStored(1)
	token := "s3cret-metrics-token-0123456789"
	h := RequireBearer(token, m.Handler())
	for name, c := range map[string]struct {
		header string
		want   int
	}{
		"no header":      {"", http.StatusUnauthorized},
		"wrong token":    {"Bearer s3cret-metrics-token-0123456788", http.StatusUnauthorized},
		"prefix only":    {"Bearer s3cret", http.StatusUnauthorized},
		"longer":         {"Bearer " + token + "x", http.StatusUnauthorized},
		"basic":          {"Basic " + token, http.StatusUnauthorized},
		"without scheme": {token, http.StatusUnauthorized},
		"right token":    {"Bearer " + token, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body := rec.Body.String()
		if rec.Code != c.want || strings.Contains(body, "esign_") != (c.want == http.StatusOK) {
			t.Errorf("%s: HTTP %d (want %d), metrics shown: %v", name, rec.Code, c.want, strings.Contains(body, "esign_"))
		}
		if c.want == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without a WWW-Authenticate challenge", name)
		}
	}
	empty := RequireBearer("", m.Handler())
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer ")
	rec := httptest.NewRecorder()
	empty.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("an empty token let an empty bearer in: HTTP %d", rec.Code)
	}
}
