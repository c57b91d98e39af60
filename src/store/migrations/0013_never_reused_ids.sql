-- Job and run ids are never given twice (AUTOINCREMENT). A run's id names its log file and its
-- workspace, and delivery reasons and the audit log name jobs and runs by id: without this,
-- removing a job whose runs had the highest ids let the next run take the same id, its log file
-- and its workspace. SQLite cannot add AUTOINCREMENT in place, so both tables are rebuilt; the
-- migration runner turns foreign key enforcement off while it runs (dropping `jobs` would
-- otherwise delete every run and header through ON DELETE CASCADE) and checks the keys before
-- it commits. Ids freed before this migration above the highest remaining one can still be
-- given once more.
CREATE TABLE jobs_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id              INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  repository_id       INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name                TEXT NOT NULL,
  branches            TEXT NOT NULL,
  argv_json           TEXT NOT NULL,
  enabled             INTEGER NOT NULL DEFAULT 1,
  created_at_ms       INTEGER NOT NULL,
  events              TEXT NOT NULL DEFAULT 'push',
  tags                TEXT NOT NULL DEFAULT '',
  target_branches     TEXT NOT NULL DEFAULT '',
  source_branches     TEXT NOT NULL DEFAULT '',
  skip_marker         INTEGER NOT NULL DEFAULT 1,
  max_concurrent      INTEGER NOT NULL DEFAULT 1,
  supersede           INTEGER NOT NULL DEFAULT 0,
  requeue_interrupted INTEGER NOT NULL DEFAULT 0,
  action_type         TEXT NOT NULL DEFAULT 'command',
  http_json           TEXT NOT NULL DEFAULT '',
  timeout_ms          INTEGER,
  updated_at_ms       INTEGER NOT NULL DEFAULT 0,
  UNIQUE (repository_id, name)
);
INSERT INTO jobs_new (id, org_id, repository_id, name, branches, argv_json, enabled,
                      created_at_ms, events, tags, target_branches, source_branches, skip_marker,
                      max_concurrent, supersede, requeue_interrupted, action_type, http_json,
                      timeout_ms, updated_at_ms)
  SELECT id, org_id, repository_id, name, branches, argv_json, enabled, created_at_ms, events,
         tags, target_branches, source_branches, skip_marker, max_concurrent, supersede,
         requeue_interrupted, action_type, http_json, timeout_ms, updated_at_ms
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

CREATE TABLE job_runs_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id              INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  delivery_id         TEXT NOT NULL,
  ref_id              TEXT NOT NULL,
  attempt             INTEGER NOT NULL DEFAULT 0,
  event               TEXT NOT NULL DEFAULT 'push',
  branch              TEXT NOT NULL,
  from_hash           TEXT NOT NULL,
  to_hash             TEXT NOT NULL,
  pull_request_id     INTEGER,
  pull_request_title  TEXT NOT NULL DEFAULT '',
  source_branch       TEXT NOT NULL DEFAULT '',
  target_branch       TEXT NOT NULL DEFAULT '',
  status              TEXT NOT NULL,
  status_reason       TEXT NOT NULL DEFAULT '',
  exit_code           INTEGER,
  rerun_of            INTEGER,
  superseded_by       INTEGER,
  cancel_requested    INTEGER NOT NULL DEFAULT 0,
  created_at_ms       INTEGER NOT NULL,
  started_at_ms       INTEGER,
  finished_at_ms      INTEGER,
  output_tail         TEXT NOT NULL DEFAULT '',
  log_path            TEXT NOT NULL DEFAULT '',
  process_group       INTEGER,
  process_start_ticks INTEGER,
  process_boot_id     TEXT,
  UNIQUE (job_id, delivery_id, ref_id, attempt)
);
INSERT INTO job_runs_new (id, job_id, delivery_id, ref_id, attempt, event, branch, from_hash,
                          to_hash, pull_request_id, pull_request_title, source_branch,
                          target_branch, status, status_reason, exit_code, rerun_of,
                          superseded_by, cancel_requested, created_at_ms, started_at_ms,
                          finished_at_ms, output_tail, log_path, process_group,
                          process_start_ticks, process_boot_id)
  SELECT id, job_id, delivery_id, ref_id, attempt, event, branch, from_hash, to_hash,
         pull_request_id, pull_request_title, source_branch, target_branch, status,
         status_reason, exit_code, rerun_of, superseded_by, cancel_requested, created_at_ms,
         started_at_ms, finished_at_ms, output_tail, log_path, process_group,
         process_start_ticks, process_boot_id
  FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_new RENAME TO job_runs;
CREATE INDEX job_runs_active ON job_runs (status, job_id) WHERE status IN ('queued', 'running');
CREATE INDEX job_runs_delivery ON job_runs (delivery_id);
CREATE INDEX job_runs_job ON job_runs (job_id, id);
