package postgres_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"esign/internal/store"
	"esign/internal/store/postgres"
	"esign/internal/store/storetest"
	"esign/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// migrated is run once per process on the template every test database is cloned from.
func migrated(ctx context.Context, url string) error {
	db, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	return db.Close()
}

func open(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), testenv.PostgresTemplateURL(t, "store", migrated))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// Replicas starting at once on an empty database: one migrates, the others wait for its lock and
// find the schema current. Without the lock they race to create the same tables and fail.
func TestOpenConcurrently(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresURL(t)
	const replicas = 4
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			db, err := postgres.Open(ctx, url)
			if err == nil {
				err = db.Ping(ctx)
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id = 1`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("migration 1 recorded %d times, want once", applied)
	}
}

// Timestamps written by the store are the instants given, whatever the session's time zone.
func TestTimestampColumns(t *testing.T) {
	ctx := context.Background()
	url := testenv.PostgresTemplateURL(t, "store", migrated)
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created := time.Date(2025, 6, 1, 23, 59, 59, 999999000, time.UTC)
	o := storetest.NewOrder("app-1", "order-1", created)
	if err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET TIME ZONE 'Pacific/Kiritimati'`); err != nil {
		t.Fatal(err)
	}
	var gotCreated, gotExpires, gotRetain time.Time
	err = conn.QueryRow(ctx, `SELECT created_at, expires_at, retain_documents_until FROM signature_orders WHERE id = $1`, o.ID).
		Scan(&gotCreated, &gotExpires, &gotRetain)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"created_at", gotCreated, o.CreatedAt},
		{"expires_at", gotExpires, o.ExpiresAt},
		{"retain_documents_until", gotRetain, *o.RetainDocumentsUntil},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func BenchmarkCreateGet(b *testing.B) {
	storetest.BenchmarkCreateGet(b, open(b))
}
