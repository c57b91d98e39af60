-- Story views and commit discovery: a sighting (story link × repository × branch) records whether
-- the commit is still reachable from that branch (a force push or a branch deletion takes it
-- away, a later push can bring it back); indexes for the story, commit and branch lookups.
ALTER TABLE story_link_sightings ADD COLUMN reachable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE story_link_sightings ADD COLUMN removed_at_ms INTEGER;
ALTER TABLE story_link_sightings ADD COLUMN removed_delivery_id TEXT;

CREATE INDEX story_links_by_time ON story_links (org_id, story_key, authored_at_ms DESC, id DESC);
CREATE INDEX story_links_by_commit ON story_links (org_id, commit_hash);
CREATE INDEX story_link_sightings_by_branch ON story_link_sightings (repository_id, branch);
