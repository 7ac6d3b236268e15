package sweeper_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"esign/internal/blob"
	"esign/internal/blob/azure"
	"esign/internal/blob/fs"
	"esign/internal/order"
	"esign/internal/pdf/pdftest"
	"esign/internal/signing"
	"esign/internal/signing/signingtest"
	"esign/internal/store"
	"esign/internal/store/postgres"
	"esign/internal/store/sqlite"
	"esign/internal/sweeper"
	"esign/internal/tenant"
	"esign/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// replica opens one more replica on the same database, container and keys (its own connection
// pool), as a second process would.
type replica func(t testing.TB) (store.Store, blob.Store)

// backends are where replicas keep orders and blobs.
var backends = []struct {
	name string
	open func(t testing.TB) replica
}{
	{"sqlite+fs", func(t testing.TB) replica {
		dir := t.TempDir()
		return func(t testing.TB) (store.Store, blob.Store) {
			st, err := sqlite.Open(t.Context(), filepath.Join(dir, "esign.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			blobs, err := fs.New(filepath.Join(dir, "blobs"))
			if err != nil {
				t.Fatal(err)
			}
			return st, blobs
		}
	}},
	{"postgres+azurite", func(t testing.TB) replica {
		url, conn := testenv.PostgresURL(t), testenv.AzuriteConnectionString(t)
		container := fmt.Sprintf("sweep%d", time.Now().UnixNano())
		return func(t testing.TB) (store.Store, blob.Store) {
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			blobs, err := azure.New(t.Context(), conn, container)
			if err != nil {
				t.Fatal(err)
			}
			return st, blobs
		}
	}},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, open replica, keys string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t), t.TempDir()) })
	}
}

// rig is one replica: a service on a store and blob store that records its blob deletes.
type rig struct {
	svc   *signing.Service
	store store.Store
	blobs *recordingBlobs
}

// deleteLog counts blob deletes per key (shared by replicas) and can make them fail, as a process
// dying between the commit and the blob delete would.
type deleteLog struct {
	mu      sync.Mutex
	deleted map[string]int
	fail    bool
}

func (l *deleteLog) setFail(fail bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = fail
}

type recordingBlobs struct {
	blob.Store
	log *deleteLog
}

func (b *recordingBlobs) Delete(ctx context.Context, key string) error {
	b.log.mu.Lock()
	fail := b.log.fail
	if !fail {
		b.log.deleted[key]++
	}
	b.log.mu.Unlock()
	if fail {
		return errors.New("failpoint: the process died before deleting the blob")
	}
	return b.Store.Delete(ctx, key)
}

// recordingManyBlobs is the recorder of a store that deletes in batches (azure), so that the sweep
// takes the same path as without the recorder.
type recordingManyBlobs struct {
	*recordingBlobs
	many interface {
		DeleteMany(context.Context, []string) ([]string, error)
	}
}

func (b recordingManyBlobs) DeleteMany(ctx context.Context, keys []string) ([]string, error) {
	b.log.mu.Lock()
	fail := b.log.fail
	if !fail {
		for _, k := range keys {
			b.log.deleted[k]++
		}
	}
	b.log.mu.Unlock()
	if fail {
		return keys, errors.New("failpoint: the process died before deleting the blobs")
	}
	return b.many.DeleteMany(ctx, keys)
}

// newRig starts a replica whose envelope keys live in keys (shared: replicas must share keys).
func newRig(t testing.TB, open replica, keys string, log *deleteLog) *rig {
	t.Helper()
	st, blobs := open(t)
	if log == nil {
		log = &deleteLog{deleted: map[string]int{}}
	}
	rec := &recordingBlobs{Store: blobs, log: log}
	var recorded blob.Store = rec
	if many, ok := blobs.(interface {
		DeleteMany(context.Context, []string) ([]string, error)
	}); ok {
		recorded = recordingManyBlobs{rec, many}
	}
	svc := signingtest.New(st, recorded, signingtest.FileKeys(t, keys), signing.Config{})
	return &rig{svc: svc, store: st, blobs: rec}
}

func (r *rig) principal(t *testing.T) signing.Principal {
	return signingtest.Principal(t, r.svc, fmt.Sprintf("app-%d", time.Now().UnixNano()), tenant.KeyReadWrite)
}

