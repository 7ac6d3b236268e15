-- +goose Up

-- When the sweeper next has work on an order (order.SignatureOrder.SweepAt), NULL when never. Rows
-- written before this column get a time that is due at once when they might have work, so the
-- first sweep sets the exact value.
ALTER TABLE signature_orders ADD COLUMN sweep_at INTEGER;
UPDATE signature_orders SET sweep_at = CASE
    WHEN status = 'OPEN' THEN expires_at
    WHEN retain_documents_until IS NOT NULL THEN retain_documents_until
    ELSE created_at END;
CREATE INDEX signature_orders_sweep_idx ON signature_orders (sweep_at) WHERE sweep_at IS NOT NULL;

-- When the order had ended and lost its documents (order.SignatureOrder.RetiredAt): the metadata
-- purge deletes orders retired long ago. Rows written before this column get it when the first
-- sweep saves them (every such row is due at once, above).
ALTER TABLE signature_orders ADD COLUMN retired_at INTEGER;
CREATE INDEX signature_orders_retired_idx ON signature_orders (retired_at) WHERE retired_at IS NOT NULL;
DROP INDEX signature_orders_expiry_idx;
DROP INDEX signature_orders_retention_idx;

-- +goose Down
CREATE INDEX signature_orders_expiry_idx ON signature_orders (status, expires_at);
CREATE INDEX signature_orders_retention_idx ON signature_orders (retain_documents_until)
    WHERE retain_documents_until IS NOT NULL;
DROP INDEX signature_orders_retired_idx;
ALTER TABLE signature_orders DROP COLUMN retired_at;
DROP INDEX signature_orders_sweep_idx;
ALTER TABLE signature_orders DROP COLUMN sweep_at;
