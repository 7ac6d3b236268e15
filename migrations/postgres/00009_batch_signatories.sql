-- +goose Up

-- Batch signatories: one person acting for signatories of several orders of one application
-- (createBatchSignatory). The token is derived from the id by the service and only its SHA-256 is
-- kept (token_hash), as for signatories. Items name their orders by id without a foreign key: an
-- item whose order was purged stays in the batch and is reported as gone, never dropped unseen.
-- ui is the batch page's configuration (order.UI), NULL for the first item's.
CREATE TABLE batch_signatories (
    id             text COLLATE "C" PRIMARY KEY,
    application_id text COLLATE "C" NOT NULL REFERENCES applications (id),
    token_hash     text COLLATE "C" NOT NULL,
    trace_id       text NOT NULL,
    ui             jsonb,
    created_at     timestamptz NOT NULL
);

CREATE UNIQUE INDEX batch_signatories_token_idx ON batch_signatories (token_hash);

CREATE TABLE batch_signatory_items (
    batch_id     text COLLATE "C" NOT NULL REFERENCES batch_signatories (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    order_id     text COLLATE "C" NOT NULL,
    signatory_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (batch_id, position),
    UNIQUE (batch_id, order_id, signatory_id)
);

CREATE INDEX batch_signatory_items_order_idx ON batch_signatory_items (order_id);

-- +goose Down
DROP TABLE batch_signatory_items;
DROP TABLE batch_signatories;
