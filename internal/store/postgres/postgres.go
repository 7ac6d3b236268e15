// Package postgres is the production Store backend, on a pgx connection pool. Several replicas may
// share one database: UpdateOrder locks the order's row, and migrations run under an advisory lock.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"esign/internal/idempotency"
	"esign/internal/order"
	"esign/internal/store"
	"esign/internal/tenant"
	"esign/migrations"
)

// DB is a Store on PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// Open connects to databaseURL (a postgres:// URL or key=value DSN) and brings the schema up to date.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error can echo the URL, password included; say only what kind of problem it is.
		return nil, errors.New("open postgres: the database URL cannot be parsed")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", classify(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", classify(err))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", classify(err))
	}
	return &DB{pool: pool}, nil
}

func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	defer db.Close()
	// Replicas starting together: the first takes a session advisory lock (scoped to this database)
	// and migrates; the others poll for the lock every second, then find nothing left to do.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migration lock: %w", classify(err))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", classify(err))
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", classify(err))
	}
	return nil
}

// Close closes the pool.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Ping implements store.Store.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", classify(err))
	}
	return nil
}

// classify adds the store sentinel that a driver error means, keeping the driver error for the log.
func classify(err error) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
		return err // classified already
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if unavailable(err) && !errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailable says whether err means the server could not be reached or went away: connection
// errors, a server shutting down or starting, or a broken connection.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", "53300": // admin/crash shutdown, cannot connect now, too many connections
			return true
		}
		return strings.HasPrefix(pe.Code, "08") // connection exception
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// CreateApplication implements store.Store.
func (d *DB) CreateApplication(ctx context.Context, app tenant.Application) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO applications (id, name, environment, created_at, tenant_id, verify_domain, verify_realm) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		app.ID, app.Name, string(app.Environment), app.CreatedAt, nullString(app.TenantID), app.VerifyDomain, app.VerifyRealm)
	if err != nil {
		return fmt.Errorf("create application %s: %w", app.ID, classify(err))
	}
	return nil
}

// GetApplication implements store.Store.
func (d *DB) GetApplication(ctx context.Context, id string) (tenant.Application, error) {
	app, err := d.getApplication(ctx, `WHERE id = $1`, id)
	if err != nil {
		return tenant.Application{}, fmt.Errorf("get application %s: %w", id, classify(err))
	}
	return app, nil
}

// GetApplicationByName implements store.Store.
func (d *DB) GetApplicationByName(ctx context.Context, name string) (tenant.Application, error) {
	app, err := d.getApplication(ctx, `WHERE name = $1`, name)
	if err != nil {
		return tenant.Application{}, fmt.Errorf("get application named %q: %w", name, classify(err))
	}
	return app, nil
}

func (d *DB) getApplication(ctx context.Context, where string, arg any) (tenant.Application, error) {
	app, err := scanApplication(d.pool.QueryRow(ctx, `SELECT `+applicationColumns+` FROM applications `+where, arg))
	if err != nil {
		return tenant.Application{}, classify(err)
	}
	return app, nil
}

// CreateAPIKey implements store.Store. A key of an unknown application gives ErrNotFound.
func (d *DB) CreateAPIKey(ctx context.Context, key tenant.APIKey) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO api_keys (id, application_id, client_id, secret_hash, mode, note, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		key.ID, key.ApplicationID, key.ClientID, key.SecretHash, string(key.Mode), key.Note, key.CreatedAt)
	if err != nil {
		return fmt.Errorf("create api key %s of application %s: %w", key.ID, key.ApplicationID, classify(err))
	}
	return nil
}

const apiKeyColumns = `id, application_id, client_id, secret_hash, mode, note, created_at`

