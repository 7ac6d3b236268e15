package migrations_test

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"

	"esign/internal/testenv"
	"esign/migrations"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// Both backends have the same migration versions, so a schema change is never made for one only.
func TestSameVersions(t *testing.T) {
	names := func(fsys fs.FS) []string {
		n, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	pg, lite := names(migrations.Postgres), names(migrations.SQLite)
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Fatalf("postgres has %v, sqlite has %v", pg, lite)
	}
}

// Every migration applies, rolls back to nothing and applies again.
func TestUpDownUp(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dialect goose.Dialect
		fsys    fs.FS
		open    func(t *testing.T) *sql.DB
	}{
		{"sqlite", goose.DialectSQLite3, migrations.SQLite, func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "m.db")+"?_pragma=foreign_keys(1)")
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{"postgres", goose.DialectPostgres, migrations.Postgres, func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", testenv.PostgresURL(t))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			defer db.Close()
			p, err := goose.NewProvider(tc.dialect, db, tc.fsys, goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			tables := func() int {
				var q string
				if tc.dialect == goose.DialectPostgres {
					q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`
				} else {
					q = `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'goose%' AND name NOT LIKE 'sqlite%'`
				}
				var n int
				if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up: %v", err)
			}
			if n := tables(); n == 0 {
				t.Fatal("after up: no tables")
			}
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("down: %v", err)
			}
			if n := tables(); n != 0 {
				t.Fatalf("after down: %d tables left", n)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}
