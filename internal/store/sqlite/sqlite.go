// Package sqlite is the embedded Store backend: one database file, no server to run. It suits a
// single instance; several replicas need the postgres backend.
package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/tenant"
	"esign/migrations"
)

// DB is a Store on a SQLite file.
//
// SQLite lets one connection write at a time. Writes therefore go through a pool of exactly one
// connection, so concurrent writers queue in database/sql (honouring their contexts) instead of
// spinning on SQLITE_BUSY; its transactions start with BEGIN IMMEDIATE, so even another process on the
// same file cannot slip a write between UpdateOrder's read and its write. Reads use a separate pool
// and, thanks to WAL, never wait for the writer.
type DB struct {
	w *sql.DB
	r *sql.DB
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// The database holds key hashes and wrapped data keys: owner-only, like the key files. SQLite
	// gives its -wal and -shm files the main file's mode.
	if f, err := os.OpenFile(abs, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	// A file: URI with an escaped path, so that '?' or '#' in a folder name cannot be taken for
	// the start of the driver's parameters.
	base := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()

	wq := url.Values{}
	wq.Set("_busy_timeout", "10000") // another process holding the lock: wait, don't fail
	wq.Set("_foreign_keys", "1")
	wq.Set("_journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	// Deleted content (shredded wrapped keys) is overwritten with zeros instead of lingering in
	// free pages of the file.
	wq.Add("_pragma", "secure_delete(1)")
	w, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}

	rq := url.Values{}
	rq.Set("_busy_timeout", "10000")
	rq.Set("_foreign_keys", "1")
	rq.Set("_query_only", "1")
	r, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{w: w, r: r}, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	// A single process owns a SQLite file's writer, so goose needs no lock here.
	p, err := goose.NewProvider(goose.DialectSQLite3, db, migrations.SQLite, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Not p.Close: it would close db.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	return errors.Join(d.r.Close(), d.w.Close())
}

// Ping checks both pools.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.w.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	if err := d.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// classify adds the store sentinel that a driver error means, keeping the driver error for the log.
func classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// CreateApplication implements store.Store.
func (d *DB) CreateApplication(ctx context.Context, app tenant.Application) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO applications (id, name, environment, created_at, tenant_id, verify_domain, verify_realm) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		app.ID, app.Name, string(app.Environment), micros(app.CreatedAt), nullString(app.TenantID), app.VerifyDomain, app.VerifyRealm)
	if err != nil {
		return fmt.Errorf("create application %s: %w", app.ID, classify(err))
	}
	return nil
}

// GetApplication implements store.Store.
func (d *DB) GetApplication(ctx context.Context, id string) (tenant.Application, error) {
	app, err := d.getApplication(ctx, `WHERE id = ?`, id)
	if err != nil {
		return tenant.Application{}, fmt.Errorf("get application %s: %w", id, err)
	}
	return app, nil
}

// GetApplicationByName implements store.Store.
func (d *DB) GetApplicationByName(ctx context.Context, name string) (tenant.Application, error) {
	app, err := d.getApplication(ctx, `WHERE name = ?`, name)
	if err != nil {
		return tenant.Application{}, fmt.Errorf("get application named %q: %w", name, err)
	}
	return app, nil
}

func (d *DB) getApplication(ctx context.Context, where string, arg any) (tenant.Application, error) {
	app, err := scanApplication(d.r.QueryRowContext(ctx, `SELECT `+applicationColumns+` FROM applications `+where, arg))
	if err != nil {
		return tenant.Application{}, classify(err)
	}
	return app, nil
}

// CreateAPIKey implements store.Store. A key of an unknown application gives ErrNotFound.
func (d *DB) CreateAPIKey(ctx context.Context, key tenant.APIKey) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO api_keys (id, application_id, client_id, secret_hash, mode, note, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		key.ID, key.ApplicationID, key.ClientID, key.SecretHash, string(key.Mode), key.Note, micros(key.CreatedAt))
	if err != nil {
		return fmt.Errorf("create api key %s of application %s: %w", key.ID, key.ApplicationID, classify(err))
	}
	return nil
}

const apiKeyColumns = `id, application_id, client_id, secret_hash, mode, note, created_at`

