package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresURLEnv names the variable that points the helpers at an existing server instead of a
// private one: a postgres:// URL of a role that may CREATE DATABASE (its database part is ignored).
const PostgresURLEnv = "ESIGN_TEST_POSTGRES_URL"

var (
	pgOnce     sync.Once
	pgAdminURL string
	pgExternal bool
	pgErr      error

	pgSeq    atomic.Int64
	pgPrefix = fmt.Sprintf("esign_%d_%s", os.Getpid(), randomHex(3))

	// Clones of one template must not run at the same time (PostgreSQL refuses to copy a database
	// another session is using, and CREATE DATABASE opens the template).
	pgCreateMu sync.Mutex

	pgTemplatesMu sync.Mutex
	pgTemplates   = map[string]*pgTemplate{}

	pgRestart func() error // restarts the private server (nil for an external one)
)

type pgTemplate struct {
	once sync.Once
	name string
	err  error
}

// PostgresServerURL returns the URL of the test PostgreSQL server's maintenance database, connected
// as a superuser (or as the role of ESIGN_TEST_POSTGRES_URL). The private server is started on first
// use and stopped by Run.
func PostgresServerURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		if u := os.Getenv(PostgresURLEnv); u != "" {
			pgAdminURL, pgExternal = u, true
			return
		}
		pgAdminURL, pgErr = startPostgres()
	})
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	return pgAdminURL
}

// RestartPostgres restarts the private test server (fast shutdown: open connections are cut), as an
// operator's restart or a failover would; a test on an external server is skipped.
func RestartPostgres(t testing.TB) {
	t.Helper()
	PostgresServerURL(t)
	if pgExternal || pgRestart == nil {
		t.Skip("restarting PostgreSQL needs the private test server")
	}
	if err := pgRestart(); err != nil {
		t.Fatal(err)
	}
}

// PostgresURL returns the URL of a new, empty database of its own for this test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	server := PostgresServerURL(t)
	name := newDatabaseName()
	if err := createDatabase(server, name, ""); err != nil {
		t.Fatal(err)
	}
	dropWithTest(t, server, name)
	return databaseURL(server, name)
}

// PostgresTemplateURL returns the URL of a new database for this test, cloned from a template that
// setup prepares once per process (typically: open the store, which migrates it, and close it).
// Cloning a migrated database takes milliseconds where migrating takes far longer. Templates are
// told apart by key.
func PostgresTemplateURL(t testing.TB, key string, setup func(ctx context.Context, databaseURL string) error) string {
	t.Helper()
	server := PostgresServerURL(t)

	pgTemplatesMu.Lock()
	tpl, ok := pgTemplates[key]
	if !ok {
		tpl = &pgTemplate{}
		pgTemplates[key] = tpl
	}
	pgTemplatesMu.Unlock()
	tpl.once.Do(func() {
		name := newDatabaseName()
		if err := createDatabase(server, name, ""); err != nil {
			tpl.err = err
			return
		}
		if pgExternal {
			Cleanup(func() { _ = dropDatabase(server, name) })
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := setup(ctx, databaseURL(server, name)); err != nil {
			tpl.err = fmt.Errorf("prepare template database %q: %w", key, err)
			return
		}
		tpl.name = name
	})
	if tpl.err != nil {
		t.Fatal(tpl.err)
	}

	name := newDatabaseName()
	if err := createDatabase(server, name, tpl.name); err != nil {
		t.Fatal(err)
	}
	dropWithTest(t, server, name)
	return databaseURL(server, name)
}

// dropWithTest drops a test's database when the test ends, but only on a shared server: a private
// one is thrown away whole when the process ends, which is faster than dropping each database.
func dropWithTest(t testing.TB, server, name string) {
	if !pgExternal {
		return
	}
	t.Cleanup(func() {
		if err := dropDatabase(server, name); err != nil {
			t.Logf("drop test database: %v", err)
		}
	})
}

func newDatabaseName() string {
	return fmt.Sprintf("%s_%d", pgPrefix, pgSeq.Add(1))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

func databaseURL(server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		// PostgresServerURL only hands out URLs that parse (ours, or one the server accepted).
		panic(fmt.Sprintf("testenv: %s is not a URL", PostgresURLEnv))
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func createDatabase(server, name, template string) error {
	pgCreateMu.Lock()
	defer pgCreateMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to test postgres: %w", err)
	}
	defer conn.Close(context.Background())
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, sql)
		var pe *pgconn.PgError
		// 55006 object_in_use: a session of the template is still closing; it goes in a moment.
		if err == nil || !errors.As(err, &pe) || pe.Code != "55006" || attempt == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("create test database %s: %w", name, err)
	}
	return nil
}

func dropDatabase(server, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// startPostgres creates a throwaway cluster in a temp folder and starts it on a free loopback port.
func startPostgres() (string, error) {
	bin, err := postgresBin()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "esign-pg-")
	if err != nil {
		return "", fmt.Errorf("postgres temp dir: %w", err)
	}
	// The server may run as another user (postgres, when we are root): it must reach the folder.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("postgres temp dir: %w", err)
	}
	run, err := postgresRunner(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	data := filepath.Join(dir, "data")
	logFile := filepath.Join(dir, "postgres.log")
	if out, err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("initdb: %w\n%s", err, out)
	}

	// A port found free can be taken before the server binds it (another test process does the
	// same); try a few.
	var startErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"+
			" -c full_page_writes=off -c max_connections=200", port, dir)
		out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", logFile, "-o", opts, "-w", "-t", "60", "start")
		if err != nil {
			log, _ := os.ReadFile(logFile)
			startErr = fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, log)
			continue
		}
		Cleanup(func() {
			_, _ = run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
			os.RemoveAll(dir)
		})
		pgRestart = func() error {
			if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", logFile, "-m", "fast", "-w", "-t", "60", "restart"); err != nil {
				return fmt.Errorf("pg_ctl restart: %w\n%s", err, out)
			}
			return nil
		}
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), nil
	}
	os.RemoveAll(dir)
	return "", startErr
}

// postgresBin finds the bin folder of the newest installed PostgreSQL (Debian layout).
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "initdb"))
		return err != nil
	})
	if len(dirs) == 0 {
		return "", errors.New("PostgreSQL is not installed: apt-get install postgresql")
	}
	version := func(d string) []int {
		var v []int
		for _, p := range strings.Split(filepath.Base(filepath.Dir(d)), ".") {
			n, _ := strconv.Atoi(p)
			v = append(v, n)
		}
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return slices.Compare(version(a), version(b)) })
	return dirs[len(dirs)-1], nil
}

// postgresRunner returns how to run the server's programs: PostgreSQL refuses to run as root, so as
// root they run as the postgres user, which then owns dir.
func postgresRunner(dir string) (func(name string, args ...string) ([]byte, error), error) {
	if os.Geteuid() != 0 {
		return func(name string, args ...string) ([]byte, error) {
			return exec.Command(name, args...).CombinedOutput()
		}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs the postgres user to run the test server: apt-get install postgresql")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("postgres temp dir: %w", err)
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, errors.New("running as root needs runuser to run the test server as postgres: apt-get install util-linux")
	}
	return func(name string, args ...string) ([]byte, error) {
		cmd := exec.Command(runuser, append([]string{"-u", "postgres", "--", name}, args...)...)
		cmd.Dir = dir // the postgres user may not be able to enter our working directory
		return cmd.CombinedOutput()
	}, nil
}
