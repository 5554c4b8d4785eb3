//! `cspr open …`: a case opened by hand at the host, exactly as the `OPEN` command opens
//! one by email — the same words, the same decision, the same emails to staff — in the
//! name of the person running it.

use std::io::Write;

use chrono::{Datelike, Utc};
use clap::Args;
use serde_json::json;

use super::database::{failed, open_store, operator};
use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::command::Command;
use crate::domain::facts::read_facts;
use crate::domain::format_long;
use crate::domain::london_date;
use crate::domain::message::{CommandLine, Kind, Trust, Understood};
use crate::protocol::{Context, Incoming, open_at_console};

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// `NOTIFICATION|CONSIDERATION <authority> [aware DATE] [notified DATE] [ref REF]
    /// [type TYPE]`, as the OPEN line of an email.
    #[arg(required = true, num_args = 1.., value_name = "WORDS")]
    pub words: Vec<String>,
    /// Who opens it, recorded as the actor in the case's chronology (default: the login
    /// name running the command).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub async fn open(args: &OpenArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let line = args.words.join(" ");
    read_facts(&line, true).map_err(|reason| CliError::Usage(format!("cannot open a case: {reason}")))?;
    let now = Utc::now();
    let store = open_store(config).await?;
    let year = london_date(&now).year();
    let reference = store.next_reference(&config.cases.prefix, year, config.cases.digits).await.map_err(failed)?;
    let understood = Understood {
        kind: Kind::StaffCommand,
        trust: Trust::Trusted,
        date: Some(now),
        command: Some(CommandLine { command: Command::Open, rest: line }),
        ..Understood::empty(Vec::new())
    };
    let incoming =
        Incoming { stored_id: 0, understood: &understood, arrived_at: now, cause: Some(format!("open:{reference}")) };
    let by = operator(args.by.as_deref(), "cspr open");
    let ctx = Context { now, rules: config.protocol_rules(), released_by: Some(by) };
    let outcome = open_at_console(reference.clone(), &incoming, &ctx);
    let Some(case) = outcome.case.as_ref() else {
        return Err(CliError::Usage("the case could not be opened".into()));
    };
    store.commit_opened(&outcome, year, now).await.map_err(failed)?;
    store.close().await;
    let running: Vec<_> = case.clocks.iter().filter(|c| c.is_running()).collect();
    let text = if args.json {
        let clocks: Vec<_> = running
            .iter()
            .map(|c| json!({"clock": c.clock.to_string(), "started": c.started.to_string(), "due": c.due_in_force().to_string()}))
            .collect();
        format!("{}\n", json!({"case": reference.to_string(), "clocks": clocks}))
    } else {
        let mut text = format!("opened {reference}\n");
        for c in running {
            text.push_str(&format!("  {} due {}\n", c.clock, format_long(c.due_in_force())));
        }
        text
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}
