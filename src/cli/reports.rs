//! `cspr deadlines`, `cspr report` and `cspr purge`: what the partnership reads and
//! keeps, from the store.

use std::io::Write;

use chrono::Utc;
use clap::Args;

use super::database::open_store;
use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::london_date;
use crate::report::{annual, deadlines, ics, render_annual, year_figures};

#[derive(Debug, Args)]
pub struct DeadlinesArgs {
    /// How far ahead (overdue ones are always listed).
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// An iCalendar (RFC 5545) feed instead of a list.
    #[arg(long)]
    pub ics: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long, value_name = "YYYY")]
    pub year: i32,
    /// text, csv or html.
    #[arg(long, default_value = "text")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Say what would go, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn failed(e: crate::store::StoreError) -> CliError {
    CliError::Failed(anyhow::Error::new(e))
}

pub async fn deadlines_command(args: &DeadlinesArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let cases: Vec<_> = store.cases(true).await.map_err(failed)?.into_iter().map(|r| r.state).collect();
    store.close().await;
    let now = Utc::now();
    let rows = deadlines(&cases, config, now, args.days);
    let text = if args.ics {
        ics(&rows, config, now)
    } else if args.json {
        format!("{}\n", serde_json::to_string_pretty(&rows).unwrap_or_default())
    } else {
        rows.iter()
            .map(|r| format!("{}  {:<16} {:<3} {:<10} {}\n", r.due, r.case, r.clock, r.status, r.title))
            .collect()
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}

pub async fn report(args: &ReportArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    if !["text", "csv", "html"].contains(&args.format.as_str()) {
        return Err(CliError::Usage(format!("'{}' is not a format (expected text, csv or html)", args.format)));
    }
    let store = open_store(config).await?;
    let cases: Vec<_> = store.cases(false).await.map_err(failed)?.into_iter().map(|r| r.state).collect();
    store.close().await;
    let rows = annual(&cases, config, args.year);
    let figures = year_figures(&cases, args.year);
    out.write_all(render_annual(&rows, &figures, args.year, &args.format).as_bytes()).map_err(write_failed)
}

pub async fn purge(args: &PurgeArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let cutoff = london_date(&Utc::now()) - chrono::Duration::days(i64::from(config.retention_days));
    let (count, bytes) = store.purge_raw(&cutoff.to_string(), !args.dry_run).await.map_err(failed)?;
    let stored_before = Utc::now() - chrono::Duration::days(i64::from(config.unlinked_retention_days));
    let unlinked = store.purge_unlinked(stored_before, !args.dry_run).await.map_err(failed)?;
    store.close().await;
    let verb = if args.dry_run { "would remove" } else { "removed" };
    let text = format!(
        "{verb} the raw text of {count} message(s), {bytes} bytes, of cases closed before {cutoff}; their summaries, audit entries and chronology stay\n\
         {verb} the raw text of {} message(s), {} bytes, tied to no case and stored more than {} days ago\n",
        unlinked.messages, unlinked.bytes, config.unlinked_retention_days
    );
    out.write_all(text.as_bytes()).map_err(write_failed)
}
