-- +goose Up

-- Idempotency-Key: the first request with a key in a scope (an application or a signatory) runs and
-- its answer is kept until expires_at; the same request again gets that answer, another request a
-- clear error. response is NULL while the first still runs; a run older than the lease is taken
-- over (its process died).
CREATE TABLE idempotency_keys (
    scope        text COLLATE "C" NOT NULL,
    key          text COLLATE "C" NOT NULL,
    request_hash bytea NOT NULL,
    response     bytea,
    started_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
