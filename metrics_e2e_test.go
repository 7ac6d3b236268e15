package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"esign/internal/telemetry"
	"esign/internal/testenv"
)

// getMetrics answers a GET's status and body, with a bearer token when one is given.
func getMetrics(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestMetricsEndpoint: /metrics is never open on the public port. It is served on METRICS_ADDR, and,
// with METRICS_TOKEN, on the public port too, only to the bearer of the token (which the metrics
// listener then wants as well).
func TestMetricsEndpoint(t *testing.T) {
	const want = "esign_graphql_operations_total"
	t.Run("separate address", func(t *testing.T) {
		metricsAddr := freeAddr(t)
		s := startServer(t, embedded, map[string]string{"METRICS_ADDR": metricsAddr})
		s.graphql(t, s.writeKey.basic(), `{ viewer { __typename } }`, nil)
		if code, body := getMetrics(t, s.URL+"/metrics", ""); code != http.StatusNotFound || strings.Contains(body, want) {
			t.Errorf("public port /metrics: HTTP %d, metrics shown: %v", code, strings.Contains(body, want))
		}
		if code, body := getMetrics(t, "http://"+metricsAddr+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("METRICS_ADDR /metrics: HTTP %d, body lacks %s", code, want)
		}
		if code, _ := getMetrics(t, "http://"+metricsAddr+"/v1/graphql", ""); code != http.StatusNotFound {
			t.Errorf("the metrics listener serves the API: HTTP %d", code)
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		token := "metrics-token-for-the-test-0123456789"
		metricsAddr := freeAddr(t)
		s := startServer(t, embedded, map[string]string{"METRICS_TOKEN": token, "METRICS_ADDR": metricsAddr})
		s.graphql(t, s.writeKey.basic(), `{ viewer { __typename } }`, nil)
		for _, base := range []string{s.URL, "http://" + metricsAddr} {
			for _, wrong := range []string{"", "metrics-token-for-the-test-0123456788", token[:16]} {
				if code, body := getMetrics(t, base+"/metrics", wrong); code != http.StatusUnauthorized || strings.Contains(body, want) {
					t.Errorf("%s/metrics with token %q: HTTP %d, metrics shown: %v", base, wrong, code, strings.Contains(body, want))
				}
			}
			if code, body := getMetrics(t, base+"/metrics", token); code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s/metrics with the token: HTTP %d, body lacks %s", base, code, want)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		s := startServer(t, embedded, map[string]string{"METRICS_ADDR": "off"})
		if code, _ := getMetrics(t, s.URL+"/metrics", ""); code != http.StatusNotFound {
			t.Errorf("public port /metrics with METRICS_ADDR=off and no token: HTTP %d", code)
		}
	})
	t.Run("configuration", func(t *testing.T) {
		// A METRICS_TOKEN too short is refused by the configuration (internal/config's tests).
		// An address set on purpose that cannot be had fails the start; the default one only warns.
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		env := serverEnv(t, embedded, map[string]string{"METRICS_ADDR": busy.Addr().String()})
		logs := &testenv.SyncBuffer{}
		err = run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, logs)
		if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
			t.Errorf("a busy METRICS_ADDR: %v", err)
		}
		if held, err := net.Listen("tcp", telemetry.DefaultMetricsAddr); err == nil { // else another process has it: busy all the same
			defer held.Close()
		}
		s := startServer(t, embedded, nil)
		if !strings.Contains(s.logs.String(), "metrics listener off") {
			t.Errorf("the default metrics address was busy and nothing was logged:\n%s", s.logs.String())
		}
	})
}
