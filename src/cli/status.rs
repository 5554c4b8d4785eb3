//! `cspr status`: what the daemon is doing now, read from its database and its instance
//! lock by another process — whether it runs, the mailbox's state and last sync, the last
//! tick, the outbox by status and the open triage.

use std::io::Write;

use clap::Args;
use serde_json::json;

use super::database::{failed, open_store};
use super::{CliError, write_failed};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn status(args: &StatusArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let noted = store.service_state().await.map_err(failed)?;
    let outbox = store.outbox_counts().await.map_err(failed)?;
    let triage = store.triage(true).await.map_err(failed)?.len();
    store.close().await;
    let running = crate::leader::Leadership::held(&config.store_url).await;
    let note = |key: &str| noted.iter().find(|(k, _, _)| k == key).map(|(_, v, at)| (v.clone(), at.clone()));
    let daemon = match &running {
        Ok(Some(true)) => "running".to_owned(),
        Ok(Some(false)) => "not running".to_owned(),
        Ok(None) => "not running (it never ran on this database)".to_owned(),
        Err(e) => format!("unknown ({e})"),
    };
    let text = if args.json {
        let noted: serde_json::Map<String, serde_json::Value> =
            noted.iter().map(|(k, v, at)| (k.clone(), json!({"value": v, "at": at}))).collect();
        let outbox: serde_json::Map<String, serde_json::Value> =
            outbox.iter().map(|(status, n)| (status.clone(), json!(n))).collect();
        let value = json!({
            "daemon": daemon, "database": crate::store::redact(&config.store_url),
            "state": noted, "outbox": outbox, "triage_open": triage,
        });
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        let mut t = format!("daemon: {daemon}\ndatabase: {}\n", crate::store::redact(&config.store_url));
        if let Some((leads, _)) = note("daemon") {
            t.push_str(&format!("last start: {leads}\n"));
        }
        match note("mailbox") {
            Some((state, at)) => t.push_str(&format!("mailbox: {state} (since {at})\n")),
            None => t.push_str("mailbox: never opened\n"),
        }
        match note("last_sync") {
            Some((_, at)) => t.push_str(&format!("last sync: {at}\n")),
            None => t.push_str("last sync: never\n"),
        }
        match note("last_tick") {
            Some((_, at)) => t.push_str(&format!("last tick: {at}\n")),
            None => t.push_str("last tick: never\n"),
        }
        let counts: Vec<String> = outbox.iter().map(|(status, n)| format!("{status} {n}")).collect();
        t.push_str(&format!("outbox: {}\n", if counts.is_empty() { "empty".to_owned() } else { counts.join(", ") }));
        t.push_str(&format!("triage: {triage} open\n"));
        t
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}
