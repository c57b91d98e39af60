-- Jobs: event selection, pull-request branch rules, skip marker, concurrency, supersede,
-- re-queue after a crash, and the action (command or HTTP).
ALTER TABLE jobs ADD COLUMN events TEXT NOT NULL DEFAULT 'push';
ALTER TABLE jobs ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN target_branches TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN source_branches TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN skip_marker INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN supersede INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN requeue_interrupted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN action_type TEXT NOT NULL DEFAULT 'command';
ALTER TABLE jobs ADD COLUMN http_json TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN timeout_ms INTEGER;
ALTER TABLE jobs ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;

-- Job runs: the unique key gains an attempt number (0 = the run the delivery created; re-runs
-- and re-queued interrupted runs take the next number), so that the automatic path still
-- creates at most one run per job x delivery x ref change. SQLite cannot change a table's
-- constraints in place: the table is rebuilt.
CREATE TABLE job_runs_new (
  id                 INTEGER PRIMARY KEY,
  job_id             INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  delivery_id        TEXT NOT NULL,
  ref_id             TEXT NOT NULL,
  attempt            INTEGER NOT NULL DEFAULT 0,
  event              TEXT NOT NULL DEFAULT 'push',
  branch             TEXT NOT NULL,
  from_hash          TEXT NOT NULL,
  to_hash            TEXT NOT NULL,
  pull_request_id    INTEGER,
  pull_request_title TEXT NOT NULL DEFAULT '',
  source_branch      TEXT NOT NULL DEFAULT '',
  target_branch      TEXT NOT NULL DEFAULT '',
  status             TEXT NOT NULL,
  status_reason      TEXT NOT NULL DEFAULT '',
  exit_code          INTEGER,
  rerun_of           INTEGER,
  superseded_by      INTEGER,
  cancel_requested   INTEGER NOT NULL DEFAULT 0,
  created_at_ms      INTEGER NOT NULL,
  started_at_ms      INTEGER,
  finished_at_ms     INTEGER,
  output_tail        TEXT NOT NULL DEFAULT '',
  log_path           TEXT NOT NULL DEFAULT '',
  UNIQUE (job_id, delivery_id, ref_id, attempt)
);
INSERT INTO job_runs_new (id, job_id, delivery_id, ref_id, branch, from_hash, to_hash, status,
                          exit_code, created_at_ms, started_at_ms, finished_at_ms, output_tail,
                          log_path)
  SELECT id, job_id, delivery_id, ref_id, branch, from_hash, to_hash, status, exit_code,
         created_at_ms, started_at_ms, finished_at_ms, output_tail, log_path FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_new RENAME TO job_runs;
CREATE INDEX job_runs_active ON job_runs (status, job_id) WHERE status IN ('queued', 'running');
CREATE INDEX job_runs_delivery ON job_runs (delivery_id);
CREATE INDEX job_runs_job ON job_runs (job_id, id);

-- Headers of HTTP actions: values may carry CI credentials, stored sealed (AES-256-GCM).
CREATE TABLE job_http_headers (
  job_id       INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  position     INTEGER NOT NULL,
  name         TEXT NOT NULL,
  value_sealed BLOB NOT NULL,
  PRIMARY KEY (job_id, position)
);
