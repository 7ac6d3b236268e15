-- +goose Up

-- The orders whose documents a kept Idempotency-Key answer holds (blob, originalBlob, signatures):
-- the transaction that deletes an order's documents deletes these answers too, so no answer outlives
-- the documents it quotes.
CREATE TABLE idempotency_key_orders (
    scope    TEXT NOT NULL,
    key      TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (scope, key, order_id),
    FOREIGN KEY (scope, key) REFERENCES idempotency_keys (scope, key) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_key_orders_order_idx ON idempotency_key_orders (order_id);

-- Keys are now scoped per API key ("apikey:<client id>") instead of per application, so the kept
-- answers so far can no longer be reached; some of them hold documents deleted since.
DELETE FROM idempotency_keys;

-- +goose Down
DROP TABLE idempotency_key_orders;
