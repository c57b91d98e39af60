-- The worker claims the oldest queued delivery: an index it can use for that query, so a claim
-- costs the same with ten or ten million deliveries in the history.
CREATE INDEX deliveries_queued_seq ON deliveries (seq) WHERE status = 'queued';
