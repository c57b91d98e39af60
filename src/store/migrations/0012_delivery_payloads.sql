-- The body and the recorded headers of a delivery move to a table written once, at ingest.
-- SQLite rewrites a whole row, overflow pages included, on every UPDATE: with the body in
-- `deliveries`, claiming a delivery and recording its outcome each wrote the ~4 KB body again.
-- Now they rewrite a row of about 150 bytes. (Version 0007 was reserved for this change and is
-- not used: a database migrated to 0011 would skip a lower version.)
CREATE TABLE delivery_payloads (
  seq          INTEGER PRIMARY KEY,  -- deliveries.seq of the same delivery
  headers_json TEXT NOT NULL,        -- the recorded headers, [[name, value], ...]
  body         BLOB NOT NULL         -- the request body as received, byte for byte
);
INSERT INTO delivery_payloads (seq, headers_json, body)
  SELECT seq, headers_json, body FROM deliveries;
ALTER TABLE deliveries DROP COLUMN headers_json;
ALTER TABLE deliveries DROP COLUMN body;

-- One partial index of the open deliveries instead of two: a claim (queued -> processing) then
-- changes no index key, and the count of pending deliveries and the worker's claim both use it.
DROP INDEX deliveries_pending;
DROP INDEX deliveries_queued_seq;
CREATE INDEX deliveries_open ON deliveries (seq) WHERE status IN ('queued', 'processing');