func scanAPIKey(row interface{ Scan(...any) error }) (tenant.APIKey, error) {
	var (
		k       tenant.APIKey
		mode    string
		created int64
	)
	if err := row.Scan(&k.ID, &k.ApplicationID, &k.ClientID, &k.SecretHash, &mode, &k.Note, &created); err != nil {
		return tenant.APIKey{}, err
	}
	k.Mode = tenant.KeyMode(mode)
	k.CreatedAt = fromMicros(created)
	return k, nil
}

// GetAPIKeyByClientID implements store.Store.
func (d *DB) GetAPIKeyByClientID(ctx context.Context, clientID string) (tenant.APIKey, error) {
	k, err := scanAPIKey(d.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE client_id = ?`, clientID))
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("get api key of client %s: %w", clientID, classify(err))
	}
	return k, nil
}

// ListAPIKeys implements store.Store.
func (d *DB) ListAPIKeys(ctx context.Context, applicationID string) ([]tenant.APIKey, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE application_id = ? ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of application %s: %w", applicationID, err)
	}
	defer rows.Close()
	var keys []tenant.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys of application %s: %w", applicationID, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api keys of application %s: %w", applicationID, err)
	}
	return keys, nil
}

// CreateOrder implements store.Store.
func (d *DB) CreateOrder(ctx context.Context, o *order.SignatureOrder) error {
	data, err := store.EncodeOrder(o)
	if err != nil {
		return fmt.Errorf("create order %s: encode: %w", o.ID, err)
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO signature_orders (id, application_id, status, created_at, expires_at, retain_documents_until, sweep_at, retired_at, data)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.ID, o.ApplicationID, string(o.Status), micros(o.CreatedAt), micros(o.ExpiresAt),
		nullMicros(o.RetainDocumentsUntil), nullMicros(o.SweepAt()), nullMicros(o.RetiredAt()), string(data))
	if err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, classify(err))
	}
	if err := insertIndex(ctx, tx, o); err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	if err := insertEvents(ctx, tx, o); err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	if err := insertAudit(ctx, tx, o); err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create order %s: commit: %w", o.ID, err)
	}
	return nil
}

func insertIndex(ctx context.Context, tx *sql.Tx, o *order.SignatureOrder) error {
	entries := store.IndexEntries(o)
	if len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(entries))
	b.WriteString(`INSERT INTO order_index (kind, key, order_id) VALUES `)
	for i, e := range entries {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, string(e.Kind), e.Key, o.ID)
	}
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("index: %w", classify(err))
	}
	return nil
}

// GetOrder implements store.Store.
func (d *DB) GetOrder(ctx context.Context, id string) (*order.SignatureOrder, error) {
	var data []byte
	if err := d.r.QueryRowContext(ctx, `SELECT data FROM signature_orders WHERE id = ?`, id).Scan(&data); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, classify(err))
	}
	o, err := store.DecodeOrder(data)
	if err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	return o, nil
}

// UpdateOrder implements store.Store. fn runs while this store's only writer connection is held, so
// it must not call the store.
func (d *DB) UpdateOrder(ctx context.Context, id string, fn store.Updater) (*order.SignatureOrder, error) {
	// BEGIN IMMEDIATE (the _txlock of the writer pool) takes the write lock now, before the read.
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("update order %s: %w", id, err)
	}
	defer tx.Rollback()
	var data []byte
	if err := tx.QueryRowContext(ctx, `SELECT data FROM signature_orders WHERE id = ?`, id).Scan(&data); err != nil {
		return nil, fmt.Errorf("update order %s: %w", id, classify(err))
	}
	o, err := applyAndSave(ctx, tx, data, fn)
	if ue := (*store.UpdaterError)(nil); errors.As(err, &ue) {
		return nil, ue.Err // unchanged, as the contract promises
	}
	if err != nil {
		return nil, fmt.Errorf("update order %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update order %s: commit: %w", id, err)
	}
	return o, nil
}

// applyAndSave decodes an order read in a write transaction, applies fn and writes the result (its
// index only when the indexed keys changed).
func applyAndSave(ctx context.Context, tx *sql.Tx, data []byte, fn store.Updater) (*order.SignatureOrder, error) {
	a, err := store.Apply(data, fn)
	if err != nil {
		return nil, err
	}
	o := a.Order
	_, err = tx.ExecContext(ctx,
		`UPDATE signature_orders SET status = ?, expires_at = ?, retain_documents_until = ?, sweep_at = ?, retired_at = ?, data = ?
		 WHERE id = ?`,
		string(o.Status), micros(o.ExpiresAt), nullMicros(o.RetainDocumentsUntil), nullMicros(o.SweepAt()),
		nullMicros(o.RetiredAt()), string(a.Data), o.ID)
	if err != nil {
		return nil, classify(err)
	}
	if err := insertEvents(ctx, tx, o); err != nil {
		return nil, err
	}
	if err := insertAudit(ctx, tx, o); err != nil {
		return nil, err
	}
	if a.DocumentsDropped {
		// Kept answers that hold these documents go with them (their rows in idempotency_key_orders
		// follow by the foreign key's cascade).
		if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (scope, key) IN (
			SELECT scope, key FROM idempotency_key_orders WHERE order_id = ?)`, o.ID); err != nil {
			return nil, fmt.Errorf("delete kept answers holding the documents: %w", classify(err))
		}
	}
	if !a.Reindex {
		return o, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM order_index WHERE order_id = ?`, o.ID); err != nil {
		return nil, fmt.Errorf("clear index: %w", err)
	}
	if err := insertIndex(ctx, tx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// SweepDue implements store.Store. SQLite has one writer: the batch holds the write lock, so a
// concurrent sweeper waits and then finds these orders done.
func (d *DB) SweepDue(ctx context.Context, now time.Time, limit int, fn store.Updater) ([]*order.SignatureOrder, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT data FROM signature_orders WHERE sweep_at <= ? ORDER BY sweep_at LIMIT ?`, micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", classify(err))
	}
	var claimed [][]byte
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sweep: %w", err)
		}
		claimed = append(claimed, data)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	var saved []*order.SignatureOrder
	var fnErrs []error
	for _, data := range claimed {
		o, err := applyAndSave(ctx, tx, data, fn)
		if ue := (*store.UpdaterError)(nil); errors.As(err, &ue) {
			fnErrs = append(fnErrs, ue.Err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		saved = append(saved, o)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sweep: commit: %w", err)
	}
	return saved, errors.Join(fnErrs...)
}

// PurgeOrders implements store.Store.
func (d *DB) PurgeOrders(ctx context.Context, retiredBefore time.Time, limit int) (int, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("purge orders: %w", err)
	}
	defer tx.Rollback()
	const due = `SELECT id FROM signature_orders WHERE sweep_at IS NULL AND retired_at < ? ORDER BY retired_at LIMIT ?`
	for _, table := range []string{"webhook_deliveries", "webhook_invocations"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE order_id IN (`+due+`)`, micros(retiredBefore), limit); err != nil {
			return 0, fmt.Errorf("purge orders: %s: %w", table, err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM signature_orders WHERE id IN (`+due+`)`, micros(retiredBefore), limit)
	if err != nil {
		return 0, fmt.Errorf("purge orders: %w", classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge orders: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("purge orders: commit: %w", err)
	}
	return int(n), nil
}

// insertAudit seals the entries the order recorded into its audit trail, after its last entry.
// The caller holds the write lock, so no other writer takes the same numbers.
func insertAudit(ctx context.Context, tx *sql.Tx, o *order.SignatureOrder) error {
	if len(o.AuditEntries()) == 0 || o.AuditKey == nil {
		return nil
	}
	next, err := nextAuditSeq(ctx, tx, o.ID)
	if err != nil {
		return err
	}
	sealed, err := store.SealAudit(o, next)
	if err != nil {
		return err
	}
	for _, e := range sealed {
		if err := insertAuditEntry(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

func nextAuditSeq(ctx context.Context, tx *sql.Tx, orderID string) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_entries WHERE order_id = ?`, orderID).Scan(&last); err != nil {
		return 0, fmt.Errorf("audit trail: %w", classify(err))
	}
	return last + 1, nil
}

func insertAuditEntry(ctx context.Context, tx *sql.Tx, e store.SealedAuditEntry) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_entries (order_id, seq, at, ciphertext) VALUES (?, ?, ?, ?)`,
		e.OrderID, e.Seq, micros(e.At), e.Sealed); err != nil {
		return fmt.Errorf("audit trail: %w", classify(err))
	}
	return nil
}

// ListAuditEntries implements store.Store.
func (d *DB) ListAuditEntries(ctx context.Context, orderID string, afterSeq int64, limit int) ([]store.SealedAuditEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list audit entries of order %s: limit %d is not positive", orderID, limit)
	}
	entries, err := queryAll(ctx, d.r, func(rows *sql.Rows) (store.SealedAuditEntry, error) {
		var e store.SealedAuditEntry
		var at int64
		err := rows.Scan(&e.OrderID, &e.Seq, &at, &e.Sealed)
		e.At = fromMicros(at)
		return e, err
	}, `SELECT order_id, seq, at, ciphertext FROM audit_entries WHERE order_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		orderID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries of order %s: %w", orderID, err)
	}
	return entries, nil
}

// insertEvents writes the events the order raised to the webhook outbox, due at once.
func insertEvents(ctx context.Context, tx *sql.Tx, o *order.SignatureOrder) error {
	for _, e := range o.Events() {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO webhook_deliveries (id, application_id, order_id, event, url, secret, body, created_at, next_attempt_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			uuid.Must(uuid.NewV7()).String(), o.ApplicationID, o.ID, e.Name, e.URL, e.Secret, string(e.Body), micros(e.At), micros(e.At))
		if err != nil {
			return fmt.Errorf("webhook outbox: %w", classify(err))
		}
	}
	return nil
}

const deliveryColumns = `id, application_id, order_id, event, url, secret, body, created_at, attempts`

func scanDelivery(row interface{ Scan(...any) error }) (store.WebhookDelivery, error) {
	var w store.WebhookDelivery
	var body string
	var created int64
	err := row.Scan(&w.ID, &w.ApplicationID, &w.OrderID, &w.Event, &w.URL, &w.Secret, &body, &created, &w.Attempt)
	w.Body, w.CreatedAt = []byte(body), fromMicros(created)
	return w, err
}

// ClaimWebhookDeliveries implements store.Store. The write lock makes the claim exclusive.
func (d *DB) ClaimWebhookDeliveries(ctx context.Context, c store.WebhookClaim) ([]store.WebhookDelivery, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	defer tx.Rollback()
	args := []any{micros(c.Now.Add(c.Lease)), micros(c.Now)}
	skip := ""
	if len(c.SkipApplications) > 0 {
		skip = ` AND application_id NOT IN (?` + strings.Repeat(`, ?`, len(c.SkipApplications)-1) + `)`
		for _, app := range c.SkipApplications {
			args = append(args, app)
		}
	}
	rows, err := tx.QueryContext(ctx,
		`UPDATE webhook_deliveries SET next_attempt_at = ?, attempts = attempts + 1
		 WHERE id IN (SELECT id FROM webhook_deliveries WHERE next_attempt_at <= ?`+skip+` ORDER BY next_attempt_at LIMIT ?)
		 RETURNING `+deliveryColumns, append(args, c.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", classify(err))
	}
	var out []store.WebhookDelivery
	for rows.Next() {
		w, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim webhooks: %w", err)
		}
		out = append(out, w)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim webhooks: commit: %w", err)
	}
	slices.SortFunc(out, func(a, b store.WebhookDelivery) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// RecordWebhookInvocation implements store.Store.
func (d *DB) RecordWebhookInvocation(ctx context.Context, inv order.WebhookInvocation) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record webhook invocation %s: %w", inv.ID, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO webhook_invocations (id, delivery_id, application_id, order_id, event, url, request_body,
		   response_body, status_code, outcome, exception, timeout_ms, at, retrying_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.DeliveryID, inv.ApplicationID, inv.OrderID, inv.Event, inv.URL, inv.RequestBody,
		inv.ResponseBody, inv.StatusCode, string(inv.Outcome), inv.Exception, inv.TimeoutMillis, micros(inv.At), nullMicros(inv.RetryingAt))
	if err != nil {
		return fmt.Errorf("record webhook invocation %s: %w", inv.ID, classify(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`, nullMicros(inv.RetryingAt), inv.DeliveryID); err != nil {
		return fmt.Errorf("record webhook invocation %s: %w", inv.ID, err)
	}
	if err := insertWebhookAudit(ctx, tx, inv); err != nil {
		return fmt.Errorf("record webhook invocation %s: %w", inv.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record webhook invocation %s: commit: %w", inv.ID, err)
	}
	return nil
}

// insertWebhookAudit adds the attempt to its order's audit trail; nothing when the order is gone
// (purged while its delivery was out) or has no audit key.
func insertWebhookAudit(ctx context.Context, tx *sql.Tx, inv order.WebhookInvocation) error {
	var data []byte
	err := tx.QueryRowContext(ctx, `SELECT data FROM signature_orders WHERE id = ?`, inv.OrderID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit trail: %w", classify(err))
	}
	next, err := nextAuditSeq(ctx, tx, inv.OrderID)
	if err != nil {
		return err
	}
	e, err := store.SealWebhookAudit(data, inv, next)
	if err != nil || e == nil {
		return err
	}
	return insertAuditEntry(ctx, tx, *e)
}

// EnqueueWebhook implements store.Store.
func (d *DB) EnqueueWebhook(ctx context.Context, w store.WebhookDelivery, due time.Time) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO webhook_deliveries (id, application_id, order_id, event, url, secret, body, created_at, next_attempt_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.ApplicationID, w.OrderID, w.Event, w.URL, w.Secret, string(w.Body), micros(w.CreatedAt), micros(due))
	if err != nil {
		return fmt.Errorf("enqueue webhook %s: %w", w.ID, classify(err))
	}
	return nil
}

// GetWebhookDelivery implements store.Store.
func (d *DB) GetWebhookDelivery(ctx context.Context, id string) (store.WebhookDelivery, error) {
	w, err := scanDelivery(d.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if err != nil {
		return store.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, classify(err))
	}
	return w, nil
}

// queryAll runs a query on the read connections and scans every row (pgx.CollectRows for
// database/sql).
func queryAll[T any](ctx context.Context, db *sql.DB, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	return out, nil
}

// ListWebhookSecrets implements store.Store.
func (d *DB) ListWebhookSecrets(ctx context.Context, after string, limit int) ([]store.WebhookDelivery, error) {
	out, err := queryAll(ctx, d.r, func(rows *sql.Rows) (store.WebhookDelivery, error) {
		var w store.WebhookDelivery
		err := rows.Scan(&w.ID, &w.ApplicationID, &w.OrderID, &w.Secret)
		return w, err
	}, `SELECT id, application_id, order_id, secret FROM webhook_deliveries
		WHERE secret IS NOT NULL AND id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook secrets: %w", err)
	}
	return out, nil
}

// SetWebhookSecret implements store.Store.
func (d *DB) SetWebhookSecret(ctx context.Context, id string, old, secret []byte) (bool, error) {
	res, err := d.w.ExecContext(ctx, `UPDATE webhook_deliveries SET secret = ? WHERE id = ? AND secret = ?`, secret, id, old)
	if err != nil {
		return false, fmt.Errorf("set webhook secret of %s: %w", id, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("set webhook secret of %s: %w", id, err)
	}
	return n == 1, nil
}

// ListOrdersWithWebhookSecret implements store.Store.
func (d *DB) ListOrdersWithWebhookSecret(ctx context.Context, after string, limit int) ([]string, error) {
	out, err := queryAll(ctx, d.r, func(rows *sql.Rows) (id string, err error) {
		err = rows.Scan(&id)
		return id, err
	}, `SELECT id FROM signature_orders WHERE json_extract(data, '$.webhook.secret') IS NOT NULL AND id > ?
		ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list orders with a webhook secret: %w", err)
	}
	return out, nil
}

// ListWebhookInvocations implements store.Store.
func (d *DB) ListWebhookInvocations(ctx context.Context, q store.WebhookLogQuery) ([]order.WebhookInvocation, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list webhook invocations: limit %d is not positive", q.Limit)
	}
	var succeeded any
	if q.Succeeded != nil {
		succeeded = *q.Succeeded
	}
	rows, err := d.r.QueryContext(ctx,
		`SELECT id, delivery_id, application_id, order_id, event, url, request_body, response_body, status_code,
		        outcome, exception, timeout_ms, at, retrying_at
		 FROM webhook_invocations
		 WHERE application_id = ? AND at >= ? AND at < ? AND (? = '' OR order_id = ?)
		   AND (? IS NULL OR (outcome = 'success') = ?)
		 ORDER BY at, id LIMIT ?`,
		q.ApplicationID, micros(q.From), micros(q.To), q.OrderID, q.OrderID, succeeded, succeeded, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook invocations: %w", classify(err))
	}
	defer rows.Close()
	var out []order.WebhookInvocation
	for rows.Next() {
		var inv order.WebhookInvocation
		var outcome string
		var at int64
		var retrying sql.NullInt64
		if err := rows.Scan(&inv.ID, &inv.DeliveryID, &inv.ApplicationID, &inv.OrderID, &inv.Event, &inv.URL, &inv.RequestBody,
			&inv.ResponseBody, &inv.StatusCode, &outcome, &inv.Exception, &inv.TimeoutMillis, &at, &retrying); err != nil {
			return nil, fmt.Errorf("list webhook invocations: %w", err)
		}
		inv.Outcome, inv.At = order.InvocationOutcome(outcome), fromMicros(at)
		if retrying.Valid {
			t := fromMicros(retrying.Int64)
			inv.RetryingAt = &t
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook invocations: %w", err)
	}
	return out, nil
}

// BeginIdempotent implements store.Store, under the write lock.
func (d *DB) BeginIdempotent(ctx context.Context, c store.IdempotencyClaim) (idempotency.State, []byte, error) {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("idempotency key: %w", err)
	}
	defer tx.Rollback()
	var hash, response []byte
	var answered bool
	var started, expires int64
	err = tx.QueryRowContext(ctx,
		`SELECT request_hash, response, response IS NOT NULL, started_at, expires_at FROM idempotency_keys WHERE scope = ? AND key = ?`,
		c.Scope, c.Key).Scan(&hash, &response, &answered, &started, &expires)
	if answered && response == nil {
		response = []byte{} // the driver reads an empty blob as nil, which would mean "still running"
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return 0, nil, fmt.Errorf("idempotency key: %w", err)
	case expires <= micros(c.Now):
	case response == nil && started < micros(c.StaleBefore) && bytes.Equal(hash, c.RequestHash):
	default:
		state, answer := idempotency.StateOf(hash, response, c.RequestHash)
		return state, answer, nil
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO idempotency_keys (scope, key, request_hash, started_at, expires_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, response = NULL,
		   started_at = excluded.started_at, expires_at = excluded.expires_at`,
		c.Scope, c.Key, c.RequestHash, micros(c.Now), micros(c.ExpiresAt))
	if err != nil {
		return 0, nil, fmt.Errorf("idempotency key: %w", classify(err))
	}
	// A key taken over forgets the orders of its earlier answer now, not when the new answer is kept:
	// dropping those documents meanwhile would otherwise delete the running claim.
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_key_orders WHERE scope = ? AND key = ?`, c.Scope, c.Key); err != nil {
		return 0, nil, fmt.Errorf("idempotency key: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, fmt.Errorf("idempotency key: commit: %w", err)
	}
	return idempotency.Started, nil, nil
}

// FinishIdempotent implements store.Store, under the write lock: no update can drop the orders'
// documents between the check and the write.
func (d *DB) FinishIdempotent(ctx context.Context, a store.KeptAnswer) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	defer tx.Rollback()
	for _, id := range a.OrderIDs {
		var data []byte
		err := tx.QueryRowContext(ctx, `SELECT data FROM signature_orders WHERE id = ?`, id).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrDocumentsDeleted
		}
		if err != nil {
			return fmt.Errorf("idempotency key: order %s: %w", id, classify(err))
		}
		if err := store.CheckDocumentsHeld(data); err != nil {
			return fmt.Errorf("idempotency key: order %s: %w", id, err)
		}
	}
	// A key taken over after expiry may still name the orders of its earlier answer.
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_key_orders WHERE scope = ? AND key = ?`, a.Scope, a.Key); err != nil {
		return fmt.Errorf("idempotency key: %w", classify(err))
	}
	res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET response = ? WHERE scope = ? AND key = ?`, a.Response, a.Scope, a.Key)
	if err != nil {
		return fmt.Errorf("idempotency key: %w", classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	if n == 0 {
		return nil // purged or abandoned meanwhile: nothing to keep, and nothing to name
	}
	for _, id := range a.OrderIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_key_orders (scope, key, order_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			a.Scope, a.Key, id); err != nil {
			return fmt.Errorf("idempotency key: %w", classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("idempotency key: commit: %w", err)
	}
	return nil
}

// AbandonIdempotent implements store.Store.
func (d *DB) AbandonIdempotent(ctx context.Context, scope, key string) error {
	if _, err := d.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND response IS NULL`, scope, key); err != nil {
		return fmt.Errorf("idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotencyKeys implements store.Store.
func (d *DB) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PutLoginForm implements store.Store.
func (d *DB) PutLoginForm(ctx context.Context, f store.LoginForm) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO login_forms (id, order_id, signatory_id, data, expires_at) VALUES (?, ?, ?, ?, ?)`,
		f.ID, f.OrderID, f.SignatoryID, f.Data, micros(f.ExpiresAt))
	if err != nil {
		return fmt.Errorf("keep login form: %w", classify(err))
	}
	return nil
}

// TakeLoginForm implements store.Store: DELETE … RETURNING deletes and reads in one statement
// (SQLite makes every change at the first step), so a second take finds nothing.
func (d *DB) TakeLoginForm(ctx context.Context, orderID, signatoryID, id string, now time.Time) ([]byte, error) {
	var data []byte
	var expires int64
	err := d.w.QueryRowContext(ctx, `DELETE FROM login_forms WHERE id = ? AND order_id = ? AND signatory_id = ? RETURNING data, expires_at`,
		id, orderID, signatoryID).Scan(&data, &expires)
	if err != nil {
		return nil, fmt.Errorf("take login form: %w", classify(err))
	}
	if expires <= micros(now) {
		return nil, fmt.Errorf("take login form: expired: %w", store.ErrNotFound)
	}
	return data, nil
}

// PurgeLoginForms implements store.Store.
func (d *DB) PurgeLoginForms(ctx context.Context, now time.Time) (int, error) {
	res, err := d.w.ExecContext(ctx, `DELETE FROM login_forms WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("purge login forms: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// FindOrderID implements store.Store.
func (d *DB) FindOrderID(ctx context.Context, kind store.IndexKind, key string) (string, error) {
	var id string
	err := d.r.QueryRowContext(ctx, `SELECT order_id FROM order_index WHERE kind = ? AND key = ?`, string(kind), key).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("find order by %s: %w", kind, classify(err))
	}
	return id, nil
}

// ListOrders implements store.Store.
func (d *DB) ListOrders(ctx context.Context, q store.ListOrdersQuery) (store.OrderPage, error) {
	if q.Limit <= 0 {
		return store.OrderPage{}, fmt.Errorf("list orders: limit %d is not positive", q.Limit)
	}
	where := `WHERE application_id = ?`
	args := []any{q.ApplicationID}
	if q.Status != nil {
		where += ` AND status = ?`
		args = append(args, string(*q.Status))
	}
	countArgs := args
	if q.After != nil {
		where += ` AND (created_at, id) < (?, ?)`
		args = append(args, micros(q.After.CreatedAt), q.After.ID)
	}
	args = append(args, q.Limit+1)

	// One read transaction: the count and the page come from the same snapshot.
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return store.OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	defer tx.Rollback()

	var page store.OrderPage
	rows, err := tx.QueryContext(ctx,
		`SELECT data FROM signature_orders `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return store.OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return store.OrderPage{}, fmt.Errorf("list orders: %w", err)
		}
		o, err := store.DecodeOrder(data)
		if err != nil {
			return store.OrderPage{}, fmt.Errorf("list orders: %w", err)
		}
		page.Orders = append(page.Orders, o)
	}
	if err := rows.Err(); err != nil {
		return store.OrderPage{}, fmt.Errorf("list orders: %w", err)
	}
	if len(page.Orders) > q.Limit {
		page.Orders = page.Orders[:q.Limit]
		page.HasNext = true
	}

	countWhere := `WHERE application_id = ?`
	if q.Status != nil {
		countWhere += ` AND status = ?`
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signature_orders `+countWhere, countArgs...).
		Scan(&page.TotalCount); err != nil {
		return store.OrderPage{}, fmt.Errorf("list orders: count: %w", err)
	}
	return page, nil
}
