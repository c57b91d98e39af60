-- Repository registry: display name, HTTP and SSH clone URLs, browse URL, default branch,
-- credentials for private clones (secrets sealed with AES-256-GCM, like webhook secrets), and an
-- update time. Existing rows keep their data: an SSH-form clone URL moves to ssh_clone_url.
ALTER TABLE repositories ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN ssh_clone_url TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN browse_url TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN default_branch TEXT NOT NULL DEFAULT '';
-- 'none', 'http' (username + password or access token) or 'ssh' (key file + optional passphrase).
ALTER TABLE repositories ADD COLUMN credential_type TEXT NOT NULL DEFAULT 'none'
  CHECK (credential_type IN ('none', 'http', 'ssh'));
ALTER TABLE repositories ADD COLUMN credential_username TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN ssh_key_path TEXT NOT NULL DEFAULT '';
-- The HTTP password/token or the SSH key passphrase, sealed with the server key; the
-- additional authenticated data is 'repository-credential:' || credential_id.
ALTER TABLE repositories ADD COLUMN credential_secret_sealed BLOB;
ALTER TABLE repositories ADD COLUMN credential_id TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;

UPDATE repositories SET updated_at_ms = created_at_ms, display_name = slug;
UPDATE repositories SET ssh_clone_url = clone_url, clone_url = ''
  WHERE clone_url LIKE 'ssh://%'
     OR (instr(clone_url, '://') = 0 AND substr(clone_url, 1, 1) <> '/'
         AND instr(clone_url, ':') > 0
         AND (instr(clone_url, '/') = 0 OR instr(clone_url, ':') < instr(clone_url, '/')));
