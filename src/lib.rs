//! cspr keeps the statutory clocks of Child Safeguarding Practice Reviews: it reads
//! the partnership mailbox, ties each message to a case, runs working-day clocks and
//! sends the reminders and escalations the protocol asks for.
//!
//! Layers, imports pointing down only: `cli` → `app` → `jobs` → adapters (`sources`, `store`)
//! and the pure core (`understand`, `domain`); `config` is read by all.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod fault;
pub mod http;
pub mod jobs;
pub mod leader;
pub mod logging;
pub mod notify;
pub mod oauth;
pub mod outbound;
pub mod protocol;
pub mod report;
pub mod sources;
pub mod store;
pub mod understand;