// create makes an order with one document that expires after days.
func (r *rig) create(t *testing.T, p signing.Principal, days int) *order.SignatureOrder {
	t.Helper()
	o, err := r.svc.CreateOrder(context.Background(), p, order.Draft{ExpiresInDays: &days,
		Signatories: []order.SignatoryDraft{{}},
		Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Contract", StorageMode: order.StorageModeTemporary,
			Data: pdftest.Make(t, 1, 0)}}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (r *rig) get(t *testing.T, id string) *order.SignatureOrder {
	t.Helper()
	o, err := r.store.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (r *rig) blobExists(t *testing.T, key string) bool {
	t.Helper()
	_, err := r.blobs.Store.Get(context.Background(), key)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// observed remembers what the sweeper reported to its observer.
type observed struct {
	mu     sync.Mutex
	passes []string
	items  map[string]int
}

func (o *observed) ObserveSweep(pass string, err error, _ time.Duration, items map[string]int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	o.passes = append(o.passes, pass+":"+outcome)
	if o.items == nil {
		o.items = map[string]int{}
	}
	for k, v := range items {
		o.items[k] += v
	}
}

func newSweeper(t testing.TB, r *rig, cfg sweeper.Config, obs sweeper.Observer, now time.Time) *sweeper.Sweeper {
	t.Helper()
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 50
	}
	if cfg.OrphanGrace == 0 {
		cfg.OrphanGrace = time.Hour
	}
	if cfg.Schedule == "" {
		cfg.Schedule = "off"
	}
	s, err := sweeper.New(r.svc, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), obs)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	return s
}

// The lifecycle: nothing a microsecond before the expiry; at it, EXPIRED with the documents deleted;
// retained documents kept until the retention ends; metadata purged; every pass counted.
func TestSweepLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open replica, keys string) {
		ctx := context.Background()
		r := newRig(t, open, keys, nil)
		p := r.principal(t)
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		r.svc.Now = func() time.Time { return t0 }

		expiring := r.create(t, p, 1)
		later := r.create(t, p, 30)
		retained := r.create(t, p, 30)
		two := 2
		if _, err := r.svc.CloseOrder(ctx, p, retained.ID, &two); err != nil {
			t.Fatal(err)
		}
		blobOf := func(o *order.SignatureOrder) string { return o.Documents[0].Versions[0].BlobKey }

		obs := &observed{}
		day := 24 * time.Hour
		// Just before the expiry nothing happens.
		if rep, err := newSweeper(t, r, sweeper.Config{}, obs, expiring.ExpiresAt.Add(-time.Microsecond)).SweepOnce(ctx); err != nil || rep.Orders != 0 {
			t.Fatalf("sweep before expiry: %+v, %v", rep, err)
		}
		rep, err := newSweeper(t, r, sweeper.Config{MetadataRetention: day}, obs, t0.Add(day+time.Hour)).SweepOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Orders != 1 || rep.Expired != 1 || rep.VersionsDeleted != 1 || rep.BlobErrors != 0 || rep.OrdersPurged != 0 {
			t.Errorf("first sweep: %+v", rep)
		}
		got := r.get(t, expiring.ID)
		if got.Status != order.StatusExpired || got.ExpiredAt == nil || got.DocumentsDeletedAt == nil || len(got.Documents[0].Versions) != 0 {
			t.Errorf("expired order: status %s, expiredAt %v, documentsDeletedAt %v, %d versions", got.Status, got.ExpiredAt,
				got.DocumentsDeletedAt, len(got.Documents[0].Versions))
		}
		if r.blobExists(t, blobOf(expiring)) {
			t.Error("the expired order's blob is still stored")
		}
		if st := r.get(t, later.ID).Status; st != order.StatusOpen || !r.blobExists(t, blobOf(later)) {
			t.Errorf("an order not yet expired: %s, blob stored %v", st, r.blobExists(t, blobOf(later)))
		}
		if len(r.get(t, retained.ID).Documents[0].Versions) == 0 || !r.blobExists(t, blobOf(retained)) {
			t.Error("retained documents were deleted before the retention ended")
		}

		// Two days after closing the retention is over; a day after expiring the metadata goes.
		rep, err = newSweeper(t, r, sweeper.Config{MetadataRetention: day}, obs, t0.Add(2*day+2*time.Hour)).SweepOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Orders != 1 || rep.Expired != 0 || rep.VersionsDeleted != 1 || rep.OrdersPurged != 1 {
			t.Errorf("second sweep: %+v (want the retained order's version deleted and the expired order purged)", rep)
		}
		if r.blobExists(t, blobOf(retained)) {
			t.Error("the retained blob outlived its retention")
		}
		if _, err := r.store.GetOrder(ctx, expiring.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("metadata of an order that ended long ago: %v, want purged", err)
		}
		if _, err := r.store.GetOrder(ctx, retained.ID); err != nil {
			t.Errorf("an order whose documents were deleted just now was purged: %v", err)
		}
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if strings.Join(obs.passes, ",") != "sweep:ok,sweep:ok,sweep:ok" || obs.items["orders_expired"] != 1 ||
			obs.items["document_versions_deleted"] != 2 || obs.items["orders_purged"] != 1 {
			t.Errorf("observed %v %v", obs.passes, obs.items)
		}
	})
}

