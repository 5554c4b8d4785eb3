-- Cancelling a case's superseded reminders reads only that case's rows.
CREATE INDEX intents_case ON intents (case_reference, status);