func scanAPIKey(row pgx.Row) (tenant.APIKey, error) {
	var (
		k    tenant.APIKey
		mode string
	)
	if err := row.Scan(&k.ID, &k.ApplicationID, &k.ClientID, &k.SecretHash, &mode, &k.Note, &k.CreatedAt); err != nil {
		return tenant.APIKey{}, err
	}
	k.Mode = tenant.KeyMode(mode)
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// GetAPIKeyByClientID implements store.Store.
func (d *DB) GetAPIKeyByClientID(ctx context.Context, clientID string) (tenant.APIKey, error) {
	k, err := scanAPIKey(d.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE client_id = $1`, clientID))
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("get api key of client %s: %w", clientID, classify(err))
	}
	return k, nil
}

// ListAPIKeys implements store.Store.
func (d *DB) ListAPIKeys(ctx context.Context, applicationID string) ([]tenant.APIKey, error) {
	rows, err := d.pool.Query(ctx,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE application_id = $1 ORDER BY created_at, id`, applicationID)
	if err != nil {
		return nil, fmt.Errorf("list api keys of application %s: %w", applicationID, classify(err))
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.APIKey, error) { return scanAPIKey(row) })
	if err != nil {
		return nil, fmt.Errorf("list api keys of application %s: %w", applicationID, classify(err))
	}
	return keys, nil
}

// CreateOrder implements store.Store.
func (d *DB) CreateOrder(ctx context.Context, o *order.SignatureOrder) error {
	data, err := store.EncodeOrder(o)
	if err != nil {
		return fmt.Errorf("create order %s: encode: %w", o.ID, err)
	}
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO signature_orders (id, application_id, status, created_at, expires_at, retain_documents_until, sweep_at, retired_at, data)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			o.ID, o.ApplicationID, string(o.Status), o.CreatedAt, o.ExpiresAt, o.RetainDocumentsUntil, o.SweepAt(), o.RetiredAt(), data)
		if err != nil {
			return classify(err)
		}
		if err := insertIndex(ctx, tx, o); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, o); err != nil {
			return err
		}
		return insertAudit(ctx, tx, o)
	})
	if err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, classify(err))
	}
	return nil
}

func insertIndex(ctx context.Context, tx pgx.Tx, o *order.SignatureOrder) error {
	entries := store.IndexEntries(o)
	if len(entries) == 0 {
		return nil
	}
	kinds := make([]string, len(entries))
	keys := make([]string, len(entries))
	for i, e := range entries {
		kinds[i], keys[i] = string(e.Kind), e.Key
	}
	// One statement whatever the number of entries.
	_, err := tx.Exec(ctx,
		`INSERT INTO order_index (kind, key, order_id) SELECT kind, key, $3 FROM unnest($1::text[], $2::text[]) AS e (kind, key)`,
		kinds, keys, o.ID)
	if err != nil {
		return fmt.Errorf("index: %w", classify(err))
	}
	return nil
}

// GetOrder implements store.Store.
func (d *DB) GetOrder(ctx context.Context, id string) (*order.SignatureOrder, error) {
	var data []byte
	if err := d.pool.QueryRow(ctx, `SELECT data FROM signature_orders WHERE id = $1`, id).Scan(&data); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, classify(err))
	}
	o, err := store.DecodeOrder(data)
	if err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, classify(err))
	}
	return o, nil
}

// UpdateOrder implements store.Store. fn runs while the order's row is locked, so it must not update
// the same order through the store.
func (d *DB) UpdateOrder(ctx context.Context, id string, fn store.Updater) (*order.SignatureOrder, error) {
	var saved *order.SignatureOrder
	var fnErr error
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var data []byte
		// FOR UPDATE: a concurrent UpdateOrder of the same order waits here until we commit, then
		// reads what we wrote.
		if err := tx.QueryRow(ctx, `SELECT data FROM signature_orders WHERE id = $1 FOR UPDATE`, id).Scan(&data); err != nil {
			return classify(err)
		}
		o, err := applyAndSave(ctx, tx, data, fn)
		if ue := (*store.UpdaterError)(nil); errors.As(err, &ue) {
			fnErr = ue.Err
		}
		saved = o
		return err
	})
	if fnErr != nil {
		return nil, fnErr // unchanged, as the contract promises
	}
	if err != nil {
		return nil, fmt.Errorf("update order %s: %w", id, classify(err))
	}
	return saved, nil
}

