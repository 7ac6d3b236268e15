package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"esign/internal/order"
)

// CreateBatchSignatory implements store.Store.
func (d *DB) CreateBatchSignatory(ctx context.Context, b order.BatchSignatory) error {
	var ui []byte
	if b.UI != nil {
		data, err := json.Marshal(b.UI)
		if err != nil {
			return fmt.Errorf("create batch signatory %s: encode ui: %w", b.ID, err)
		}
		ui = data
	}
	positions := make([]int32, len(b.Items))
	orders := make([]string, len(b.Items))
	signatories := make([]string, len(b.Items))
	for i, it := range b.Items {
		positions[i], orders[i], signatories[i] = int32(i), it.OrderID, it.SignatoryID
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx,
			`INSERT INTO batch_signatories (id, application_id, token_hash, trace_id, ui, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			b.ID, b.ApplicationID, b.TokenHash, b.TraceID, ui, b.CreatedAt)
		if err != nil {
			return err
		}
		// One statement whatever the number of items.
		_, err = tx.Exec(ctx,
			`INSERT INTO batch_signatory_items (batch_id, position, order_id, signatory_id)
			 SELECT $1, p, o, s FROM unnest($2::integer[], $3::text[], $4::text[]) AS i (p, o, s)`,
			b.ID, positions, orders, signatories)
		return err
	})
	if err != nil {
		return fmt.Errorf("create batch signatory %s: %w", b.ID, classify(err))
	}
	return nil
}

// GetBatchSignatory implements store.Store.
func (d *DB) GetBatchSignatory(ctx context.Context, id string) (order.BatchSignatory, error) {
	return d.batchSignatory(ctx, `id = $1`, id)
}

// FindBatchSignatoryByTokenHash implements store.Store.
func (d *DB) FindBatchSignatoryByTokenHash(ctx context.Context, tokenHash string) (order.BatchSignatory, error) {
	return d.batchSignatory(ctx, `token_hash = $1`, tokenHash)
}

// batchSignatory reads one batch with its items in one statement, so the items are the batch's
// as committed together.
func (d *DB) batchSignatory(ctx context.Context, where string, arg any) (order.BatchSignatory, error) {
	var b order.BatchSignatory
	var ui []byte
	var orders, signatories []string
	err := d.pool.QueryRow(ctx,
		`SELECT b.id, b.application_id, b.token_hash, b.trace_id, b.ui, b.created_at,
		        coalesce(array_agg(i.order_id ORDER BY i.position) FILTER (WHERE i.batch_id IS NOT NULL), '{}'),
		        coalesce(array_agg(i.signatory_id ORDER BY i.position) FILTER (WHERE i.batch_id IS NOT NULL), '{}')
		 FROM batch_signatories b LEFT JOIN batch_signatory_items i ON i.batch_id = b.id
		 WHERE b.`+where+` GROUP BY b.id`, arg).
		Scan(&b.ID, &b.ApplicationID, &b.TokenHash, &b.TraceID, &ui, &b.CreatedAt, &orders, &signatories)
	if err != nil {
		return order.BatchSignatory{}, fmt.Errorf("get batch signatory: %w", classify(err))
	}
	b.CreatedAt = b.CreatedAt.UTC()
	if ui != nil {
		b.UI = &order.UI{}
		if err := json.Unmarshal(ui, b.UI); err != nil {
			return order.BatchSignatory{}, fmt.Errorf("get batch signatory %s: decode ui: %w", b.ID, err)
		}
	}
	for i := range orders {
		b.Items = append(b.Items, order.BatchItem{OrderID: orders[i], SignatoryID: signatories[i]})
	}
	return b, nil
}
