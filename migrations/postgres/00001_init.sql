-- +goose Up

-- Ids are compared byte-wise (COLLATE "C") so that ordering by id, used to break ties between rows
-- created in the same microsecond, is the same on every server whatever its default collation.
CREATE TABLE applications (
    id          text COLLATE "C" PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    environment text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id             text COLLATE "C" PRIMARY KEY,
    application_id text COLLATE "C" NOT NULL REFERENCES applications (id),
    client_id      text NOT NULL UNIQUE,
    secret_hash    bytea NOT NULL,
    mode           text NOT NULL,
    note           text,
    created_at     timestamptz NOT NULL
);

CREATE INDEX api_keys_application_idx ON api_keys (application_id, created_at, id);

-- data is the whole aggregate as encoding/json wrote it; the other columns copy the parts that
-- queries filter and sort on. json rather than jsonb: nothing queries inside it, and json keeps the
-- text exactly (jsonb would reject a \u0000 that a caller's string may legitimately contain).
CREATE TABLE signature_orders (
    id                     text COLLATE "C" PRIMARY KEY,
    application_id         text COLLATE "C" NOT NULL,
    status                 text NOT NULL,
    created_at             timestamptz NOT NULL,
    expires_at             timestamptz NOT NULL,
    retain_documents_until timestamptz,
    data                   json NOT NULL
);

-- Keyset pagination of an application's orders, newest first.
CREATE INDEX signature_orders_list_idx ON signature_orders (application_id, created_at DESC, id DESC);
-- The sweeper: open orders past their expiry, and documents past their retention.
CREATE INDEX signature_orders_expiry_idx ON signature_orders (status, expires_at);
CREATE INDEX signature_orders_retention_idx ON signature_orders (retain_documents_until)
    WHERE retain_documents_until IS NOT NULL;

-- Secondary keys (signatory id, document id, signatory token hash) leading to their order.
CREATE TABLE order_index (
    kind     text NOT NULL,
    key      text NOT NULL,
    order_id text COLLATE "C" NOT NULL REFERENCES signature_orders (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, key)
);

CREATE INDEX order_index_order_idx ON order_index (order_id);

-- +goose Down
DROP TABLE order_index;
DROP TABLE signature_orders;
DROP TABLE api_keys;
DROP TABLE applications;
