-- The EgoSecure schema, portable across SQLite and PostgreSQL, and the input of jOOQ's code
-- generator. Instants are epoch milliseconds (UTC) so both databases agree; hashes are hex and
-- binary keys base64 text, so no dialect-specific types are needed. Ids are assigned by the
-- application, so no auto-increment is needed either.

CREATE TABLE tenants (
  id                    VARCHAR(64)  NOT NULL PRIMARY KEY,
  name                  VARCHAR(200) NOT NULL,
  created_at            BIGINT       NOT NULL,
  distributor_key_id    VARCHAR(64),
  poll_interval_seconds INTEGER      NOT NULL,
  poll_jitter_percent   INTEGER      NOT NULL
);
CREATE INDEX tenants_by_distributor ON tenants (distributor_key_id, id);

CREATE TABLE admin_keys (
  id          VARCHAR(64)  NOT NULL PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  key_role    VARCHAR(20)  NOT NULL,
  tenant_id   VARCHAR(64)  REFERENCES tenants (id),
  secret_hash VARCHAR(64)  NOT NULL,
  created_at  BIGINT       NOT NULL
);
CREATE INDEX admin_keys_by_tenant ON admin_keys (tenant_id, id);

CREATE TABLE server_audit (
  seq         BIGINT       NOT NULL PRIMARY KEY,
  occurred_at BIGINT       NOT NULL,
  actor       VARCHAR(200) NOT NULL,
  action_name VARCHAR(100) NOT NULL,
  target      VARCHAR(300) NOT NULL
);

CREATE TABLE policies (
  tenant_id      VARCHAR(64)  NOT NULL REFERENCES tenants (id),
  id             VARCHAR(64)  NOT NULL,
  name           VARCHAR(200) NOT NULL,
  kind           VARCHAR(100) NOT NULL,
  settings       TEXT         NOT NULL,
  targets        TEXT         NOT NULL,
  policy_version BIGINT       NOT NULL,
  updated_at     BIGINT       NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE revisions (
  tenant_id             VARCHAR(64)   NOT NULL REFERENCES tenants (id),
  revision_number       BIGINT        NOT NULL,
  published_at          BIGINT        NOT NULL,
  publish_comment       VARCHAR(1000) NOT NULL,
  actor                 VARCHAR(200)  NOT NULL,
  poll_interval_seconds INTEGER       NOT NULL,
  poll_jitter_percent   INTEGER       NOT NULL,
  policies              TEXT          NOT NULL,
  PRIMARY KEY (tenant_id, revision_number)
);

CREATE TABLE agents (
  tenant_id             VARCHAR(64)  NOT NULL REFERENCES tenants (id),
  id                    VARCHAR(64)  NOT NULL,
  name                  VARCHAR(200) NOT NULL,
  labels                TEXT         NOT NULL,
  group_names           TEXT         NOT NULL,
  published_group_names TEXT         NOT NULL,
  credential_hash       VARCHAR(64)  NOT NULL,
  enrolled_at           BIGINT       NOT NULL,
  last_seen_at          BIGINT,
  applied_revision      BIGINT,
  status_revision       BIGINT,
  status_state          VARCHAR(10),
  status_message        TEXT,
  status_reported_at    BIGINT,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE enrollment_tokens (
  tenant_id   VARCHAR(64) NOT NULL REFERENCES tenants (id),
  id          VARCHAR(64) NOT NULL,
  secret_hash VARCHAR(64) NOT NULL,
  group_names TEXT        NOT NULL,
  created_at  BIGINT      NOT NULL,
  expires_at  BIGINT      NOT NULL,
  max_uses    INTEGER     NOT NULL,
  uses        INTEGER     NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE signing_keys (
  tenant_id          VARCHAR(64) NOT NULL REFERENCES tenants (id),
  key_id             VARCHAR(64) NOT NULL,
  public_key         TEXT        NOT NULL,
  sealed_private_key TEXT        NOT NULL,
  created_at         BIGINT      NOT NULL,
  PRIMARY KEY (tenant_id, key_id)
);

CREATE TABLE tenant_audit (
  tenant_id   VARCHAR(64)  NOT NULL REFERENCES tenants (id),
  seq         BIGINT       NOT NULL,
  occurred_at BIGINT       NOT NULL,
  actor       VARCHAR(200) NOT NULL,
  action_name VARCHAR(100) NOT NULL,
  target      VARCHAR(300) NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
