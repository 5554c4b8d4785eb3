//! `cspr inspect FILE.eml`: what the pipeline understood of one message, as JSON or a
//! readable summary. Reads the one file; never prints a message body.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::message::Understood;
use crate::understand::{Budget, to_json, understand_within};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The message file (RFC 5322, as stored in a Maildir or saved from a client).
    #[arg(value_name = "FILE.eml")]
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &InspectArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let raw =
        std::fs::read(&args.file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", args.file.display())))?;
    let understood = understand_within(&raw, &config.understanding(), &Budget::unlimited(), &crate::readers::Threaded)
        .unwrap_or_else(|overrun| Understood::empty(vec![overrun.to_string()]));
    let text = if args.json {
        format!("{}\n", serde_json::to_string_pretty(&to_json(&understood)).map_err(anyhow::Error::from)?)
    } else {
        let mut t = String::new();
        let from = understood.from.address.as_deref().unwrap_or("(none)");
        t.push_str(&format!(
            "kind      {}\ntrust     {}\nfrom      {from}\n",
            understood.kind.as_str(),
            understood.trust.as_str()
        ));
        t.push_str(&format!(
            "date      {}\n",
            understood.date.map(|d| d.to_rfc3339()).unwrap_or_else(|| "(none)".into())
        ));
        t.push_str(&format!("subject   {}\n", understood.subject.as_deref().unwrap_or("(none)")));
        if let Some(f) = &understood.forwarded {
            t.push_str(&format!(
                "forwarded from {}\n",
                f.from.address.as_deref().or(f.from.name.as_deref()).unwrap_or("(unknown)")
            ));
        }
        if let Some(n) = &understood.notification {
            let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
            t.push_str(&format!(
                "notification  {} · aware {} · notified {} · panel ref {}\n",
                n.local_authority.as_deref().unwrap_or("?"),
                date(n.aware_date),
                date(n.notified_date),
                n.panel_reference.as_deref().unwrap_or("?")
            ));
            if !n.provisional.is_empty() {
                t.push_str(&format!("provisional {} (year or week inferred)\n", n.provisional.join(", ")));
            }
        }
        if !understood.case_refs.is_empty() {
            t.push_str(&format!("cases     {}\n", understood.case_refs.join(", ")));
        }
        for problem in &understood.problems {
            t.push_str(&format!("problem   {problem}\n"));
        }
        t
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}
