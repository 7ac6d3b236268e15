// Package sweeper runs the lifecycle jobs on a cron schedule inside serve: expiring orders, deleting
// documents that are due, deleting orphan blobs and purging old order metadata. It decides nothing
// itself (the rules are order.Sweep, the claiming is the store's); it schedules, logs and counts.
// Every replica may run it: the store hands each due order to one sweeper.
package sweeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"esign/internal/signing"
)

// Service does the work (signing.Service).
type Service interface {
	Sweep(ctx context.Context, now time.Time, batchSize int) (signing.SweepReport, error)
	SweepOrphanBlobs(ctx context.Context, now time.Time, grace time.Duration) (signing.SweepReport, error)
	PurgeOrders(ctx context.Context, retiredBefore time.Time, batchSize int) (signing.SweepReport, error)
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (signing.SweepReport, error)
}

// Observer is told about every pass (telemetry.Metrics).
type Observer interface {
	ObserveSweep(pass string, err error, d time.Duration, items map[string]int)
}

// Config is the sweeper's part of the server configuration.
type Config struct {
	// Schedule of the sweep (expiry, document deletion, metadata purge): a cron spec ("@every 1m",
	// "*/5 * * * *"); "off" disables the sweeper on this replica.
	Schedule string
	// OrphanSchedule of the orphan-blob pass, which lists every blob and so runs less often.
	OrphanSchedule string
	// OrphanGrace is how old an unreferenced blob must be before it counts as orphaned: longer than
	// any write takes from blob upload to commit.
	OrphanGrace time.Duration
	// MetadataRetention is how long an order's metadata stays once it has ended and its documents
	// are gone; zero keeps it forever.
	MetadataRetention time.Duration
	// BatchSize is how many orders one transaction sweeps.
	BatchSize int
}

// Sweeper runs the passes on their schedules. Passes of one kind never overlap on a replica.
type Sweeper struct {
	svc  Service
	cfg  Config
	log  *slog.Logger
	obs  Observer
	cron *cron.Cron
	// Now is a field so that tests can move time.
	Now func() time.Time

	mu      sync.Mutex
	running map[string]bool
}

// New checks the configuration and prepares the schedules; Start starts them.
func New(svc Service, cfg Config, log *slog.Logger, obs Observer) (*Sweeper, error) {
	if cfg.BatchSize <= 0 {
		return nil, errors.New("sweeper: batch size must be positive")
	}
	if cfg.OrphanGrace < time.Minute {
		return nil, errors.New("sweeper: the orphan grace period must be at least a minute")
	}
	s := &Sweeper{svc: svc, cfg: cfg, log: log, obs: obs, running: map[string]bool{},
		Now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	if cfg.Schedule == "off" {
		return s, nil
	}
	s.cron = cron.New(cron.WithLocation(time.UTC))
	for _, job := range []struct {
		name, spec string
		run        func(context.Context) (signing.SweepReport, error)
	}{
		{"sweeper: schedule", cfg.Schedule, s.SweepOnce},
		{"sweeper: orphan schedule", cfg.OrphanSchedule, s.OrphansOnce},
	} {
		run := job.run
		if _, err := s.cron.AddFunc(job.spec, func() { _, _ = run(context.Background()) }); err != nil {
			return nil, fmt.Errorf("%s %q: %w", job.name, job.spec, err)
		}
	}
	return s, nil
}

// Start runs the schedules in the background (nothing when the sweeper is off).
func (s *Sweeper) Start() {
	if s.cron != nil {
		s.cron.Start()
		s.log.Info("sweeper started", "schedule", s.cfg.Schedule, "orphan_schedule", s.cfg.OrphanSchedule)
	}
}

// Stop stops the schedules and waits for a running pass, at most until ctx ends. A pass cut short
// leaves nothing the next one does not finish.
func (s *Sweeper) Stop(ctx context.Context) {
	if s.cron == nil {
		return
	}
	select {
	case <-s.cron.Stop().Done():
	case <-ctx.Done():
	}
}

// SweepOnce expires orders, deletes due documents, purges expired Idempotency-Keys and old
// metadata, as the schedule does.
func (s *Sweeper) SweepOnce(ctx context.Context) (signing.SweepReport, error) {
	return s.pass(ctx, "sweep", func(ctx context.Context, now time.Time) (signing.SweepReport, error) {
		r, err := s.svc.Sweep(ctx, now, s.cfg.BatchSize)
		if err != nil {
			return r, err
		}
		keys, err := s.svc.PurgeIdempotencyKeys(ctx, now)
		if r = r.Add(keys); err != nil || s.cfg.MetadataRetention == 0 {
			return r, err
		}
		purged, err := s.svc.PurgeOrders(ctx, now.Add(-s.cfg.MetadataRetention), s.cfg.BatchSize)
		return r.Add(purged), err
	})
}

// OrphansOnce deletes blobs no order references, as the orphan schedule does.
func (s *Sweeper) OrphansOnce(ctx context.Context) (signing.SweepReport, error) {
	return s.pass(ctx, "orphans", func(ctx context.Context, now time.Time) (signing.SweepReport, error) {
		return s.svc.SweepOrphanBlobs(ctx, now, s.cfg.OrphanGrace)
	})
}

// pass runs one pass unless the same pass is still running here, then logs and counts it.
func (s *Sweeper) pass(ctx context.Context, name string, run func(context.Context, time.Time) (signing.SweepReport, error)) (signing.SweepReport, error) {
	s.mu.Lock()
	if s.running[name] {
		s.mu.Unlock()
		s.log.WarnContext(ctx, "sweeper pass skipped: the previous one is still running", "pass", name)
		return signing.SweepReport{}, nil
	}
	s.running[name] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, name)
		s.mu.Unlock()
	}()

	start := time.Now()
	r, err := run(ctx, s.Now())
	d := time.Since(start)
	items := map[string]int{}
	attrs := []any{"pass", name, "duration_ms", d.Milliseconds()}
	for _, c := range []struct {
		item string
		n    int
	}{{"orders_changed", r.Orders}, {"orders_expired", r.Expired}, {"document_versions_deleted", r.VersionsDeleted},
		{"blob_delete_errors", r.BlobErrors}, {"orphan_blobs_deleted", r.OrphansDeleted}, {"orders_purged", r.OrdersPurged},
		{"idempotency_keys_purged", r.IdempotencyKeysPurged}, {"login_forms_purged", r.LoginFormsPurged}} {
		items[c.item] = c.n
		attrs = append(attrs, c.item, c.n)
	}
	if s.obs != nil {
		s.obs.ObserveSweep(name, err, d, items)
	}
	if err != nil {
		s.log.ErrorContext(ctx, "sweeper pass failed; the next one continues", append(attrs, "err", err)...)
		return r, err
	}
	s.log.InfoContext(ctx, "sweeper pass", attrs...)
	return r, nil
}
