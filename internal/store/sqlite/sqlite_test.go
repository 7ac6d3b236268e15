package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"esign/internal/store"
	"esign/internal/store/sqlite"
	"esign/internal/store/storetest"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "esign.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// Reopening a file keeps its data and finds the schema current.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with ? and #", "esign.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := storetest.NewOrder("app-1", "order-1", time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC))
	if err := db.CreateOrder(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetOrder(ctx, "order-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.TraceID != want.TraceID || len(got.Signatories) != len(want.Signatories) {
		t.Fatalf("after reopening: got %+v", got)
	}
}

func BenchmarkCreateGet(b *testing.B) {
	storetest.BenchmarkCreateGet(b, open(b))
}

func TestDatabaseFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "esign.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", info.Mode().Perm())
	}
}
