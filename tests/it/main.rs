//! The integration tests: one binary, one module per capability.

mod approvals;
mod calendar_cli;
mod clocks;
mod config;
mod corpora;
mod crash;
mod databases;
mod delivery_faults;
mod faults;
mod ha;
mod hostile;
mod inspect;
mod intake;
mod leak;
mod mailstack;
mod oauth;
mod operate;
mod outbound;
mod properties;
mod reports;
mod scenarios;
mod simulate;
mod store_contract;
mod support;
mod templates;
mod token_server;
