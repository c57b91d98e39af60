-- Smart-commit patterns per org (kind: jira, azure_boards, github_issue, rally, versionone or
-- custom with its RE2 regex; allowed_projects: a JSON array of project keys). An org without
-- patterns uses the jira built-in. Ids are never reused (AUTOINCREMENT), so (count, max id)
-- changes whenever a pattern is added or removed: caches of compiled sets compare it.
CREATE TABLE smart_commit_patterns (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id           INTEGER NOT NULL REFERENCES orgs(id),
  kind             TEXT NOT NULL,
  regex            TEXT NOT NULL DEFAULT '',
  allowed_projects TEXT NOT NULL DEFAULT '[]',
  created_at_ms    INTEGER NOT NULL,
  created_by       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX smart_commit_patterns_org ON smart_commit_patterns (org_id, id);
