package sqlite

import (
	"context"
	"fmt"

	"esign/internal/store"
	"esign/internal/tenant"
)

const applicationColumns = `id, name, environment, created_at, tenant_id, verify_domain, verify_realm`

func scanApplication(row interface{ Scan(...any) error }) (tenant.Application, error) {
	var (
		app      tenant.Application
		env      string
		created  int64
		tenantID *string
	)
	if err := row.Scan(&app.ID, &app.Name, &env, &created, &tenantID, &app.VerifyDomain, &app.VerifyRealm); err != nil {
		return tenant.Application{}, err
	}
	app.Environment = tenant.Environment(env)
	app.CreatedAt = fromMicros(created)
	if tenantID != nil {
		app.TenantID = *tenantID
	}
	return app, nil
}

// nullString stores "" as NULL: an application without a tenant has no tenant_id to reference.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateTenant implements store.Store.
func (d *DB) CreateTenant(ctx context.Context, t tenant.Tenant) error {
	_, err := d.w.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`,
		t.ID, t.Name, micros(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("create tenant %s: %w", t.ID, classify(err))
	}
	return nil
}

// GetTenant implements store.Store.
func (d *DB) GetTenant(ctx context.Context, id string) (tenant.Tenant, error) {
	var (
		t       tenant.Tenant
		created int64
	)
	err := d.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM tenants WHERE id = ?`, id).
		Scan(&t.ID, &t.Name, &created)
	if err != nil {
		return tenant.Tenant{}, fmt.Errorf("get tenant %s: %w", id, classify(err))
	}
	t.CreatedAt = fromMicros(created)
	return t, nil
}

// CreateTenantKey implements store.Store.
func (d *DB) CreateTenantKey(ctx context.Context, key tenant.TenantKey) error {
	_, err := d.w.ExecContext(ctx,
		`INSERT INTO tenant_keys (id, tenant_id, client_id, secret_hash, note, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		key.ID, key.TenantID, key.ClientID, key.SecretHash, key.Note, micros(key.CreatedAt))
	if err != nil {
		return fmt.Errorf("create tenant key %s of tenant %s: %w", key.ID, key.TenantID, classify(err))
	}
	return nil
}

// GetTenantKeyByClientID implements store.Store.
func (d *DB) GetTenantKeyByClientID(ctx context.Context, clientID string) (tenant.TenantKey, error) {
	var (
		k       tenant.TenantKey
		created int64
	)
	err := d.r.QueryRowContext(ctx,
		`SELECT id, tenant_id, client_id, secret_hash, note, created_at FROM tenant_keys WHERE client_id = ?`, clientID).
		Scan(&k.ID, &k.TenantID, &k.ClientID, &k.SecretHash, &k.Note, &created)
	if err != nil {
		return tenant.TenantKey{}, fmt.Errorf("get tenant key of client %s: %w", clientID, classify(err))
	}
	k.CreatedAt = fromMicros(created)
	return k, nil
}

// ListTenantApplications implements store.Store.
func (d *DB) ListTenantApplications(ctx context.Context, tenantID string) ([]tenant.Application, error) {
	rows, err := d.r.QueryContext(ctx,
		`SELECT `+applicationColumns+` FROM applications WHERE tenant_id = ? ORDER BY created_at, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, err)
	}
	defer rows.Close()
	var apps []tenant.Application
	for rows.Next() {
		app, err := scanApplication(rows)
		if err != nil {
			return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, err)
		}
		apps = append(apps, app)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list applications of tenant %s: %w", tenantID, err)
	}
	return apps, nil
}

// AttachApplication implements store.Store.
func (d *DB) AttachApplication(ctx context.Context, applicationID, tenantID string) error {
	err := d.attachApplication(ctx, applicationID, tenantID)
	if err != nil {
		return fmt.Errorf("attach application %s to tenant %s: %w", applicationID, tenantID, err)
	}
	return nil
}

func (d *DB) attachApplication(ctx context.Context, applicationID, tenantID string) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var current *string
	if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM applications WHERE id = ?`, applicationID).Scan(&current); err != nil {
		return classify(err)
	}
	switch {
	case current != nil && *current == tenantID:
		return nil
	case current != nil:
		return fmt.Errorf("%w: the application is in tenant %s", store.ErrConflict, *current)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE applications SET tenant_id = ? WHERE id = ?`, tenantID, applicationID); err != nil {
		return classify(err) // an unknown tenant fails the foreign key: ErrNotFound
	}
	return tx.Commit()
}

// SetAPIKeySecret implements store.Store.
func (d *DB) SetAPIKeySecret(ctx context.Context, applicationID, keyID string, secretHash []byte) (tenant.APIKey, error) {
	k, err := scanAPIKey(d.w.QueryRowContext(ctx,
		`UPDATE api_keys SET secret_hash = ? WHERE id = ? AND application_id = ? RETURNING `+apiKeyColumns,
		secretHash, keyID, applicationID))
	if err != nil {
		return tenant.APIKey{}, fmt.Errorf("set secret of api key %s of application %s: %w", keyID, applicationID, classify(err))
	}
	return k, nil
}

// DeleteAPIKey implements store.Store.
func (d *DB) DeleteAPIKey(ctx context.Context, applicationID, keyID string) error {
	res, err := d.w.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ? AND application_id = ?`, keyID, applicationID)
	if err != nil {
		return fmt.Errorf("delete api key %s of application %s: %w", keyID, applicationID, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete api key %s of application %s: %w", keyID, applicationID, err)
	}
	if n == 0 {
		return fmt.Errorf("delete api key %s of application %s: %w", keyID, applicationID, store.ErrNotFound)
	}
	return nil
}
