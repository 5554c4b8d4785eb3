-- Raw message text in a table of its own: updating a message's state, attempts or case
-- no longer rewrites its text (a row is rewritten whole), and retention deletes rows.
CREATE TABLE message_bodies (
    message  INTEGER PRIMARY KEY,
    raw      BLOB    NOT NULL
);
INSERT INTO message_bodies (message, raw) SELECT id, raw FROM messages WHERE raw IS NOT NULL;
UPDATE messages SET raw = NULL WHERE raw IS NOT NULL;
