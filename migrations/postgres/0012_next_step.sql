-- The day of each open case's next scheduled step (a reminder, an escalation, a chased
-- duty or the delay question): the scheduler reads only the cases whose day has come.
-- '0001-01-01' means "changed since the scheduler last looked": looked at by the next
-- tick whatever the day. NULL: nothing will ever fall due (closed cases).
ALTER TABLE cases ADD COLUMN next_step_on TEXT;
UPDATE cases SET next_step_on = '0001-01-01' WHERE closed_at IS NULL;
CREATE INDEX cases_next_step_on ON cases (next_step_on);
-- The open cases, for the digests' list (read from the columns beside the state).
CREATE INDEX cases_open ON cases (reference) WHERE closed_at IS NULL;
