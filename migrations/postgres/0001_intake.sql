-- Every message that arrives, stored before anything acts on it, and where each
-- mailbox was read up to. Times are RFC 3339 UTC text, as on SQLite.
CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT    NOT NULL,
    uidvalidity  BIGINT,
    uid          BIGINT,
    message_id   TEXT,
    sha256       TEXT    NOT NULL,
    dedupe_key   TEXT    NOT NULL UNIQUE,
    size         BIGINT  NOT NULL,
    raw          BYTEA,
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
    uidvalidity  BIGINT  NOT NULL,
    last_uid     BIGINT  NOT NULL,
    updated_at   TEXT    NOT NULL
);
