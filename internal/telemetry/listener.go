package telemetry

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DefaultMetricsAddr keeps /metrics off the public port and off the network: `make run` still shows
// them on this machine, and a scraper elsewhere needs another Addr (a private interface) or a Token
// (the public port, with a bearer token).
const DefaultMetricsAddr = "127.0.0.1:9464"

// MetricsListener says where /metrics is served.
type MetricsListener struct {
	// Addr is the listen address of a listener that serves only /metrics; "off" for none.
	Addr string
	// DefaultAddr is true when Addr was not configured: then a busy port (a second instance on the
	// machine) turns the listener off with a warning instead of failing the start.
	DefaultAddr bool
	// Token, when set, is required as a bearer token wherever /metrics is served, and also serves
	// /metrics on the public port.
	Token string
}

// ServeMetrics starts the metrics listener, if any, and returns what stops it.
func ServeMetrics(cfg MetricsListener, log *slog.Logger, metrics *Metrics, stdout io.Writer) (stop func(), err error) {
	if cfg.Addr == "off" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil && cfg.DefaultAddr {
		log.Warn("metrics listener off: the default metrics address is taken (configure another)", "addr", cfg.Addr, "err", err)
		return func() {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metrics listener: listen on %s: %w", cfg.Addr, err)
	}
	var h http.Handler = metrics.Handler()
	if cfg.Token != "" {
		h = RequireBearer(cfg.Token, h)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "esign metrics on http://%s/metrics\n", ln.Addr())
	log.Info("metrics listening", "addr", ln.Addr().String(), "token", cfg.Token != "")
	// A scrape cut short at shutdown is harmless: the next scrape reads the next process.
	return func() { _ = srv.Close() }, nil
}
