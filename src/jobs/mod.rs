//! Orchestration, one step at a time: each worker exposes `try_step`, and the loops
//! that drive them live in `app`. Tests drive the steps directly.

pub mod deliver;
pub mod ingest;
pub mod intake;
pub mod reading;
pub mod simulate;
pub mod space;
pub mod tick;
pub mod triage;
