//! `cspr cases`, `cspr case REF`, `cspr triage [resolve …]` and `cspr migrate`: what an
//! operator reads and does with the store. Never prints a child's details.

use std::io::Write;

use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::database::{create_store, failed, open_store, operator};
use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::case::{CaseRef, CaseState, ClockStatus};
use crate::domain::clock::{DeadlineStatus, deadline};
use crate::jobs::triage::{Resolution, resolve};

#[derive(Debug, Args)]
pub struct CasesArgs {
    /// Only cases that are not closed.
    #[arg(long)]
    pub open: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CaseArgs {
    /// The case reference, e.g. CHSCP-2026-004.
    pub reference: String,
    #[arg(long)]
    pub json: bool,
    /// The chronology as a document a reviewer can read (Markdown).
    #[arg(long, conflicts_with = "json")]
    pub export: bool,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(subcommand)]
    pub action: Option<TriageAction>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TriageAction {
    /// Resolves an item: tie it to a case, open a new case with it, or set it aside.
    Resolve {
        id: i64,
        #[arg(long, value_name = "REF", conflicts_with_all = ["new_case", "ignore"])]
        case: Option<String>,
        #[arg(long, conflicts_with = "ignore")]
        new_case: bool,
        /// With --new-case: what the message is, whatever it seemed, with the facts you
        /// know, as a TRIAGE reply writes them:
        /// "NOTIFICATION|CONSIDERATION [aware DATE] [notified DATE] [ref REF] [la AUTHORITY]".
        #[arg(long, requires = "new_case", value_name = "FACTS")]
        facts: Option<String>,
        #[arg(long)]
        ignore: bool,
        /// With --ignore: why it is set aside (kept with the item).
        #[arg(long, requires = "ignore", value_name = "TEXT")]
        reason: Option<String>,
        /// Who releases the message, recorded as the actor in the case's chronology
        /// (default: the login name running the command).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
}

fn status_of(state: &CaseState, config: &Config) -> (Option<String>, Option<String>, Option<&'static str>) {
    let Some(next) = state.next_due() else { return (None, None, None) };
    let status = config
        .clock(next.clock)
        .and_then(|def| deadline(def, next.started, &next.extensions, Utc::now(), &config.calendar).ok())
        .map(|d| if d.due == next.due_in_force() { d.status } else { DeadlineStatus::OnTrack })
        .map(DeadlineStatus::as_str);
    (Some(next.clock.to_string()), Some(next.due_in_force().to_string()), status)
}

fn kind_of(state: &CaseState) -> String {
    serde_json::to_value(state.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

pub async fn cases(args: &CasesArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let rows = store.cases(args.open).await.map_err(failed)?;
    let text = if args.json {
        let list: Vec<Value> = rows
            .iter()
            .map(|row| {
                let (clock, due, status) = status_of(&row.state, config);
                json!({"reference": row.state.reference.as_str(), "type": kind_of(&row.state), "stage": row.state.stage(),
                       "next_clock": clock, "next_due": due, "status": status})
            })
            .collect();
        format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
    } else {
        let mut t =
            format!("{:<16} {:<14} {:<18} {:<6} {:<11} {}\n", "reference", "type", "stage", "next", "due", "status");
        for row in &rows {
            let (clock, due, status) = status_of(&row.state, config);
            t.push_str(&format!(
                "{:<16} {:<14} {:<18} {:<6} {:<11} {}\n",
                row.state.reference.as_str(),
                kind_of(&row.state),
                row.state.stage(),
                clock.unwrap_or_else(|| "-".into()),
                due.unwrap_or_else(|| "-".into()),
                status.unwrap_or("-")
            ));
        }
        t
    };
    store.close().await;
    out.write_all(text.as_bytes()).map_err(write_failed)
}

pub async fn case(args: &CaseArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let no_case = || CliError::Usage(format!("no case {}", args.reference.trim()));
    let reference = CaseRef::parse(args.reference.trim()).map_err(|_| no_case())?;
    let state = store.load_case(&reference).await.map_err(failed)?.ok_or_else(no_case)?;
    let audit = store.audit(state.reference.as_str()).await.map_err(failed)?;
    let messages = store.case_messages(state.reference.as_str()).await.map_err(failed)?;
    let emails = store.case_outbox(state.reference.as_str()).await.map_err(failed)?;
    store.close().await;
    let messages: Vec<Value> =
        messages.iter().map(|(id, kind, arrived)| json!({"id": id, "kind": kind, "arrived_at": arrived})).collect();
    let clocks: Vec<Value> = state
        .clocks
        .iter()
        .map(|c| {
            let mut clock = json!({"clock": c.clock.as_str(), "started": c.started.to_string(), "due": c.due_in_force().to_string(),
                   "base_due": c.due.to_string(), "status": serde_json::to_value(c.status).unwrap_or(Value::Null),
                   "closed_on": c.closed_on.map(|d| d.to_string())});
            // A start the notification did not give: provisional, and why.
            if let Some(basis) = &c.basis {
                clock["provisional"] = json!(basis);
            }
            clock
        })
        .collect();
    let chronology: Vec<Value> = audit
        .iter()
        .map(|a| json!({"at": a.at, "event": a.event, "clock": a.clock, "actor": a.actor, "message": a.message, "detail": a.detail}))
        .collect();
    let text = if args.export {
        export(&state, &audit, &messages)
    } else if args.json {
        let mut value = json!({
            "reference": state.reference.as_str(), "type": kind_of(&state), "stage": state.stage(),
            "opened_on": state.opened_on.to_string(), "local_authority": state.notification.local_authority,
            "incident_type": state.notification.incident_type, "panel_reference": state.notification.panel_reference, "la_reference": state.notification.la_reference,
            "decision": state.decision.map(|(d, on)| json!({"decision": d, "on": on.to_string()})),
            "clocks": clocks, "messages": messages, "chronology": chronology,
        });
        // Shown only when they apply: a case read back from an earlier release looks the same.
        if state.provisional {
            value["provisional"] = json!(true);
        }
        if !state.notification.provisional.is_empty() {
            value["provisional_dates"] = json!(state.notification.provisional);
        }
        if !state.related.is_empty() {
            value["related"] = json!(state.related.iter().map(|r| r.as_str()).collect::<Vec<_>>());
        }
        if let Some((national, on)) = state.national {
            value["national_review"] = json!({"answer": if national { "yes" } else { "no" }, "on": on.to_string()});
        }
        format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or_default())
    } else {
        let mut t = format!(
            "{} — {} — {}\narea: {}\n",
            state.reference,
            kind_of(&state),
            state.stage(),
            state.notification.local_authority.as_deref().unwrap_or("not given")
        );
        if state.provisional {
            t.push_str("provisional: a partner agency's request, not yet confirmed; no clock runs\n");
        }
        if !state.notification.provisional.is_empty() {
            t.push_str(&format!(
                "provisional dates (year or week inferred; confirm them): {}\n",
                state.notification.provisional.join(", ")
            ));
        }
        if let Some((national, on)) = state.national_review() {
            t.push_str(&format!("national review (3.4): {} ({on})\n", if national { "might be" } else { "no" }));
        }
        t.push_str("\nclocks\n");
        for c in &state.clocks {
            let closed = c.closed_on.map(|d| format!(" on {d}")).unwrap_or_default();
            let status = match c.status {
                ClockStatus::Running => "running".to_owned(),
                other => format!("{other:?}{closed}").to_lowercase(),
            };
            t.push_str(&format!("  {}  from {}  due {}  {status}\n", c.clock, c.started, c.due_in_force()));
            if let Some(basis) = &c.basis {
                t.push_str(&format!("      provisional: {basis}\n"));
            }
        }
        t.push_str("\nchronology\n");
        for a in &audit {
            t.push_str(&format!("  {}  {:<24} {}\n", a.at, a.event, a.detail));
        }
        t.push_str("\nemails\n");
        for e in &emails {
            let to = super::listing::recipients(&e.recipients);
            t.push_str(&format!(
                "  {:>5}  {:<9} {:<26} to {to}  {}\n",
                e.id,
                e.status,
                e.template,
                super::listing::when(e)
            ));
        }
        t
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}

pub async fn triage(args: &TriageArgs, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open_store(config).await?;
    let text = match &args.action {
        None => {
            let items = store.triage(true).await.map_err(failed)?;
            if args.json {
                let list: Vec<Value> = items
                    .iter()
                    .map(|t| {
                        let mut item = json!({"id": t.id, "message": t.message, "reason": t.reason, "candidates": t.candidates, "created_at": t.created_at});
                        // Only where words were kept: a list from before keeps its shape.
                        if let Some(evidence) = &t.evidence {
                            item["evidence"] = json!(evidence);
                        }
                        item
                    })
                    .collect();
                format!("{}\n", serde_json::to_string_pretty(&list).unwrap_or_default())
            } else if items.is_empty() {
                "nothing waiting\n".to_owned()
            } else {
                let mut t = String::new();
                for item in &items {
                    let candidates = if item.candidates.is_empty() {
                        String::new()
                    } else {
                        format!(" (candidates: {})", item.candidates.join(", "))
                    };
                    let evidence = item.evidence.as_ref().map(|e| format!("\n       \"{e}\"")).unwrap_or_default();
                    let about = match store.message_info(item.message).await.map_err(failed)? {
                        Some(info) => super::listing::about(&info),
                        None => String::new(),
                    };
                    t.push_str(&format!(
                        "{:>5}  message {}  {about}\n       {}{candidates}{evidence}\n",
                        item.id, item.message, item.reason
                    ));
                }
                t
            }
        }
        Some(TriageAction::Resolve { id, case, new_case, facts, ignore, reason, by }) => {
            let resolution = match (case, new_case, ignore) {
                (Some(reference), false, false) => {
                    Resolution::Case(CaseRef::parse(reference.trim()).map_err(|e| CliError::Usage(e.to_string()))?)
                }
                (None, true, false) => Resolution::NewCase(
                    facts
                        .as_deref()
                        .map(|f| crate::domain::facts::read_facts(f, false))
                        .transpose()
                        .map_err(CliError::Usage)?,
                ),
                (None, false, true) => Resolution::Ignore(reason.clone()),
                _ => return Err(CliError::Usage("give one of --case REF, --new-case or --ignore".into())),
            };
            let touched =
                resolve(&store, config, *id, resolution, &operator(by.as_deref(), "cspr triage resolve"), Utc::now())
                    .await
                    .map_err(|e| match e {
                        crate::jobs::triage::ResolveError::Store(e) => failed(e),
                        other => CliError::Usage(other.to_string()),
                    })?;
            let mut text = match &touched.case {
                Some(reference) => format!("resolved {id}: {reference}\n"),
                None => format!("resolved {id}: set aside\n"),
            };
            if let Some(word) = touched.command_not_run {
                text.push_str(&format!(
                    "the {word} command was attached to the case, not run: a released message is not its sender's \
                     signature; ask the sender to send it again from their own authenticated address\n"
                ));
            }
            text
        }
    };
    store.close().await;
    out.write_all(text.as_bytes()).map_err(write_failed)
}

pub async fn migrate(config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let store = create_store(config).await?;
    store.close().await;
    out.write_all(format!("database at {} is up to date\n", crate::store::redact(&config.store_url)).as_bytes())
        .map_err(write_failed)
}

/// A case's chronology as a Markdown document: clocks, then every event in order.
fn export(state: &CaseState, audit: &[crate::store::AuditRow], messages: &[Value]) -> String {
    let mut t = format!("# Case {}\n\n", state.reference);
    t.push_str(&format!("- Type: {}\n- Stage: {}\n- Opened: {}\n", kind_of(state), state.stage(), state.opened_on));
    t.push_str(&format!("- Area: {}\n", state.notification.local_authority.as_deref().unwrap_or("not given")));
    if let Some(r) = &state.notification.panel_reference {
        t.push_str(&format!("- Panel reference: {r}\n"));
    }
    t.push_str(&format!(
        "- Messages: {}\n\n## Clocks\n\n| clock | started | due | status | completed |\n|---|---|---|---|---|\n",
        messages.len()
    ));
    for c in &state.clocks {
        t.push_str(&format!(
            "| {} | {} | {} | {:?} | {} |\n",
            c.clock,
            c.started,
            c.due_in_force(),
            c.status,
            c.closed_on.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    t.push_str("\n## Chronology\n\n| when (UTC) | event | by | detail |\n|---|---|---|---|\n");
    for a in audit {
        t.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            a.at,
            a.event,
            a.actor.as_deref().unwrap_or("cspr"),
            a.detail.replace('|', "/")
        ));
    }
    t
}
