//! `cspr outbox [--status S] [--json]` and `cspr outbox retry ID`: the outgoing mail,
//! dead letters included, and putting a dead letter back in the queue.

use std::io::Write;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::database::open_store;
use super::{CliError, write_failed};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub action: Option<OutboxAction>,
    /// Only rows with this status: pending, sending, sent, dead or cancelled.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Puts a dead letter back in the queue.
    Retry { id: i64 },
}

const STATUSES: [&str; 5] = ["pending", "sending", "sent", "dead", "cancelled"];

pub async fn run(args: &OutboxArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    if let Some(status) = &args.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(CliError::Usage(format!("'{status}' is not a status (expected {})", STATUSES.join(", "))));
    }
    let store = open_store(config).await?;
    let failed = |e: crate::store::StoreError| CliError::Failed(anyhow::Error::new(e));
    let text = match &args.action {
        Some(OutboxAction::Retry { id }) => {
            if store.retry_email(*id).await.map_err(failed)? {
                format!("email {id} queued again\n")
            } else {
                store.close().await;
                return Err(CliError::Usage(format!("email {id} is not a dead letter")));
            }
        }
        None => {
            let rows = store.outbox(args.status.as_deref()).await.map_err(failed)?;
            if args.json {
                let list: Vec<Value> = rows
                    .iter()
                    .map(|r| {
                        json!({"id": r.id, "case": r.case_reference, "purpose": r.purpose.as_str(), "template": r.template,
                               "to": r.recipients, "status": r.status, "attempts": r.attempts, "message_id": r.message_id,
                               "next_attempt_at": r.next_attempt_at, "last_error": r.last_error,
                               "created_at": r.created_at, "sent_at": r.sent_at})
                    })
                    .collect();
                format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
            } else {
                let mut t = format!(
                    "{:>5}  {:<9} {:<16} {:<26} {:<32} {:<30} {}\n",
                    "id", "status", "case", "template", "to", "when", "last error"
                );
                for r in &rows {
                    t.push_str(&format!(
                        "{:>5}  {:<9} {:<16} {:<26} {:<32} {:<30} {}\n",
                        r.id,
                        r.status,
                        r.case_reference.as_deref().unwrap_or("-"),
                        r.template,
                        super::listing::recipients(&r.recipients),
                        super::listing::when(r),
                        r.last_error.as_deref().unwrap_or("")
                    ));
                }
                t
            }
        }
    };
    store.close().await;
    out.write_all(text.as_bytes()).map_err(write_failed)
}
