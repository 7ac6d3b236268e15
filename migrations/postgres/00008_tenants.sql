-- +goose Up

-- Tenants and their own credentials. A tenant key's client id starts with "tenant-" (an application
-- key's never does), so authentication looks in one table only; secrets are kept as hashes, as in
-- api_keys.
CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE tenant_keys (
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL REFERENCES tenants (id),
    client_id   text NOT NULL UNIQUE,
    secret_hash bytea NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL
);

CREATE INDEX tenant_keys_tenant_idx ON tenant_keys (tenant_id, created_at, id);

-- NULL for an application made before tenants (the CLI attaches it). The Verify application that
-- createApplication named is kept as given ('' when made by the CLI).
ALTER TABLE applications ADD COLUMN tenant_id text COLLATE "C" REFERENCES tenants (id);
ALTER TABLE applications ADD COLUMN verify_domain text NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN verify_realm text NOT NULL DEFAULT '';

CREATE INDEX applications_tenant_idx ON applications (tenant_id, created_at, id);

-- +goose Down
DROP INDEX applications_tenant_idx;
ALTER TABLE applications DROP COLUMN verify_realm;
ALTER TABLE applications DROP COLUMN verify_domain;
ALTER TABLE applications DROP COLUMN tenant_id;
DROP TABLE tenant_keys;
DROP TABLE tenants;
