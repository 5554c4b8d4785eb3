//! What an operator sees of stored messages and emails: `cspr message ID` (a message's
//! headers and what was understood, never its body), and the lines that `triage`,
//! `outbox` and `case` print for a message or an email.

use std::io::Write;

use clap::Args;

use super::database::{failed, open_store};
use super::{CliError, write_failed};
use crate::config::Config;
use crate::protocol::Recipient;
use crate::store::{MessageInfo, OutboxRow};

#[derive(Debug, Args)]
pub struct MessageArgs {
    /// The stored message's number (as `cspr triage` and `cspr case` show it).
    pub id: i64,
    #[arg(long)]
    pub json: bool,
}

/// Who an email went (or goes) to: roles by their key, addresses as written.
pub fn recipients(to: &[Recipient]) -> String {
    to.iter()
        .map(|r| match r {
            Recipient::Role(role) => role.key().to_owned(),
            Recipient::Address(address) => address.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// When an email went, or when it may go.
pub fn when(row: &OutboxRow) -> String {
    match (&row.sent_at, &row.next_attempt_at) {
        (Some(sent), _) => format!("sent {sent}"),
        (None, Some(next)) if row.status == "pending" => format!("not before {next}"),
        _ => format!("queued {}", row.created_at),
    }
}

/// A held message as `cspr triage` shows it: when it came, who from, its subject.
pub fn about(info: &MessageInfo) -> String {
    let field = |path: &[&str]| {
        let mut value = info.summary.as_ref();
        for key in path {
            value = value.and_then(|v| v.get(key));
        }
        value.and_then(|v| v.as_str()).map(str::to_owned)
    };
    let from = field(&["from", "address"]).unwrap_or_else(|| "no sender".into());
    let subject = field(&["subject"]).unwrap_or_else(|| "no subject".into());
    format!("{}  from {from}  \"{subject}\"", info.arrived_at)
}

pub async fn message(args: &MessageArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let info = store.message_info(args.id).await.map_err(failed)?;
    let raw = store.message_raw(args.id).await.map_err(failed)?;
    store.close().await;
    let info = info.ok_or_else(|| CliError::Usage(format!("no stored message {}", args.id)))?;
    // The headers only: everything before the first empty line.
    let headers: Vec<(String, String)> = raw
        .as_ref()
        .and_then(|(raw, _)| mail_parser::MessageParser::default().parse_headers(raw))
        .map(|m| {
            m.headers()
                .iter()
                .map(|h| (h.name().to_owned(), m.header_raw(h.name()).unwrap_or_default().trim().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let text = if args.json {
        let value = serde_json::json!({
            "id": info.id, "source": info.source, "arrived_at": info.arrived_at, "state": info.state,
            "kind": info.kind, "trust": info.trust, "case": info.case_reference, "failure": info.failure,
            "headers": headers.iter().map(|(n, v)| serde_json::json!({"name": n, "value": v})).collect::<Vec<_>>(),
            "understood": info.summary,
        });
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        let mut t = format!(
            "message {}  {}  from {}\nstate: {}  kind: {}  trust: {}  case: {}\n",
            info.id,
            info.arrived_at,
            info.source,
            info.state,
            info.kind.as_deref().unwrap_or("-"),
            info.trust.as_deref().unwrap_or("-"),
            info.case_reference.as_deref().unwrap_or("-")
        );
        if let Some(failure) = &info.failure {
            t.push_str(&format!("given up on: {failure}\n"));
        }
        t.push_str("\nheaders\n");
        for (name, value) in &headers {
            t.push_str(&format!("  {name}: {}\n", value.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        if let Some(summary) = &info.summary {
            t.push_str(&format!("\nunderstood\n{}\n", serde_json::to_string_pretty(summary).unwrap_or_default()));
        }
        t
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}
