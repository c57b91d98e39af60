-- ALM connections (Jira, outbound webhook), the Jira project keys each one lists, and the
-- write-back outbox: one entry per connection × story × commit × action × ordinal.
CREATE TABLE alm_connections (
  id                          INTEGER PRIMARY KEY,
  org_id                      INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  public_id                   TEXT NOT NULL UNIQUE,
  name                        TEXT NOT NULL,
  type                        TEXT NOT NULL CHECK (type IN ('jira', 'webhook')),
  url                         TEXT NOT NULL,
  jira_deployment             TEXT NOT NULL DEFAULT '',  -- 'cloud' or 'data_center' (jira)
  jira_email                  TEXT NOT NULL DEFAULT '',  -- Cloud: the account of the API token
  secret_sealed               BLOB,  -- AES-256-GCM: API token, PAT or webhook signing secret
  add_remote_link             INTEGER NOT NULL DEFAULT 1,
  add_comment                 INTEGER NOT NULL DEFAULT 0,
  run_commands                INTEGER NOT NULL DEFAULT 1,
  max_commit_age_ms           INTEGER NOT NULL,
  enabled                     INTEGER NOT NULL DEFAULT 1,
  project_keys_refreshed_at_ms INTEGER,
  project_keys_error          TEXT NOT NULL DEFAULT '',
  created_at_ms               INTEGER NOT NULL,
  updated_at_ms               INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

CREATE TABLE alm_project_keys (
  connection_id INTEGER NOT NULL REFERENCES alm_connections(id) ON DELETE CASCADE,
  project_key   TEXT NOT NULL,
  PRIMARY KEY (connection_id, project_key)
);

CREATE TABLE alm_outbox (
  id              INTEGER PRIMARY KEY,
  org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  connection_id   INTEGER NOT NULL REFERENCES alm_connections(id) ON DELETE CASCADE,
  repository_id   INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  story_key       TEXT NOT NULL,
  commit_hash     TEXT NOT NULL,
  action          TEXT NOT NULL
                  CHECK (action IN ('remote_link', 'comment', 'worklog', 'transition', 'webhook')),
  ordinal         INTEGER NOT NULL DEFAULT 0,
  payload_json    TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  delivery_id     TEXT NOT NULL DEFAULT '',
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL,
  sent_at_ms      INTEGER,
  UNIQUE (connection_id, story_key, commit_hash, action, ordinal)
);
CREATE INDEX alm_outbox_due ON alm_outbox (status, next_attempt_ms, id);
CREATE INDEX alm_outbox_org ON alm_outbox (org_id, status, id);
