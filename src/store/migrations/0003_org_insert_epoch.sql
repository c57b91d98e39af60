-- A new org is a change to credentials too: without this, a cached "no such org" answer for the
-- name outlived the org's creation until the cache entry's TTL (webhooks answered 404
-- unknown_org for up to a minute after `org create`, or after an org was deleted and re-created).
CREATE TRIGGER orgs_epoch_insert AFTER INSERT ON orgs BEGIN
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'token_epoch';
END;
