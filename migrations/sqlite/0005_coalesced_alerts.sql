-- Alerts that coalesce (dedupe keys starting 'coalesce:') count the events they stand for
-- while they wait to be sent.
ALTER TABLE intents ADD COLUMN coalesced BIGINT NOT NULL DEFAULT 1;
