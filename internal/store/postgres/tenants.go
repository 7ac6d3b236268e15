package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"esign/internal/store"
	"esign/internal/tenant"
)

const applicationColumns = `id, name, environment, created_at, tenant_id, verify_domain, verify_realm`

func scanApplication(row pgx.Row) (tenant.Application, error) {
	var (
		app      tenant.Application
		env      string
		tenantID *string
	)
	if err := row.Scan(&app.ID, &app.Name, &env, &app.CreatedAt, &tenantID, &app.VerifyDomain, &app.VerifyRealm); err != nil {
		return tenant.Application{}, err
	}
	app.Environment = tenant.Environment(env)
	app.CreatedAt = app.CreatedAt.UTC()
	if tenantID != nil {
		app.TenantID = *tenantID
	}
	return app, nil
}

// nullString stores "" as NULL: an application without a tenant has no tenant_id to reference.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateTenant implements store.Store.
func (d *DB) CreateTenant(ctx context.Context, t tenant.Tenant) error {
	_, err := d.pool.Exec(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`, t.ID, t.Name, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, classify(err))
	}
	return nil
}

// GetTenant implements store.Store.
func (d *DB) GetTenant(ctx context.Context, id string) (tenant.Tenant, error) {
	var t tenant.Tenant
	err := d.pool.QueryRow(ctx, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id).Scan(&t.ID, &t.Name, &t.CreatedAt)
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("get tenant %s: %w", id, classify(err))
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// CreateTenantKey implements store.Store.
func (d *DB) CreateTenantKey(ctx context.Context, key tenant.TenantKey) error {
	_, err := d.pool.Exec(ctx,
		`INSERT INTO tenant_keys (id, tenant_id, client_id, secret_hash, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		key.ID, key.TenantID, key.ClientID, key.SecretHash, key.Note, key.CreatedAt)
	if err != nil {
		return fmt.Errorf("create tenant key %s of tenant %s: %w", key.ID, key.TenantID, classify(err))
	}
	return nil
}

// GetTenantKeyByClientID implements store.Store.
func (d *DB) GetTenantKeyByClientID(ctx context.Context, clientID string) (tenant.TenantKey, error) {
	var k tenant.TenantKey
	err := d.pool.QueryRow(ctx,
		`SELECT id, tenant_id, client_id, secret_hash, note, created_at FROM tenant_keys WHERE client_id = $1`, clientID).
		Scan(&k.ID, &k.TenantID, &k.ClientID, &k.SecretHash, &k.Note, &k.CreatedAt)
	if err != nil {
		return tenant.TenantKey{}, fmt.Errorf("get tenant key of client %s: %w", clientID, classify(err))
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// ListTenantApplications implements store.Store.
func (d *DB) ListTenantApplications(ctx context.Context, tenantID string) ([]tenant.Application, error) {
	rows, err := d.pool.Query(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE tenant_id = $1 ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, classify(err))
	}
	apps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (tenant.Application, error) { return scanApplication(row) })
	if err != nil {
		return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, classify(err))
	}
	return apps, nil
}

// AttachApplication implements store.Store.
func (d *DB) AttachApplication(ctx context.Context, applicationID, tenantID string) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		var current *string
		err := tx.QueryRow(ctx, `SELECT tenant_id FROM applications WHERE id = $1 FOR UPDATE`, applicationID).Scan(&current)
		if err != nil {
			return err
		}
		switch {
		case current != nil && *current == tenantID:
			return nil
		case current != nil:
			return fmt.Errorf("%w: the application is in tenant %s", store.ErrConflict, *current)
		}
		// An unknown tenant fails the foreign key: ErrNotFound.
		_, err = tx.Exec(ctx, `UPDATE applications SET tenant_id = $1 WHERE id = $2`, tenantID, applicationID)
		return err
	})
	if err != nil {
		return fmt.Errorf("attach application %s to tenant %s: %w", applicationID, tenantID, classify(err))
	}
	return nil
}

// SetAPIKeySecret implements store.Store.
func (d *DB) SetAPIKeySecret(ctx context.Context, applicationID, keyID string, secretHash []byte) (tenant.APIKey, error) {
	k, err := scanAPIKey(d.pool.QueryRow(ctx,
		`UPDATE api_keys SET secret_hash = $1 WHERE id = $2 AND application_id = $3 RETURNING `+apiKeyColumns,
		secretHash, keyID, applicationID))
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("set secret of api key %s of application %s: %w", keyID, applicationID, classify(err))
	}
	return k, nil
}

// DeleteAPIKey implements store.Store.
func (d *DB) DeleteAPIKey(ctx context.Context, applicationID, keyID string) error {
	tag, err := d.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND application_id = $2`, keyID, applicationID)
	if err != nil {
		return fmt.Errorf("delete api key %s of application %s: %w", keyID, applicationID, classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete api key %s of application %s: %w", keyID, applicationID, store.ErrNotFound)
	}
	return nil
}
