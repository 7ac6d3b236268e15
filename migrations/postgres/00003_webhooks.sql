-- +goose Up

-- The webhook outbox: one row per event, written in the same transaction as the order change that
-- raised it. Workers claim due rows (next_attempt_at) with a lease, so a worker that dies mid-send
-- leaves the row to another once the lease ends; NULL once delivered or given up.
CREATE TABLE webhook_deliveries (
    id              text COLLATE "C" PRIMARY KEY,
    application_id  text COLLATE "C" NOT NULL,
    order_id        text COLLATE "C" NOT NULL,
    event           text NOT NULL,
    url             text NOT NULL,
    secret          bytea,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz
);

CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (order_id);

-- Every attempt, as SignatureOrder.webhook.logs and Application.webhookLogs answer it.
CREATE TABLE webhook_invocations (
    id             text COLLATE "C" PRIMARY KEY,
    delivery_id    text COLLATE "C" NOT NULL,
    application_id text COLLATE "C" NOT NULL,
    order_id       text COLLATE "C" NOT NULL,
    event          text NOT NULL,
    url            text NOT NULL,
    request_body   text NOT NULL,
    response_body  text,
    status_code    integer,
    outcome        text NOT NULL,
    exception      text,
    timeout_ms     integer,
    at             timestamptz NOT NULL,
    retrying_at    timestamptz
);

CREATE INDEX webhook_invocations_application_idx ON webhook_invocations (application_id, at);
CREATE INDEX webhook_invocations_order_idx ON webhook_invocations (order_id, at);

-- +goose Down
DROP TABLE webhook_invocations;
DROP TABLE webhook_deliveries;
