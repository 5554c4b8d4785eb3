-- Every message that arrives, stored before anything acts on it, and where each
-- mailbox was read up to.
CREATE TABLE messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT    NOT NULL,
    uidvalidity  INTEGER,
    uid          INTEGER,
    message_id   TEXT,
    sha256       TEXT    NOT NULL,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    size         INTEGER NOT NULL,
    raw          BLOB,
    arrived_at   TEXT    NOT NULL,
    stored_at    TEXT    NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'stored' CHECK (state IN ('stored', 'understood', 'processed')),
    kind         TEXT,
    trust        TEXT,
    summary      TEXT
);

CREATE INDEX messages_state ON messages (state, id);

CREATE TABLE checkpoints (
    source       TEXT    PRIMARY KEY,
    uidvalidity  INTEGER NOT NULL,
    last_uid     INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL
);
