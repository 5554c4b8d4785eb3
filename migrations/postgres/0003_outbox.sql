-- The outbox: each intent is one email, delivered at least once and at most once
-- more (then with the same Message-ID).
ALTER TABLE intents ADD COLUMN message_id TEXT;
ALTER TABLE intents ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE intents ADD COLUMN next_attempt_at TEXT;
ALTER TABLE intents ADD COLUMN last_error TEXT;
ALTER TABLE intents ADD COLUMN sent_at TEXT;
CREATE INDEX intents_due ON intents (status, next_attempt_at);