// applyAndSave decodes a locked order, applies fn and writes the result (its index only when the
// indexed keys changed).
func applyAndSave(ctx context.Context, tx pgx.Tx, data []byte, fn store.Updater) (*order.SignatureOrder, error) {
	a, err := store.Apply(data, fn)
	if err != nil {
		return nil, err
	}
	o := a.Order
	_, err = tx.Exec(ctx,
		`UPDATE signature_orders SET status = $2, expires_at = $3, retain_documents_until = $4, sweep_at = $5, retired_at = $6, data = $7
		 WHERE id = $1`,
		o.ID, string(o.Status), o.ExpiresAt, o.RetainDocumentsUntil, o.SweepAt(), o.RetiredAt(), a.Data)
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
		if _, err := tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE (scope, key) IN (
			SELECT scope, key FROM idempotency_key_orders WHERE order_id = $1)`, o.ID); err != nil {
			return nil, fmt.Errorf("delete kept answers holding the documents: %w", classify(err))
		}
	}
	if !a.Reindex {
		return o, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM order_index WHERE order_id = $1`, o.ID); err != nil {
		return nil, fmt.Errorf("clear index: %w", classify(err))
	}
	if err := insertIndex(ctx, tx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// SweepDue implements store.Store. FOR UPDATE SKIP LOCKED lets sweepers on several replicas claim
// disjoint batches; an order a request holds is skipped now and found by a later run.
func (d *DB) SweepDue(ctx context.Context, now time.Time, limit int, fn store.Updater) ([]*order.SignatureOrder, error) {
	var saved []*order.SignatureOrder
	var fnErrs []error
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		saved, fnErrs = nil, nil
		rows, err := tx.Query(ctx,
			`SELECT data FROM signature_orders WHERE sweep_at <= $1 ORDER BY sweep_at LIMIT $2 FOR UPDATE SKIP LOCKED`, now, limit)
		if err != nil {
			return classify(err)
		}
		claimed, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return classify(err)
		}
		for _, data := range claimed {
			o, err := applyAndSave(ctx, tx, data, fn)
			if ue := (*store.UpdaterError)(nil); errors.As(err, &ue) {
				fnErrs = append(fnErrs, ue.Err)
				continue
			}
			if err != nil {
				return err
			}
			saved = append(saved, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", classify(err))
	}
	return saved, errors.Join(fnErrs...)
}

// PurgeOrders implements store.Store.
func (d *DB) PurgeOrders(ctx context.Context, retiredBefore time.Time, limit int) (int, error) {
	var n int
	err := d.pool.QueryRow(ctx,
		`WITH purged AS (
		   DELETE FROM signature_orders WHERE id IN (
		     SELECT id FROM signature_orders WHERE sweep_at IS NULL AND retired_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
		   RETURNING id),
		 deliveries AS (DELETE FROM webhook_deliveries WHERE order_id IN (SELECT id FROM purged)),
		 invocations AS (DELETE FROM webhook_invocations WHERE order_id IN (SELECT id FROM purged))
		 SELECT count(*) FROM purged`,
		retiredBefore, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("purge orders: %w", classify(err))
	}
	return n, nil
}

// insertEvents writes the events the order raised to the webhook outbox, due at once.
func insertEvents(ctx context.Context, tx pgx.Tx, o *order.SignatureOrder) error {
	for _, e := range o.Events() {
		_, err := tx.Exec(ctx,
			`INSERT INTO webhook_deliveries (id, application_id, order_id, event, url, secret, body, created_at, next_attempt_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
			uuid.Must(uuid.NewV7()).String(), o.ApplicationID, o.ID, e.Name, e.URL, e.Secret, string(e.Body), e.At)
		if err != nil {
			return fmt.Errorf("webhook outbox: %w", classify(err))
		}
	}
	return nil
}

const deliveryColumns = `id, application_id, order_id, event, url, secret, body, created_at, attempts`

func scanDelivery(row pgx.Row) (store.WebhookDelivery, error) {
	var w store.WebhookDelivery
	var body string
	err := row.Scan(&w.ID, &w.ApplicationID, &w.OrderID, &w.Event, &w.URL, &w.Secret, &body, &w.CreatedAt, &w.Attempt)
	w.Body, w.CreatedAt = []byte(body), w.CreatedAt.UTC()
	return w, err
}

// ClaimWebhookDeliveries implements store.Store. The skipped applications are one text[]
// parameter, so the statement is the same whatever their number.
func (d *DB) ClaimWebhookDeliveries(ctx context.Context, c store.WebhookClaim) ([]store.WebhookDelivery, error) {
	skip := c.SkipApplications
	if skip == nil {
		skip = []string{} // nil would be NULL, and "<> ALL(NULL)" matches nothing
	}
	rows, err := d.pool.Query(ctx,
		`UPDATE webhook_deliveries SET next_attempt_at = $2, attempts = attempts + 1
		 WHERE id IN (SELECT id FROM webhook_deliveries WHERE next_attempt_at <= $1 AND application_id <> ALL($4::text[])
		              ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
		 RETURNING `+deliveryColumns, c.Now, c.Now.Add(c.Lease), c.Limit, skip)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WebhookDelivery, error) { return scanDelivery(r) })
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", classify(err))
	}
	slices.SortFunc(out, func(a, b store.WebhookDelivery) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// RecordWebhookInvocation implements store.Store.
func (d *DB) RecordWebhookInvocation(ctx context.Context, inv order.WebhookInvocation) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		// The order's row first: its lock keeps the trail's numbering gap-free, and taking it
		// before the delivery's row keeps the lock order of UpdateOrder (order, then outbox).
		if err := insertWebhookAudit(ctx, tx, inv); err != nil {
			return err
		}
		_, err := tx.Exec(ctx,
			`INSERT INTO webhook_invocations (id, delivery_id, application_id, order_id, event, url, request_body,
			   response_body, status_code, outcome, exception, timeout_ms, at, retrying_at)
			 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			inv.ID, inv.DeliveryID, inv.ApplicationID, inv.OrderID, inv.Event, inv.URL, inv.RequestBody,
			inv.ResponseBody, inv.StatusCode, string(inv.Outcome), inv.Exception, inv.TimeoutMillis, inv.At, inv.RetryingAt)
		if err != nil {
			return classify(err)
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1`, inv.DeliveryID, inv.RetryingAt)
		return classify(err)
	})
	if err != nil {
		return fmt.Errorf("record webhook invocation %s: %w", inv.ID, classify(err))
	}
	return nil
}

// insertAudit seals the entries the order recorded into its audit trail, after its last entry.
// The caller holds the order's row lock, so no other writer takes the same numbers.
func insertAudit(ctx context.Context, tx pgx.Tx, o *order.SignatureOrder) error {
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
	orderIDs := make([]string, len(sealed))
	seqs := make([]int64, len(sealed))
	ats := make([]time.Time, len(sealed))
	ciphertexts := make([][]byte, len(sealed))
	for i, e := range sealed {
		orderIDs[i], seqs[i], ats[i], ciphertexts[i] = e.OrderID, e.Seq, e.At, e.Sealed
	}
	// One statement whatever the number of entries.
	if _, err := tx.Exec(ctx, `INSERT INTO audit_entries (order_id, seq, at, ciphertext)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::bytea[])`,
		orderIDs, seqs, ats, ciphertexts); err != nil {
		return fmt.Errorf("audit trail: %w", classify(err))
	}
	return nil
}

func nextAuditSeq(ctx context.Context, tx pgx.Tx, orderID string) (int64, error) {
	var last int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_entries WHERE order_id = $1`, orderID).Scan(&last); err != nil {
		return 0, fmt.Errorf("audit trail: %w", classify(err))
	}
	return last + 1, nil
}

// insertWebhookAudit adds the attempt to its order's audit trail, locking the order's row for the
// numbering; nothing when the order is gone (purged while its delivery was out) or has no audit key.
func insertWebhookAudit(ctx context.Context, tx pgx.Tx, inv order.WebhookInvocation) error {
	var data []byte
	err := tx.QueryRow(ctx, `SELECT data FROM signature_orders WHERE id = $1 FOR UPDATE`, inv.OrderID).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if _, err := tx.Exec(ctx, `INSERT INTO audit_entries (order_id, seq, at, ciphertext) VALUES ($1, $2, $3, $4)`,
		e.OrderID, e.Seq, e.At, e.Sealed); err != nil {
		return fmt.Errorf("audit trail: %w", classify(err))
	}
	return nil
}

// ListAuditEntries implements store.Store.
func (d *DB) ListAuditEntries(ctx context.Context, orderID string, afterSeq int64, limit int) ([]store.SealedAuditEntry, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list audit entries of order %s: limit %d is not positive", orderID, limit)
	}
	rows, err := d.pool.Query(ctx,
		`SELECT order_id, seq, at, ciphertext FROM audit_entries WHERE order_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		orderID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries of order %s: %w", orderID, classify(err))
	}
	entries, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.SealedAuditEntry, error) {
		var e store.SealedAuditEntry
		err := row.Scan(&e.OrderID, &e.Seq, &e.At, &e.Sealed)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries of order %s: %w", orderID, classify(err))
	}
	return entries, nil
}

// EnqueueWebhook implements store.Store.
func (d *DB) EnqueueWebhook(ctx context.Context, w store.WebhookDelivery, due time.Time) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO webhook_deliveries (id, application_id, order_id, event, url, secret, body, created_at, next_attempt_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		w.ID, w.ApplicationID, w.OrderID, w.Event, w.URL, w.Secret, string(w.Body), w.CreatedAt, due)
	if err != nil {
		return fmt.Errorf("enqueue webhook %s: %w", w.ID, classify(err))
	}
	return nil
}

// GetWebhookDelivery implements store.Store.
func (d *DB) GetWebhookDelivery(ctx context.Context, id string) (store.WebhookDelivery, error) {
	w, err := scanDelivery(d.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return store.WebhookDelivery{}, fmt.Errorf("get webhook delivery %s: %w", id, classify(err))
	}
	return w, nil
}

// ListWebhookSecrets implements store.Store.
func (d *DB) ListWebhookSecrets(ctx context.Context, after string, limit int) ([]store.WebhookDelivery, error) {
	rows, err := d.pool.Query(ctx,
		`SELECT id, application_id, order_id, secret FROM webhook_deliveries
		 WHERE secret IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook secrets: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.WebhookDelivery, error) {
		var w store.WebhookDelivery
		err := row.Scan(&w.ID, &w.ApplicationID, &w.OrderID, &w.Secret)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("list webhook secrets: %w", classify(err))
	}
	return out, nil
}

// SetWebhookSecret implements store.Store.
func (d *DB) SetWebhookSecret(ctx context.Context, id string, old, secret []byte) (bool, error) {
	tag, err := d.pool.Exec(ctx, `UPDATE webhook_deliveries SET secret = $1 WHERE id = $2 AND secret = $3`, secret, id, old)
	if err != nil {
		return false, fmt.Errorf("set webhook secret of %s: %w", id, classify(err))
	}
	return tag.RowsAffected() == 1, nil
}

// ListOrdersWithWebhookSecret implements store.Store.
func (d *DB) ListOrdersWithWebhookSecret(ctx context.Context, after string, limit int) ([]string, error) {
	// A text search, not data->'webhook': the json operators refuse a document that holds an escaped
	// NUL (\u0000), which titles may. Only the webhook has a "secret" key, and encoding/json escapes
	// the quotes of one inside a string value; the caller checks each order it gets anyway.
	rows, err := d.pool.Query(ctx,
		`SELECT id FROM signature_orders WHERE strpos(data::text, '"secret":') > 0 AND id > $1
		 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list orders with a webhook secret: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list orders with a webhook secret: %w", classify(err))
	}
	return out, nil
}

// ListWebhookInvocations implements store.Store.
func (d *DB) ListWebhookInvocations(ctx context.Context, q store.WebhookLogQuery) ([]order.WebhookInvocation, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list webhook invocations: limit %d is not positive", q.Limit)
	}
	rows, err := d.pool.Query(ctx,
		`SELECT id, delivery_id, application_id, order_id, event, url, request_body, response_body, status_code,
		        outcome, exception, timeout_ms, at, retrying_at
		 FROM webhook_invocations
		 WHERE application_id = $1 AND at >= $2 AND at < $3 AND ($4 = '' OR order_id = $4)
		   AND ($5::boolean IS NULL OR (outcome = 'success') = $5)
		 ORDER BY at, id LIMIT $6`,
		q.ApplicationID, q.From, q.To, q.OrderID, q.Succeeded, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook invocations: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (order.WebhookInvocation, error) {
		var inv order.WebhookInvocation
		var outcome string
		err := r.Scan(&inv.ID, &inv.DeliveryID, &inv.ApplicationID, &inv.OrderID, &inv.Event, &inv.URL, &inv.RequestBody,
			&inv.ResponseBody, &inv.StatusCode, &outcome, &inv.Exception, &inv.TimeoutMillis, &inv.At, &inv.RetryingAt)
		inv.Outcome, inv.At = order.InvocationOutcome(outcome), inv.At.UTC()
		if inv.RetryingAt != nil {
			*inv.RetryingAt = inv.RetryingAt.UTC()
		}
		return inv, err
	})
	if err != nil {
		return nil, fmt.Errorf("list webhook invocations: %w", classify(err))
	}
	return out, nil
}

// BeginIdempotent implements store.Store: one upsert claims a new key, an expired one or a stale
// run of the same request; otherwise the row says what happened.
func (d *DB) BeginIdempotent(ctx context.Context, c store.IdempotencyClaim) (idempotency.State, []byte, error) {
	for range 3 {
		var claimed bool
		// A key taken over forgets the orders of its earlier answer in the same statement, not when
		// the new answer is kept: dropping those documents meanwhile would delete the running claim.
		err := d.pool.QueryRow(ctx,
			`WITH claimed AS (
			   INSERT INTO idempotency_keys (scope, key, request_hash, started_at, expires_at) VALUES ($1, $2, $3, $4, $5)
			   ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, response = NULL,
			     started_at = EXCLUDED.started_at, expires_at = EXCLUDED.expires_at
			   WHERE idempotency_keys.expires_at <= $4
			      OR (idempotency_keys.response IS NULL AND idempotency_keys.started_at < $6
			          AND idempotency_keys.request_hash = EXCLUDED.request_hash)
			   RETURNING scope, key),
			 forgotten AS (
			   DELETE FROM idempotency_key_orders o USING claimed c WHERE o.scope = c.scope AND o.key = c.key)
			 SELECT true FROM claimed`,
			c.Scope, c.Key, c.RequestHash, c.Now, c.ExpiresAt, c.StaleBefore).Scan(&claimed)
		if err == nil {
			return idempotency.Started, nil, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, nil, fmt.Errorf("idempotency key: %w", classify(err))
		}
		var hash, response []byte
		err = d.pool.QueryRow(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
			c.Scope, c.Key).Scan(&hash, &response)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // purged in between: claim again
		}
		if err != nil {
			return 0, nil, fmt.Errorf("idempotency key: %w", classify(err))
		}
		state, answer := idempotency.StateOf(hash, response, c.RequestHash)
		return state, answer, nil
	}
	return 0, nil, errors.New("idempotency key: the key changed three times while claiming it")
}

// FinishIdempotent implements store.Store. The orders are read FOR SHARE: an UpdateOrder that
// drops their documents waits for this commit and then deletes the answer, or committed first and
// the check here sees the documents gone.
func (d *DB) FinishIdempotent(ctx context.Context, a store.KeptAnswer) error {
	ids := slices.Clone(a.OrderIDs)
	slices.Sort(ids) // one lock order for every caller
	ids = slices.Compact(ids)
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if len(ids) > 0 {
			rows, err := tx.Query(ctx, `SELECT data FROM signature_orders WHERE id = ANY($1) ORDER BY id FOR SHARE`, ids)
			if err != nil {
				return classify(err)
			}
			orders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				return classify(err)
			}
			if len(orders) != len(ids) {
				return store.ErrDocumentsDeleted
			}
			for _, data := range orders {
				if err := store.CheckDocumentsHeld(data); err != nil {
					return err
				}
			}
		}
		// A key taken over after expiry may still name the orders of its earlier answer.
		if _, err := tx.Exec(ctx, `DELETE FROM idempotency_key_orders WHERE scope = $1 AND key = $2`, a.Scope, a.Key); err != nil {
			return classify(err)
		}
		tag, err := tx.Exec(ctx, `UPDATE idempotency_keys SET response = $3 WHERE scope = $1 AND key = $2`, a.Scope, a.Key, a.Response)
		if err != nil {
			return classify(err)
		}
		if tag.RowsAffected() == 0 || len(ids) == 0 {
			return nil // purged or abandoned meanwhile, or nothing to name
		}
		if _, err := tx.Exec(ctx, `INSERT INTO idempotency_key_orders (scope, key, order_id) SELECT $1, $2, unnest($3::text[])`, a.Scope, a.Key, ids); err != nil {
			return classify(err)
		}
		return nil
	})
	if errors.Is(err, store.ErrDocumentsDeleted) {
		return err
	}
	if err != nil {
		return fmt.Errorf("idempotency key: %w", classify(err))
	}
	return nil
}

// AbandonIdempotent implements store.Store.
func (d *DB) AbandonIdempotent(ctx context.Context, scope, key string) error {
	if _, err := d.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response IS NULL`, scope, key); err != nil {
		return fmt.Errorf("idempotency key: %w", classify(err))
	}
	return nil
}

// PurgeIdempotencyKeys implements store.Store.
func (d *DB) PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", classify(err))
	}
	return int(tag.RowsAffected()), nil
}

