//! `cspr clocks`: the clock table in force, as text or JSON, optionally with the due
//! dates of clocks started on a given day.

use std::io::Write;

use clap::Args;
use serde_json::json;

use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::clock::due_date;
use crate::domain::{ClockDef, DueRule, parse_iso_date};

#[derive(Debug, Args)]
pub struct ClocksArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also show each clock's due date if it started (or is anchored) on this date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub start: Option<String>,
}

fn steps(def: &ClockDef) -> (String, String) {
    let join = |steps: &[crate::domain::Step]| {
        let parts: Vec<String> = steps.iter().map(ToString::to_string).collect();
        if parts.is_empty() { "-".to_owned() } else { parts.join(", ") }
    };
    (join(&def.reminders), join(&def.escalations))
}

fn due_json(rule: &DueRule) -> serde_json::Value {
    match rule {
        DueRule::WorkingDaysAfter(n) => json!({"kind": "working_days_after", "n": n}),
        DueRule::WorkingDaysBefore(n) => json!({"kind": "working_days_before", "n": n}),
        DueRule::CalendarMonths(n) => json!({"kind": "calendar_months", "n": n}),
        DueRule::NextScheduled(s) => json!({"kind": "next_scheduled", "schedule": s.as_str()}),
    }
}

pub fn run(args: &ClocksArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let start = args.start.as_deref().map(parse_iso_date).transpose().map_err(|e| CliError::Usage(e.to_string()))?;
    let due_for = |def: &ClockDef| start.and_then(|s| due_date(def, s, &config.calendar).ok());
    let text = if args.json {
        let rows: Vec<serde_json::Value> = config
            .clocks
            .iter()
            .map(|def| {
                json!({
                    "clock": def.id.as_str(),
                    "title": def.title,
                    "protocol": def.protocol,
                    "owner": def.owner,
                    "enabled": def.enabled,
                    "start": def.start.key(),
                    "due": due_json(&def.due),
                    "amber_within": def.amber_within,
                    "reminders": def.reminders,
                    "escalations": def.escalations,
                    "completed_by": def.completed_by,
                    "sending_window": def.sending_window.to_string(),
                    "due_if_started": due_for(def).map(|d| d.to_string()),
                })
            })
            .collect();
        format!("{}\n", serde_json::to_string_pretty(&rows).map_err(anyhow::Error::from)?)
    } else {
        let mut text = String::new();
        for def in &config.clocks {
            let (reminders, escalations) = steps(def);
            text.push_str(&format!(
                "{}  {} (protocol {}){}\n",
                def.id,
                def.title,
                def.protocol,
                if def.enabled { "" } else { " [disabled]" }
            ));
            text.push_str(&format!("    due          {} {}\n", def.due, def.start.key()));
            if let Some(due) = due_for(def) {
                text.push_str(&format!(
                    "    if started   {} → due {due}\n",
                    start.map(|s| s.to_string()).unwrap_or_default()
                ));
            }
            text.push_str(&format!("    reminders    {reminders}\n    escalations  {escalations}\n"));
            let completed = if def.completed_by.is_empty() {
                "- (recorded on arrival)".to_owned()
            } else {
                def.completed_by.join(" or ")
            };
            text.push_str(&format!("    completed by {completed}\n    window       {}\n", def.sending_window));
        }
        text
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}
