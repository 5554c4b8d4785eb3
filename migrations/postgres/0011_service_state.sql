-- What the daemon is doing, for `cspr status` from another process: the mailbox's state
-- and last sync, the last tick. One row per key, overwritten.
CREATE TABLE service_state (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
