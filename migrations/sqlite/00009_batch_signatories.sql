-- +goose Up

-- Batch signatories: one person acting for signatories of several orders of one application
-- (createBatchSignatory). The token is derived from the id by the service and only its SHA-256 is
-- kept (token_hash), as for signatories. Items name their orders by id without a foreign key: an
-- item whose order was purged stays in the batch and is reported as gone, never dropped unseen.
-- ui is the batch page's configuration as JSON (order.UI), NULL for the first item's.
CREATE TABLE batch_signatories (
    id             TEXT NOT NULL PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id),
    token_hash     TEXT NOT NULL,
    trace_id       TEXT NOT NULL,
    ui             TEXT,
    created_at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE UNIQUE INDEX batch_signatories_token_idx ON batch_signatories (token_hash);

CREATE TABLE batch_signatory_items (
    batch_id     TEXT NOT NULL REFERENCES batch_signatories (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    order_id     TEXT NOT NULL,
    signatory_id TEXT NOT NULL,
    PRIMARY KEY (batch_id, position),
    UNIQUE (batch_id, order_id, signatory_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX batch_signatory_items_order_idx ON batch_signatory_items (order_id);

-- +goose Down
DROP TABLE batch_signatory_items;
DROP TABLE batch_signatories;
