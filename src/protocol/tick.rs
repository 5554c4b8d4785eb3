//! The scheduler's decisions: which reminder and escalation steps of a running clock
//! fall due, when the ICSC is asked whether to recommend a delay, and what the
//! digests say (open cases, red/amber/green first, and what waits in triage).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Builder, Context, Intent, Outcome, Purpose, Recipient};
use crate::domain::case::{CaseState, CaseSummary};
use crate::domain::clock::{
    ClockDef, ClockId, CronSchedule, Deadline, DeadlineStatus, Owner, StepKind, deadline, status_on,
};
use crate::domain::command::Command;
use crate::domain::{Role, format_long, london_date};

/// What the passing of time does to a case (the scheduler's decisions): a review due
/// within `approvals.request_at` working days and not published gets the ICSC asked,
/// once for that due date, whether to recommend a delay (8.1). Nothing goes to the SLT
/// until the ICSC recommends one.
pub fn on_tick(state: &CaseState, ctx: &Context<'_>) -> Option<Outcome> {
    let c6 = state.running(ClockId::C6)?;
    let due = c6.due_in_force();
    if state.delay.is_some() || state.published.is_some() || state.is_closed() || state.delay_asked == Some(due) {
        return None;
    }
    let today = london_date(&ctx.now);
    let ask_from = ctx.rules.calendar.add_working_days(due, ctx.rules.approvals.request_at);
    if today < ask_from {
        return None;
    }
    let mut state = state.clone();
    let mut b = Builder::scheduled(format!("tick:{}:delay:{due}", state.reference), ctx);
    state.delay_asked = Some(due);
    b.audit(
        "delay_question",
        Some(ClockId::C6),
        format!("the ICSC is asked whether to recommend a delay to {due} (8.1)"),
    );
    let reference = state.reference.clone();
    // A date to start from: the configured usual extension.
    let months = i32::try_from(ctx.rules.approvals.default_extension_months).unwrap_or(3);
    let suggested = crate::domain::add_months(due, months).map(|d| d.format("%d/%m/%Y").to_string());
    b.intent(
        Purpose::Escalation,
        vec![Recipient::Role(Role::Icsc)],
        Some(&reference),
        "delay_question",
        &[("due", format_long(due)), ("suggested", suggested.unwrap_or_default())],
        false,
    );
    super::help::add_footers(&state, &mut b.out.intents, ctx);
    b.out.case = Some(state);
    Some(b.out)
}

/// One running clock the partnership owns, as of a tick.
pub struct ClockSteps<'a> {
    pub clock: ClockId,
    /// Every step of this clock is keyed with this prefix (`clock:REF:C3:`).
    pub prefix: String,
    pub deadline: Deadline,
    /// The latest day, up to today, on which a step fell: after downtime only that
    /// day's steps go, not a burst of every missed one.
    pub latest: Option<NaiveDate>,
    def: &'a ClockDef,
}

/// The running clocks of `case` that the partnership owns and are enabled, each with
/// its deadline as of `ctx.now`.
pub fn clock_steps<'a>(case: &CaseState, ctx: &Context<'a>) -> Vec<ClockSteps<'a>> {
    let today = london_date(&ctx.now);
    let rules = ctx.rules;
    case.clocks
        .iter()
        .filter(|c| c.is_running())
        .filter_map(move |instance| {
            let def = rules.clock(instance.clock).filter(|d| d.enabled && d.owner == Owner::Partnership)?;
            let dl = deadline(def, instance.started, &instance.extensions, ctx.now, rules.calendar).ok()?;
            let latest = dl.steps.iter().filter(|s| s.date <= today).map(|s| s.date).max();
            Some(ClockSteps {
                clock: instance.clock,
                prefix: format!("clock:{}:{}:", case.reference, instance.clock),
                deadline: dl,
                latest,
                def,
            })
        })
        .collect()
}

impl ClockSteps<'_> {
    /// The emails of the latest step day, each with when it may go (`None`: at once,
    /// outside the sending window too). Keyed by step, occurrence and due date, so that
    /// each is queued once, and a moved due date makes new ones.
    pub fn intents(&self, case: &CaseState, ctx: &Context<'_>) -> Vec<(Intent, Option<DateTime<Utc>>)> {
        let Some(latest) = self.latest else { return Vec::new() };
        let today = london_date(&ctx.now);
        let (def, dl) = (self.def, &self.deadline);
        dl.steps
            .iter()
            .filter(|s| s.date == latest)
            .map(|step| {
                let kind = if step.kind == StepKind::Reminder { "reminder" } else { "escalation" };
                let basis = case.running(self.clock).and_then(|c| c.basis.clone()).unwrap_or_default();
                let (command, who) = completing(def, step.to, ctx);
                let facts = [
                    ("basis", basis),
                    ("clock", self.clock.to_string()),
                    ("clock_title", def.title.clone()),
                    ("due", format_long(dl.due)),
                    ("command", command),
                    ("who", who),
                    ("note", if may_give(Command::Note, step.to, ctx) { "yes".into() } else { String::new() }),
                    ("overdue", if today > dl.due { "yes".into() } else { String::new() }),
                ];
                let mut facts: BTreeMap<String, serde_json::Value> =
                    facts.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v.into())).collect();
                facts.insert("case".into(), case.reference.to_string().into());
                let intent = Intent {
                    purpose: if step.kind == StepKind::Reminder { Purpose::Reminder } else { Purpose::Escalation },
                    to: vec![Recipient::Role(step.to)],
                    case: Some(case.reference.clone()),
                    template: kind.to_owned(),
                    facts,
                    dedupe_key: format!("{}{kind}:{}:{}:{}", self.prefix, step.step, step.occurrence, dl.due),
                    urgent: step.urgent,
                    not_before: None,
                };
                let mut intent = [intent];
                super::help::add_footers(case, &mut intent, ctx);
                let [intent] = intent;
                let not_before =
                    if step.urgent { None } else { Some(def.sending_window.next_open(ctx.now, ctx.rules.calendar)) };
                (intent, not_before)
            })
            .collect()
    }
}