// Three replicas sweeping one database at once delete each document exactly once.
func TestReplicasDeleteEachDocumentOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open replica, keys string) {
		ctx := context.Background()
		deletes := &deleteLog{deleted: map[string]int{}} // shared by the replicas
		replicas := make([]*rig, 3)
		for i := range replicas {
			replicas[i] = newRig(t, open, keys, deletes)
		}
		p := replicas[0].principal(t)
		const n = 40
		var blobKeys []string
		for range n {
			o := replicas[0].create(t, p, 1)
			blobKeys = append(blobKeys, o.Documents[0].Versions[0].BlobKey)
		}
		now := time.Now().Add(25 * time.Hour)
		var wg sync.WaitGroup
		reports := make([]signing.SweepReport, len(replicas))
		errs := make([]error, len(replicas))
		for i, r := range replicas {
			s := newSweeper(t, r, sweeper.Config{BatchSize: 3}, nil, now)
			wg.Go(func() { reports[i], errs[i] = s.SweepOnce(ctx) })
		}
		wg.Wait()
		expired := 0
		for i := range replicas {
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
			expired += reports[i].Expired
			t.Logf("replica %d: %+v", i, reports[i])
		}
		if expired != n {
			t.Errorf("%d orders expired in total, want %d", expired, n)
		}
		for _, k := range blobKeys {
			if deletes.deleted[k] != 1 {
				t.Errorf("blob %s deleted %d times", k, deletes.deleted[k])
			}
		}
	})
}

// A replica that dies after committing a sweep but before deleting the blobs leaves unreadable
// blobs, and a write that dies between the blob upload and the commit leaves an unreferenced blob:
// the orphan pass removes both after the grace period, and never a blob an order references.
func TestOrphanBlobsAfterCrashes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open replica, keys string) {
		ctx := context.Background()
		r := newRig(t, open, keys, nil)
		p := r.principal(t)
		expiring := r.create(t, p, 1)
		kept := r.create(t, p, 30)
		expiredKey, keptKey := expiring.Documents[0].Versions[0].BlobKey, kept.Documents[0].Versions[0].BlobKey

		// Crash 1: the sweep commits, the blob deletes never happen.
		r.blobs.log.setFail(true)
		now := time.Now().UTC()
		rep, err := newSweeper(t, r, sweeper.Config{}, nil, now.Add(25*time.Hour)).SweepOnce(ctx)
		if err != nil || rep.Expired != 1 || rep.BlobErrors != 1 {
			t.Fatalf("sweep with failing deletes: %+v, %v", rep, err)
		}
		// Crash 2: a create whose commit never happens (its cleanup dies too): the store refuses it.
		failing := &failingCreate{Store: r.store}
		r2 := newRig(t, func(testing.TB) (store.Store, blob.Store) { return failing, r.blobs.Store }, keys, r.blobs.log)
		if _, err := r2.svc.CreateOrder(ctx, p, order.Draft{Signatories: []order.SignatoryDraft{{}},
			Documents: []order.DocumentDraft{{Kind: order.DocumentPDF, Title: "Lost", StorageMode: order.StorageModeTemporary,
				Data: pdftest.Make(t, 1, 0)}}}); err == nil {
			t.Fatal("the failpoint did not fail the create")
		}
		uncommitted := listBlobs(t, r.blobs.Store)
		if len(uncommitted) != 3 { // expired (unreadable), kept, and the uncommitted create
			t.Fatalf("blobs before the orphan pass: %v", uncommitted)
		}
		r.blobs.log.setFail(false)

		// Within the grace period the uncommitted blob may still be a write in flight: it stays.
		rep, err = newSweeper(t, r, sweeper.Config{OrphanGrace: time.Hour}, nil, time.Now().UTC()).OrphansOnce(ctx)
		if err != nil || rep.OrphansDeleted != 0 {
			t.Fatalf("orphan pass within the grace period: %+v, %v", rep, err)
		}
		rep, err = newSweeper(t, r, sweeper.Config{OrphanGrace: time.Hour}, nil, time.Now().UTC().Add(2*time.Hour)).OrphansOnce(ctx)
		if err != nil || rep.OrphansDeleted != 2 {
			t.Fatalf("orphan pass after the grace period: %+v, %v (want the unreadable and the uncommitted blob)", rep, err)
		}
		if left := listBlobs(t, r.blobs.Store); len(left) != 1 || left[0] != keptKey {
			t.Errorf("blobs after the orphan pass: %v, want only %s", left, keptKey)
		}
		if r.blobExists(t, expiredKey) {
			t.Error("the expired order's blob survived the orphan pass")
		}
		// The kept order still decrypts: a committed document never lacks its blob.
		if b, err := r.svc.DocumentBytes(ctx, p, kept.ID, kept.Documents[0].ID); err != nil || len(b.Current) == 0 {
			t.Errorf("the kept document: %d bytes, %v", len(b.Current), err)
		}
	})
}

