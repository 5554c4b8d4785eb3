-- Raw message text in a table of its own: updating a message's state, attempts or case
-- no longer rewrites its text, and retention deletes rows.
CREATE TABLE message_bodies (
    message  BIGINT PRIMARY KEY,
    raw      BYTEA  NOT NULL
);
INSERT INTO message_bodies (message, raw) SELECT id, raw FROM messages WHERE raw IS NOT NULL;
UPDATE messages SET raw = NULL WHERE raw IS NOT NULL;
