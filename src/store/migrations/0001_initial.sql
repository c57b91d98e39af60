-- Initial schema: orgs, tokens, repositories, jobs, deliveries, job runs, story links.
CREATE TABLE orgs (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE tokens (
  id               INTEGER PRIMARY KEY,
  org_id           INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  type             TEXT NOT NULL CHECK (type IN ('webhook', 'api')),
  description      TEXT NOT NULL DEFAULT '',
  public_id        TEXT NOT NULL UNIQUE,
  secret_sealed    BLOB,            -- webhook: AES-256-GCM sealed secret
  secret_sha256    BLOB,            -- api: SHA-256 of the secret
  created_at_ms    INTEGER NOT NULL,
  created_by       TEXT NOT NULL DEFAULT '',
  last_used_at_ms  INTEGER,
  expires_at_ms    INTEGER,
  revoked_at_ms    INTEGER,
  UNIQUE (org_id, name)
);

CREATE TABLE repositories (
  id              INTEGER PRIMARY KEY,
  org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  provider        TEXT NOT NULL,
  project_key     TEXT NOT NULL COLLATE NOCASE,
  slug            TEXT NOT NULL COLLATE NOCASE,
  clone_url       TEXT NOT NULL,
  auto_update_alm INTEGER NOT NULL DEFAULT 0,
  created_at_ms   INTEGER NOT NULL,
  UNIQUE (org_id, provider, project_key, slug)
);

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  org_id        INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  branches      TEXT NOT NULL,
  argv_json     TEXT NOT NULL,
  enabled       INTEGER NOT NULL DEFAULT 1,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (repository_id, name)
);

CREATE TABLE deliveries (
  seq             INTEGER PRIMARY KEY,
  delivery_id     TEXT NOT NULL UNIQUE,
  org_id          INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  endpoint        TEXT NOT NULL,
  provider        TEXT NOT NULL,
  event_key       TEXT NOT NULL DEFAULT '',
  external_id     TEXT,
  headers_json    TEXT NOT NULL,
  body            BLOB NOT NULL,
  received_at_ms  INTEGER NOT NULL,
  status          TEXT NOT NULL,
  reason          TEXT NOT NULL DEFAULT '',
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL DEFAULT 0,
  updated_at_ms   INTEGER NOT NULL,
  UNIQUE (org_id, endpoint, external_id)
);
CREATE INDEX deliveries_pending ON deliveries (status, next_attempt_ms) WHERE status IN ('queued', 'processing');
CREATE INDEX deliveries_org ON deliveries (org_id, seq);

CREATE TABLE job_runs (
  id              INTEGER PRIMARY KEY,
  job_id          INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  delivery_id     TEXT NOT NULL,
  ref_id          TEXT NOT NULL,
  branch          TEXT NOT NULL,
  from_hash       TEXT NOT NULL,
  to_hash         TEXT NOT NULL,
  status          TEXT NOT NULL,
  exit_code       INTEGER,
  created_at_ms   INTEGER NOT NULL,
  started_at_ms   INTEGER,
  finished_at_ms  INTEGER,
  output_tail     TEXT NOT NULL DEFAULT '',
  log_path        TEXT NOT NULL DEFAULT '',
  UNIQUE (job_id, delivery_id, ref_id)
);

CREATE TABLE story_links (
  id             INTEGER PRIMARY KEY,
  org_id         INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  story_key      TEXT NOT NULL,
  commit_hash    TEXT NOT NULL,
  author_name    TEXT NOT NULL,
  author_email   TEXT NOT NULL,
  message        TEXT NOT NULL,
  authored_at_ms INTEGER NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  UNIQUE (org_id, story_key, commit_hash)
);

CREATE TABLE story_link_sightings (
  story_link_id INTEGER NOT NULL REFERENCES story_links(id) ON DELETE CASCADE,
  repository_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  branch        TEXT NOT NULL,
  delivery_id   TEXT NOT NULL,
  seen_at_ms    INTEGER NOT NULL,
  UNIQUE (story_link_id, repository_id, branch)
);