// PutLoginForm implements store.Store.
func (d *DB) PutLoginForm(ctx context.Context, f store.LoginForm) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO login_forms (id, order_id, signatory_id, data, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		f.ID, f.OrderID, f.SignatoryID, f.Data, f.ExpiresAt)
	if err != nil {
		return fmt.Errorf("keep login form: %w", classify(err))
	}
	return nil
}

// TakeLoginForm implements store.Store: DELETE … RETURNING deletes and reads in one statement, so
// of two concurrent takes one waits for the other's row lock and then finds nothing.
func (d *DB) TakeLoginForm(ctx context.Context, orderID, signatoryID, id string, now time.Time) ([]byte, error) {
	var data []byte
	var expires time.Time
	err := d.pool.QueryRow(ctx, `DELETE FROM login_forms WHERE id = $1 AND order_id = $2 AND signatory_id = $3 RETURNING data, expires_at`,
		id, orderID, signatoryID).Scan(&data, &expires)
	if err != nil {
		return nil, fmt.Errorf("take login form: %w", classify(err))
	}
	if !expires.After(now) {
		return nil, fmt.Errorf("take login form: expired: %w", store.ErrNotFound)
	}
	return data, nil
}

// PurgeLoginForms implements store.Store.
func (d *DB) PurgeLoginForms(ctx context.Context, now time.Time) (int, error) {
	tag, err := d.pool.Exec(ctx, `DELETE FROM login_forms WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("purge login forms: %w", classify(err))
	}
	return int(tag.RowsAffected()), nil
}

// FindOrderID implements store.Store.
func (d *DB) FindOrderID(ctx context.Context, kind store.IndexKind, key string) (string, error) {
	var id string
	err := d.pool.QueryRow(ctx, `SELECT order_id FROM order_index WHERE kind = $1 AND key = $2`, string(kind), key).Scan(&id)
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
	where := `WHERE application_id = $1`
	args := []any{q.ApplicationID}
	if q.Status != nil {
		args = append(args, string(*q.Status))
		where += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	countQuery := `SELECT COUNT(*) FROM signature_orders ` + where
	countArgs := args[:len(args):len(args)]
	if q.After != nil {
		args = append(args, q.After.CreatedAt, q.After.ID)
		where += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, q.Limit+1)
	pageQuery := `SELECT data FROM signature_orders ` + where +
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))

	var page store.OrderPage
	// REPEATABLE READ: the count and the page come from the same snapshot.
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, pageQuery, args...)
			if err != nil {
				return err
			}
			page.Orders, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (*order.SignatureOrder, error) {
				var data []byte
				if err := row.Scan(&data); err != nil {
					return nil, err
				}
				return store.DecodeOrder(data)
			})
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, countQuery, countArgs...).Scan(&page.TotalCount); err != nil {
				return fmt.Errorf("count: %w", classify(err))
			}
			return nil
		})
	if err != nil {
		return store.OrderPage{}, fmt.Errorf("list orders: %w", classify(err))
	}
	if len(page.Orders) > q.Limit {
		page.Orders = page.Orders[:q.Limit]
		page.HasNext = true
	}
	return page, nil
}