// failingCreate is a store whose CreateOrder fails, as a process dying before the commit would.
type failingCreate struct{ store.Store }

func (f *failingCreate) CreateOrder(context.Context, *order.SignatureOrder) error {
	return errors.New("failpoint: the process died before the commit")
}

func listBlobs(t *testing.T, b blob.Store) []string {
	t.Helper()
	var keys []string
	if err := b.List(context.Background(), "orders/", func(k string) bool { keys = append(keys, k); return true }); err != nil {
		t.Fatal(err)
	}
	return keys
}

// An order extended while a sweep runs is not expired: the sweep skips (PostgreSQL) or waits for
// (SQLite) the order's lock, and decides on what was committed.
func TestExtendDuringSweepIsNotExpired(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open replica, keys string) {
		ctx := context.Background()
		r := newRig(t, open, keys, nil)
		p := r.principal(t)
		o := r.create(t, p, 1)
		locked, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := r.store.UpdateOrder(ctx, o.ID, func(o *order.SignatureOrder) error {
				close(locked)
				<-release
				return o.Extend(7)
			})
			done <- err
		}()
		<-locked
		s := newSweeper(t, r, sweeper.Config{}, nil, o.ExpiresAt.Add(time.Hour))
		sweepDone := make(chan error, 1)
		go func() { _, err := s.SweepOnce(ctx); sweepDone <- err }()
		time.Sleep(100 * time.Millisecond) // let the sweep reach the locked order (it must not expire it either way)
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := <-sweepDone; err != nil {
			t.Fatal(err)
		}
		got := r.get(t, o.ID)
		if got.Status != order.StatusOpen || !got.ExpiresAt.Equal(o.ExpiresAt.Add(7*24*time.Hour)) {
			t.Errorf("after extend during a sweep: %s, expires %v", got.Status, got.ExpiresAt)
		}
	})
}

func TestScheduleConfiguration(t *testing.T) {
	svc := signing.New(nil, nil, nil, nil, signing.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		cfg     sweeper.Config
		wantErr string
	}{
		{sweeper.Config{Schedule: "@every 1m", OrphanSchedule: "@every 1h", OrphanGrace: time.Hour, BatchSize: 10}, ""},
		{sweeper.Config{Schedule: "*/5 * * * *", OrphanSchedule: "0 3 * * *", OrphanGrace: time.Hour, BatchSize: 10}, ""},
		{sweeper.Config{Schedule: "off", OrphanGrace: time.Hour, BatchSize: 10}, ""},
		{sweeper.Config{Schedule: "every minute", OrphanSchedule: "@every 1h", OrphanGrace: time.Hour, BatchSize: 10}, `sweeper: schedule "every minute"`},
		{sweeper.Config{Schedule: "@every 1m", OrphanSchedule: "@hourly-ish", OrphanGrace: time.Hour, BatchSize: 10}, `sweeper: orphan schedule "@hourly-ish"`},
		{sweeper.Config{Schedule: "@every 1m", OrphanSchedule: "@every 1h", OrphanGrace: time.Second, BatchSize: 10}, "grace"},
	} {
		_, err := sweeper.New(svc, tc.cfg, log, nil)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: %v, want an error containing %q", tc.cfg, err, tc.wantErr)
		}
	}
}

// Started with a schedule, the sweeper runs on its own and stops cleanly.
func TestScheduledRuns(t *testing.T) {
	r := newRig(t, backends[0].open(t), t.TempDir(), nil)
	obs := &observed{}
	s, err := sweeper.New(r.svc, sweeper.Config{Schedule: "@every 1s", OrphanSchedule: "@every 1s", OrphanGrace: time.Hour, BatchSize: 10},
		slog.New(slog.NewTextHandler(io.Discard, nil)), obs)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		obs.mu.Lock()
		passes := strings.Join(obs.passes, ",")
		obs.mu.Unlock()
		if strings.Contains(passes, "sweep:ok") && strings.Contains(passes, "orphans:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled passes within 10 s: %q", passes)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Stop(ctx)
}
