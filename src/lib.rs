//! cspr keeps the statutory clocks of Child Safeguarding Practice Reviews: it reads
//! the partnership mailbox, ties each message to a case, runs working-day clocks and
//! sends the reminders and escalations the protocol asks for.
//!
//! Layers, imports pointing down only: `cli` → `app` → `jobs` → adapters (`sources`,
//! `store`, `outbound`, `imap`, `readers`) → the pure core (`protocol`, `understand`,
//! `domain`). The core never reads configuration: `config` builds its narrow inputs
//! (`understand::Rules`, `protocol::Rules`, `domain::Directory`) once. Adapters never
//! call each other: a source hands what it reads to a `sources::Sink` that a job provides.

pub mod app;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod domain;
pub mod fault;
pub mod http;
pub mod imap;
pub mod jobs;
pub mod leader;
pub mod logging;
pub mod notify;
pub mod oauth;
pub mod outbound;
pub mod protocol;
pub mod readers;
pub mod report;
pub mod sources;
pub mod store;
pub mod tls_mode;
pub mod understand;
pub mod wording;
