-- The process group of a running command run, so that a restart after a crash can stop a
-- command the previous server process left running before the run is marked interrupted or
-- re-queued. Set when the command starts, cleared (NULL) when the run ends.
ALTER TABLE job_runs ADD COLUMN process_group INTEGER;        -- pgid = pid of the leader
ALTER TABLE job_runs ADD COLUMN process_start_ticks INTEGER;  -- /proc/<pid>/stat field 22
ALTER TABLE job_runs ADD COLUMN process_boot_id TEXT;         -- /proc/sys/kernel/random/boot_id
