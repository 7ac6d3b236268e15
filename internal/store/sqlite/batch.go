package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"esign/internal/order"
)

// CreateBatchSignatory implements store.Store.
func (d *DB) CreateBatchSignatory(ctx context.Context, b order.BatchSignatory) error {
	var ui any
	if b.UI != nil {
		data, err := json.Marshal(b.UI)
		if err != nil {
			return fmt.Errorf("create batch signatory %s: encode ui: %w", b.ID, err)
		}
		ui = string(data)
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create batch signatory %s: %w", b.ID, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO batch_signatories (id, application_id, token_hash, trace_id, ui, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		b.ID, b.ApplicationID, b.TokenHash, b.TraceID, ui, micros(b.CreatedAt))
	if err != nil {
		return fmt.Errorf("create batch signatory %s: %w", b.ID, classify(err))
	}
	for i, it := range b.Items {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO batch_signatory_items (batch_id, position, order_id, signatory_id) VALUES (?, ?, ?, ?)`,
			b.ID, i, it.OrderID, it.SignatoryID)
		if err != nil {
			return fmt.Errorf("create batch signatory %s: item %d: %w", b.ID, i, classify(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create batch signatory %s: commit: %w", b.ID, err)
	}
	return nil
}

// GetBatchSignatory implements store.Store.
func (d *DB) GetBatchSignatory(ctx context.Context, id string) (order.BatchSignatory, error) {
	return d.batchSignatory(ctx, `id = ?`, id)
}

// FindBatchSignatoryByTokenHash implements store.Store.
func (d *DB) FindBatchSignatoryByTokenHash(ctx context.Context, tokenHash string) (order.BatchSignatory, error) {
	return d.batchSignatory(ctx, `token_hash = ?`, tokenHash)
}

// batchSignatory reads one batch and its items in one read transaction, so the items are the
// batch's as committed together.
func (d *DB) batchSignatory(ctx context.Context, where string, arg any) (order.BatchSignatory, error) {
	tx, err := d.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return order.BatchSignatory{}, fmt.Errorf("get batch signatory: %w", err)
	}
	defer tx.Rollback()
	var b order.BatchSignatory
	var ui sql.NullString
	var created int64
	err = tx.QueryRowContext(ctx,
		`SELECT id, application_id, token_hash, trace_id, ui, created_at FROM batch_signatories WHERE `+where, arg).
		Scan(&b.ID, &b.ApplicationID, &b.TokenHash, &b.TraceID, &ui, &created)
	if err != nil {
		return order.BatchSignatory{}, fmt.Errorf("get batch signatory: %w", classify(err))
	}
	b.CreatedAt = fromMicros(created)
	if ui.Valid {
		b.UI = &order.UI{}
		if err := json.Unmarshal([]byte(ui.String), b.UI); err != nil {
			return order.BatchSignatory{}, fmt.Errorf("get batch signatory %s: decode ui: %w", b.ID, err)
		}
	}
	rows, err := tx.QueryContext(ctx,
		`SELECT order_id, signatory_id FROM batch_signatory_items WHERE batch_id = ? ORDER BY position`, b.ID)
	if err != nil {
		return order.BatchSignatory{}, fmt.Errorf("get batch signatory %s: items: %w", b.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var it order.BatchItem
		if err := rows.Scan(&it.OrderID, &it.SignatoryID); err != nil {
			return order.BatchSignatory{}, fmt.Errorf("get batch signatory %s: items: %w", b.ID, err)
		}
		b.Items = append(b.Items, it)
	}
	if err := rows.Err(); err != nil {
		return order.BatchSignatory{}, fmt.Errorf("get batch signatory %s: items: %w", b.ID, err)
	}
	return b, nil
}
