-- Admin API: token rotation, soft-deleted orgs, server admin tokens, audit log, token epoch.
ALTER TABLE tokens ADD COLUMN previous_secret_sealed BLOB;
ALTER TABLE tokens ADD COLUMN previous_secret_sha256 BLOB;
ALTER TABLE tokens ADD COLUMN previous_valid_until_ms INTEGER;
ALTER TABLE tokens ADD COLUMN rotated_at_ms INTEGER;
ALTER TABLE orgs ADD COLUMN deleted_at_ms INTEGER;

CREATE TABLE admin_tokens (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  public_id       TEXT NOT NULL UNIQUE,
  secret_sha256   BLOB NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  created_by      TEXT NOT NULL DEFAULT '',
  last_used_at_ms INTEGER,
  expires_at_ms   INTEGER,
  revoked_at_ms   INTEGER
);

CREATE TABLE audit_events (
  id             INTEGER PRIMARY KEY,
  org_id         INTEGER REFERENCES orgs(id),
  actor          TEXT NOT NULL,
  action         TEXT NOT NULL,
  target         TEXT NOT NULL DEFAULT '',
  detail         TEXT NOT NULL DEFAULT '',
  remote_address TEXT NOT NULL DEFAULT '',
  created_at_ms  INTEGER NOT NULL
);
CREATE INDEX audit_events_org ON audit_events (org_id, id);

-- Bumped on every change to tokens or orgs, so that caches of credentials notice at once.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('token_epoch', '0');
CREATE TRIGGER tokens_epoch_insert AFTER INSERT ON tokens BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
CREATE TRIGGER tokens_epoch_update AFTER UPDATE OF revoked_at_ms, expires_at_ms, secret_sealed,
    secret_sha256, previous_secret_sealed, previous_secret_sha256, previous_valid_until_ms
    ON tokens BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
CREATE TRIGGER tokens_epoch_delete AFTER DELETE ON tokens BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
CREATE TRIGGER orgs_epoch_update AFTER UPDATE ON orgs BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
CREATE TRIGGER admin_tokens_epoch_update AFTER UPDATE OF revoked_at_ms, expires_at_ms
    ON admin_tokens BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
