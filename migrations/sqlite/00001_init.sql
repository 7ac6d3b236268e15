-- +goose Up

-- Times are INTEGER microseconds since the Unix epoch (UTC): exact at the precision callers use,
-- and they sort correctly. STRICT tables make SQLite reject a value of the wrong type.
CREATE TABLE applications (
    id          TEXT NOT NULL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    environment TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id             TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    client_id      TEXT NOT NULL UNIQUE,
    secret_hash    BLOB NOT NULL,
    mode           TEXT NOT NULL,
    note           TEXT,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX api_keys_application_idx ON api_keys (application_id, created_at, id);

-- data is the whole aggregate as encoding/json wrote it; the other columns copy the parts that
-- queries filter and sort on.
CREATE TABLE signature_orders (
    id                     TEXT NOT NULL PRIMARY KEY,
    application_id         TEXT NOT NULL,
    status                 TEXT NOT NULL,
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    retain_documents_until INTEGER,
    data                   TEXT NOT NULL
) STRICT;

-- Keyset pagination of an application's orders, newest first.
CREATE INDEX signature_orders_list_idx ON signature_orders (application_id, created_at DESC, id DESC);
-- The sweeper: open orders past their expiry, and documents past their retention.
CREATE INDEX signature_orders_expiry_idx ON signature_orders (status, expires_at);
CREATE INDEX signature_orders_retention_idx ON signature_orders (retain_documents_until)
    WHERE retain_documents_until IS NOT NULL;

-- Secondary keys (signatory id, document id, signatory token hash) leading to their order.
CREATE TABLE order_index (
    kind     TEXT NOT NULL,
    key      TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES signature_orders (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX order_index_order_idx ON order_index (order_id);

-- +goose Down
DROP TABLE order_index;
DROP TABLE signature_orders;
DROP TABLE api_keys;
DROP TABLE applications;
