-- The words of a message that left it for a person (the sentence of a Panel response
-- that settled nothing): shown where triage is read, never emailed.
ALTER TABLE triage ADD COLUMN evidence TEXT;
