-- Processing attempts are counted (and committed) before each attempt, so that a
-- message that crashes or stalls the process is recognised when it comes round again;
-- `failure` says why a message was given up on (it is then held in triage).
ALTER TABLE messages ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN failure TEXT;
-- A message over the size limit is stored as its start only; this is its real size.
ALTER TABLE messages ADD COLUMN truncated_from BIGINT;
-- Retention of messages tied to no case: found by when they were stored.
CREATE INDEX messages_unlinked ON messages (stored_at) WHERE case_reference IS NULL;
