-- +goose Up

-- The webhook outbox: one row per event, written in the same transaction as the order change that
-- raised it. Workers claim due rows (next_attempt_at) with a lease, so a worker that dies mid-send
-- leaves the row to another once the lease ends; NULL once delivered or given up.
CREATE TABLE webhook_deliveries (
    id              TEXT NOT NULL PRIMARY KEY,
    application_id  TEXT NOT NULL,
    order_id        TEXT NOT NULL,
    event           TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret          BLOB,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER
) STRICT;

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (order_id);

-- Every attempt, as SignatureOrder.webhook.logs and Application.webhookLogs answer it.
CREATE TABLE webhook_invocations (
    id             TEXT NOT NULL PRIMARY KEY,
    delivery_id    TEXT NOT NULL,
    application_id TEXT NOT NULL,
    order_id       TEXT NOT NULL,
    event          TEXT NOT NULL,
    url            TEXT NOT NULL,
    request_body   TEXT NOT NULL,
    response_body  TEXT,
    status_code    INTEGER,
    outcome        TEXT NOT NULL,
    exception      TEXT,
    timeout_ms     INTEGER,
    at             INTEGER NOT NULL,
    retrying_at    INTEGER
) STRICT;

CREATE INDEX webhook_invocations_application_idx ON webhook_invocations (application_id, at);
CREATE INDEX webhook_invocations_order_idx ON webhook_invocations (order_id, at);

-- +goose Down
DROP TABLE webhook_invocations;
DROP TABLE webhook_deliveries;
