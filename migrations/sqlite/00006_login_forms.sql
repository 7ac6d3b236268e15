-- +goose Up

-- Document form values a signatory typed on the hosted page before a SIGN-stage login: they cannot
-- travel through the identity provider's redirect, so they wait here, encrypted by the service
-- (data is opaque to the database), until the login's callback takes them once. Deleted with
-- their order, and by the sweeper after expires_at.
CREATE TABLE login_forms (
    id           TEXT NOT NULL PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES signature_orders (id) ON DELETE CASCADE,
    signatory_id TEXT NOT NULL,
    data         BLOB NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX login_forms_order_idx ON login_forms (order_id);
CREATE INDEX login_forms_expiry_idx ON login_forms (expires_at);

-- +goose Down
DROP TABLE login_forms;