/// Whether `role` may give `command`.
fn may_give(command: Command, role: Role, ctx: &Context<'_>) -> bool {
    ctx.rules.commands.roles(command).contains(&role)
}

/// The lines that complete a clock, as `role` may send them, with their real arguments
/// ("PUBLISHED <url> [date] or NOT-PUBLISHING <reason>"); when `role` may give none of
/// them, who may (an escalation then says what the recipient can do instead).
fn completing(def: &ClockDef, role: Role, ctx: &Context<'_>) -> (String, String) {
    let commands: Vec<Command> = def.completed_by.iter().filter_map(|w| Command::parse(w)).collect();
    let mine: Vec<String> = commands.iter().filter(|c| may_give(**c, role, ctx)).map(|c| c.usage()).collect();
    if !mine.is_empty() {
        return (mine.join("\nor\n"), String::new());
    }
    let mut who: Vec<&str> = Vec::new();
    for c in &commands {
        for r in ctx.rules.commands.roles(*c) {
            if !who.contains(&r.short_name()) {
                who.push(r.short_name());
            }
        }
    }
    (String::new(), who.join(" or "))
}

/// Red: overdue or due today; amber: due soon; green: anything else. Digests list red
/// first, then amber, then green.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Rag {
    Red,
    Amber,
    Green,
}

impl Rag {
    fn of(status: Option<DeadlineStatus>) -> Self {
        match status {
            Some(DeadlineStatus::Overdue | DeadlineStatus::DueToday) => Rag::Red,
            Some(DeadlineStatus::DueSoon) => Rag::Amber,
            _ => Rag::Green,
        }
    }
}

/// One open case in a digest: no names, only the reference and its next deadline
/// (fields in the order they are written).
#[derive(Debug, Clone, Serialize)]
pub struct DigestRow {
    pub clock: Option<String>,
    pub due: Option<String>,
    pub rag: Rag,
    pub reference: String,
    pub stage: String,
    pub status: Option<&'static str>,
}

/// A case's digest row as of `ctx.now`, from what the store keeps beside its state:
/// red when its next deadline is today or past, amber within its clock's "due soon"
/// days, else green.
pub fn digest_row(case: &CaseSummary, ctx: &Context<'_>) -> DigestRow {
    let today = london_date(&ctx.now);
    let status =
        case.next.and_then(|(clock, due)| Some(status_on(ctx.rules.clock(clock)?, due, today, ctx.rules.calendar)));
    DigestRow {
        clock: case.next.map(|(c, _)| c.to_string()),
        due: case.next.map(|(_, d)| format_long(d)),
        rag: Rag::of(status),
        reference: case.reference.clone(),
        stage: case.stage.clone(),
        status: status.map(DeadlineStatus::as_str),
    }
}

/// Whether a digest on `schedule` has come round today (London time) by `now`.
pub fn digest_due(schedule: &CronSchedule, now: DateTime<Utc>) -> bool {
    let today = london_date(&now);
    let Some(start) = today
        .and_hms_opt(0, 0, 0)
        .and_then(|t| chrono::TimeZone::from_local_datetime(&chrono_tz::Europe::London, &t).earliest())
    else {
        return false;
    };
    schedule
        .after_utc(&(start.with_timezone(&Utc) - chrono::Duration::seconds(1)))
        .next()
        .is_some_and(|at| at <= now && london_date(&at) == today)
}

/// A held message as a digest lists it: its number and the reason, nothing of its text.
#[derive(Debug, Clone, Serialize)]
pub struct TriageRow {
    pub id: i64,
    pub reason: String,
}

/// The digest called `name` for each of `roles` on `today`: the cases red first, then
/// amber, then green (each group in the order given), and the triage list.
pub fn digest_intents(
    name: &str,
    roles: &[Role],
    today: NaiveDate,
    mut cases: Vec<DigestRow>,
    triage: &[TriageRow],
) -> Result<Vec<Intent>, serde_json::Error> {
    cases.sort_by_key(|c| c.rag);
    let count = |rag: Rag| cases.iter().filter(|c| c.rag == rag).count().to_string();
    // Lists stay lists, from here to the template.
    let cases_list = serde_json::to_value(&cases)?;
    let triage_list = serde_json::to_value(triage)?;
    Ok(roles
        .iter()
        .map(|role| {
            let facts = [
                ("date", format_long(today).into()),
                ("cases_list", cases_list.clone()),
                ("triage_list", triage_list.clone()),
                ("red", count(Rag::Red).into()),
                ("amber", count(Rag::Amber).into()),
                ("green", count(Rag::Green).into()),
            ];
            Intent {
                purpose: Purpose::Digest,
                to: vec![Recipient::Role(*role)],
                case: None,
                template: name.to_owned(),
                facts: facts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                dedupe_key: format!("{name}:{role}:{today}"),
                urgent: false,
                not_before: None,
            }
        })
        .collect())
}
