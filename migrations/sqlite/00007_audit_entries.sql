-- +goose Up

-- The audit trail: every state change and every act of a person on an order, one row per entry,
-- written in the same transaction as the change. The entry is sealed to the order's public audit
-- key by the store (ciphertext is opaque to the database, and no entry is ever stored in clear);
-- seq counts from 1 per order without gaps (the order's row is locked while it is written). Deleted
-- with the order.
CREATE TABLE audit_entries (
    order_id   TEXT NOT NULL REFERENCES signature_orders (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (order_id, seq)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE audit_entries;
