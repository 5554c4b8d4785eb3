-- Cases, their chronology, clock instances, outbound intents and triage. Times are
-- RFC 3339 UTC text and dates ISO text, the same on SQLite and PostgreSQL.
CREATE TABLE case_counters (
    year         BIGINT  PRIMARY KEY,
    last_number  BIGINT  NOT NULL
);

CREATE TABLE cases (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    reference        TEXT    NOT NULL UNIQUE,
    kind             TEXT    NOT NULL,
    stage            TEXT    NOT NULL,
    opened_at        TEXT    NOT NULL,
    closed_at        TEXT,
    panel_reference  TEXT,
    la_reference     TEXT,
    next_clock       TEXT,
    next_due         TEXT,
    state            TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX cases_panel_reference ON cases (panel_reference);
CREATE INDEX cases_la_reference ON cases (la_reference);

-- Append-only: rows are never updated or deleted.
CREATE TABLE audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_reference  TEXT    NOT NULL,
    at              TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    clock           TEXT,
    actor           TEXT,
    message         BIGINT,
    detail          TEXT    NOT NULL
);
CREATE INDEX audit_case ON audit (case_reference, id);

CREATE TABLE clocks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_reference  TEXT    NOT NULL,
    clock           TEXT    NOT NULL,
    started_on      TEXT    NOT NULL,
    due_on          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    closed_on       TEXT
);
CREATE INDEX clocks_case ON clocks (case_reference);
CREATE INDEX clocks_open ON clocks (status, due_on);

CREATE TABLE intents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_reference  TEXT,
    message         BIGINT,
    purpose         TEXT    NOT NULL,
    recipients      TEXT    NOT NULL,
    template        TEXT    NOT NULL,
    facts           TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    urgent          BIGINT  NOT NULL,
    created_at      TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
);

CREATE TABLE triage (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message         BIGINT  NOT NULL,
    reason          TEXT    NOT NULL,
    candidates      TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    resolved_at     TEXT,
    resolution      TEXT
);

ALTER TABLE messages ADD COLUMN case_reference TEXT;
CREATE INDEX messages_message_id ON messages (message_id);
