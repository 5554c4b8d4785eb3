//! `cspr simulate` and `cspr demo`: the daemon's own steps over a folder of messages
//! with a simulated clock, in a throwaway database, with emails written as files.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::Args;
use secrecy::SecretString;

use super::{CliError, write_failed};
use crate::config::{Config, Sources, Transport, load};
use crate::domain::parse_iso_date;
use crate::jobs::simulate::{Event, load_messages, run};
use crate::store::Store;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The messages: a Maildir (new/, cur/) or a folder of .eml files.
    #[arg(long, value_name = "DIR")]
    pub maildir: PathBuf,
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub from: String,
    /// Inclusive.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub until: String,
    /// Where emails are written (a temporary folder when left out).
    #[arg(long, value_name = "DIR")]
    pub outbox: Option<PathBuf>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(anyhow::anyhow!("{e}"))
}

/// Runs a simulation in `work` (database there), emails into `outbox`.
async fn simulate(
    mut config: Config,
    maildir: &Path,
    from: NaiveDate,
    until: NaiveDate,
    work: &Path,
    outbox: &Path,
) -> Result<Vec<Event>, CliError> {
    config.store_url = format!("sqlite://{}", work.join("simulation.db").display());
    config.outbound.transport = Transport::File(outbox.to_path_buf());
    config.outbound.sent_folder = None;
    let messages = load_messages(maildir).map_err(|e| CliError::Usage(e.to_string()))?;
    let store = Store::open(&config.store_url).await.map_err(failed)?;
    let events = run(&store, &config, messages, from, until).await.map_err(failed)?;
    store.close().await;
    Ok(events)
}

/// One readable line, in London time.
fn line(event: &Event) -> String {
    let when = chrono::DateTime::parse_from_rfc3339(&event.at)
        .map(|t| t.with_timezone(&chrono_tz::Europe::London).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| event.at.clone());
    let mut text = format!("{when}  {:<16} {:<16}", event.case.as_deref().unwrap_or("-"), event.kind);
    if let (Some(clock), None) = (&event.clock, &event.detail) {
        text.push_str(&format!(" {clock}"));
    }
    if let (Some(due), None) = (&event.due, &event.detail) {
        text.push_str(&format!(" due {due}"));
    }
    if let Some(subject) = &event.subject {
        let to = event.to.as_ref().map(|t| t.join(", ")).unwrap_or_default();
        text.push_str(&format!(" → {to}: {subject}"));
    } else if let Some(detail) = &event.detail {
        text.push_str(&format!(" {detail}"));
    }
    text.push('\n');
    text
}

pub async fn simulate_command(args: &SimulateArgs, config: Config, out: &mut dyn Write) -> Result<(), CliError> {
    let from = parse_iso_date(&args.from).map_err(|e| CliError::Usage(e.to_string()))?;
    let until = parse_iso_date(&args.until).map_err(|e| CliError::Usage(e.to_string()))?;
    if until < from {
        return Err(CliError::Usage("--until is before --from".into()));
    }
    let work = tempfile::Builder::new().prefix("cspr-simulation-").tempdir().map_err(failed)?;
    let outbox = args.outbox.clone().unwrap_or_else(|| work.path().join("outbox"));
    let events = simulate(config, &args.maildir, from, until, work.path(), &outbox).await?;
    let text: String = if args.json {
        events.iter().map(|e| format!("{}\n", serde_json::to_string(e).unwrap_or_default())).collect()
    } else {
        events.iter().map(line).collect()
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}

macro_rules! demo_mail {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/mail/", $name)))),*]
    };
}

/// The demo's mailbox: one whole case, and a spoofed notification.
const DEMO_MAIL: &[(&str, &[u8])] = demo_mail!(
    "01-notification.eml",
    "02-spoofed-notification.eml",
    "03-submitted.eml",
    "04-panel-disagrees.eml",
    "05-meeting-held.eml",
    "06-decision.eml",
    "07-notified-orgs.eml",
    "08-delay.eml",
    "09-approve.eml",
    "10-published.eml",
);
const DEMO_CONFIG: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/cspr.toml"));
/// Signs the demo's approval token; a real deployment reads its own from a file.
const DEMO_SECRET: &str = "demo only: never use this secret";

pub async fn demo(out: &mut dyn Write) -> Result<(), CliError> {
    let work = tempfile::Builder::new().prefix("cspr-demo-").tempdir().map_err(failed)?.keep();
    let maildir = work.join("mailbox");
    std::fs::create_dir_all(maildir.join("new")).map_err(failed)?;
    for (name, bytes) in DEMO_MAIL {
        std::fs::write(maildir.join("new").join(name), bytes).map_err(failed)?;
    }
    let config_path = work.join("cspr.toml");
    std::fs::write(&config_path, DEMO_CONFIG).map_err(failed)?;
    let mut config = load(&Sources { file: Some(config_path), env: Vec::new(), credentials_dir: None })
        .map_err(|e| CliError::Failed(anyhow::anyhow!("the demo configuration: {e}")))?;
    config.approvals.token_secret = Some(SecretString::from(DEMO_SECRET));
    let outbox = work.join("outbox");
    let from = parse_iso_date("2026-11-19").map_err(failed)?;
    let until = parse_iso_date("2027-09-30").map_err(failed)?;
    let events = simulate(config, &maildir, from, until, &work, &outbox).await?;
    let mut text = String::from(
        "cspr demo: one case from notification to publication, and a spoofed notification,\n\
         simulated day by day with the real protocol, calendar and templates (London time).\n\n",
    );
    for event in &events {
        text.push_str(&line(event));
    }
    if let Some(digest) = digest_text(&outbox) {
        text.push_str("\nThe SPA's daily digest, as it was written:\n\n");
        for l in digest.lines() {
            text.push_str(&format!("    {l}\n"));
        }
    }
    let emails = std::fs::read_dir(&outbox).map(|d| d.count()).unwrap_or(0);
    text.push_str(&format!(
        "\n{} events; {emails} emails written to {}\ndatabase: {}\nthe demo mailbox: {}\n",
        events.len(),
        outbox.display(),
        work.join("simulation.db").display(),
        maildir.display()
    ));
    out.write_all(text.as_bytes()).map_err(write_failed)
}

/// The subject and text of the first daily digest written to `outbox`.
fn digest_text(outbox: &std::path::Path) -> Option<String> {
    let mut files: Vec<_> = std::fs::read_dir(outbox).ok()?.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    files.iter().find_map(|path| {
        let raw = std::fs::read(path).ok()?;
        let parsed = mail_parser::MessageParser::default().parse(&raw)?;
        let subject = parsed.subject()?.to_owned();
        subject
            .contains("daily digest")
            .then(|| format!("Subject: {subject}\n\n{}", parsed.body_text(0).unwrap_or_default().replace("\r\n", "\n")))
    })
}
