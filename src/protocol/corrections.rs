//! Corrections of a case's facts by reply (`AWARE`, `PANEL-NOTIFIED`, `REFERENCE`,
//! `LA-REFERENCE`, `TYPE`, `LOOKED-AFTER`, `ABUSE-SUSPECTED`, `CHILDREN`): the fact
//! changes, every clock that counts from it is counted again (a met clock stays met),
//! the chronology records the old and the new value and who, and the answer lists the
//! due dates as they now stand. `CONFIRM` starts a provisional request's C7.

use chrono::NaiveDate;

use super::notifications::{la_duties, move_c3, start_c3};
use super::{Builder, duties};
use crate::domain::case::{CaseKind, CaseState, ClockStatus};
use crate::domain::clock::ClockId;
use crate::domain::command::{Command, NATIONAL_ANSWERS, SUSPECTED, choice};
use crate::domain::duty::DutyKind;
use crate::domain::facts::incident_type;
use crate::domain::message::IncidentType;
use crate::domain::{format_long, parse_uk_date};

fn shown<T: std::fmt::Debug>(value: &Option<T>) -> String {
    value.as_ref().map_or_else(|| "not given".to_owned(), |v| format!("{v:?}").trim_matches('"').to_owned())
}

fn shown_date(value: Option<NaiveDate>) -> String {
    value.map_or_else(|| "not given".to_owned(), format_long)
}

/// Applies a correction; the answer in words for the sender.
pub(super) fn correct(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    command: Command,
    rest: &str,
    on: NaiveDate,
) -> Result<String, String> {
    let rest = rest.trim();
    let n = &mut state.notification;
    let (what, old, new) = match command {
        Command::Aware | Command::PanelNotified => {
            let date = parse_uk_date(rest).ok_or_else(|| format!("{} needs the date", command.word()))?;
            let (name, field) = if command == Command::Aware {
                ("aware_date", &mut n.aware_date)
            } else {
                ("notified_date", &mut n.notified_date)
            };
            let old = shown_date(*field);
            *field = Some(date);
            n.provisional.retain(|p| p != name);
            let what = if command == Command::Aware {
                "date the local authority became aware"
            } else {
                "date the Panel was notified"
            };
            (what, old, format_long(date))
        }
        Command::Reference => {
            let old = shown(&n.panel_reference);
            n.panel_reference = Some(rest.to_owned());
            ("Panel reference", old, rest.to_owned())
        }
        Command::LaReference => {
            let old = shown(&n.la_reference);
            n.la_reference = Some(rest.to_owned());
            ("local authority's reference", old, rest.to_owned())
        }
        Command::Type => {
            let kind = incident_type(rest)?;
            let old = shown(&n.incident_type);
            n.incident_type = Some(kind);
            if matches!(kind, IncidentType::LookedAfterDeath) {
                n.looked_after = Some(true);
            }
            ("incident type", old, format!("{kind:?}"))
        }
        Command::LookedAfter => {
            let yes = match choice(rest, NATIONAL_ANSWERS) {
                Some(("YES", _)) => true,
                Some(_) => false,
                None => return Err("LOOKED-AFTER needs YES or NO".into()),
            };
            let old = shown(&n.looked_after);
            n.looked_after = Some(yes);
            match (yes, n.incident_type) {
                (true, Some(IncidentType::Death)) => n.incident_type = Some(IncidentType::LookedAfterDeath),
                (false, Some(IncidentType::LookedAfterDeath)) => n.incident_type = Some(IncidentType::Death),
                _ => {}
            }
            ("looked after", old, if yes { "yes" } else { "no" }.to_owned())
        }
        Command::AbuseSuspected => {
            let answer = match choice(rest, SUSPECTED) {
                Some(("YES", _)) => Some(true),
                Some(("NO", _)) => Some(false),
                Some(_) => None,
                None => return Err("ABUSE-SUSPECTED needs YES, NO or UNKNOWN".into()),
            };
            let old = shown(&n.abuse_or_neglect_suspected);
            n.abuse_or_neglect_suspected = answer;
            ("abuse or neglect suspected", old, shown(&answer))
        }
        Command::Children => {
            let count: u32 = rest.parse().map_err(|_| "CHILDREN needs the number of children".to_owned())?;
            let old = shown(&n.children);
            n.children = Some(count);
            ("number of children", old, count.to_string())
        }
        _ => return Err(format!("{} is not a correction", command.word())),
    };
    if old == new {
        return Err(format!("the {what} is already {new}; nothing was changed"));
    }
    b.audit("fact_corrected", None, format!("{what}: {old}, now {new}"));
    consequences(state, b, on);
    Ok(format!("{what} corrected (was {old}, now {new}). {}", due_dates(state)))
}

/// Whatever follows from the facts as they now stand: the local authority's duties
/// assessed again, C3 counted from its start date, the Secretary of State's duty for a
/// looked-after child's or care leaver's death, and C3 stopped or started as footnote 1
/// says.
fn consequences(state: &mut CaseState, b: &mut Builder<'_>, on: NaiveDate) {
    if state.kind != CaseKind::Incident {
        return;
    }
    let copy_received = state.clocks.iter().find(|c| c.clock == ClockId::C2).and_then(|c| c.closed_on);
    let _ = la_duties(state, b, copy_received.unwrap_or(state.opened_on));
    let _ = move_c3(b, state);
    let death = matches!(
        state.notification.incident_type,
        Some(IncidentType::LookedAfterDeath | IncidentType::CareLeaverDeath)
    );
    if death && !state.secretary_of_state_duty {
        state.secretary_of_state_duty = true;
        b.audit(
            "secretary_of_state_duty",
            None,
            "looked-after child or care leaver death: the Secretary of State must be told (2.3)",
        );
        duties::open(state, b, DutyKind::SosNotified, on);
    }
    let dfe_only = death && state.notification.abuse_or_neglect_suspected == Some(false);
    if dfe_only && !state.dfe_ofsted_only {
        state.dfe_ofsted_only = true;
        if let Some(c3) = state.running_mut(ClockId::C3) {
            c3.status = ClockStatus::Stopped;
            c3.closed_on = Some(on);
        }
        b.audit(
            "dfe_ofsted_only",
            Some(ClockId::C3),
            "no abuse or neglect suspected: for DfE and Ofsted, not the Panel; C3 stopped (footnote 1)",
        );
    } else if !dfe_only && state.dfe_ofsted_only {
        state.dfe_ofsted_only = false;
        b.audit(
            "rapid_review_needed",
            Some(ClockId::C3),
            "abuse or neglect may be suspected after all: a Rapid Review is needed (C3)",
        );
        let met = state
            .clocks
            .iter()
            .any(|c| c.clock == ClockId::C3 && matches!(c.status, ClockStatus::Met | ClockStatus::MetLate));
        if !met {
            start_c3(state, b, state.opened_on);
        }
    }
}

/// The running clocks' due dates, as the answer lists them.
pub(super) fn due_dates(state: &CaseState) -> String {
    let running: Vec<String> = state
        .clocks
        .iter()
        .filter(|c| c.is_running())
        .map(|c| format!("{} due {}", c.clock, format_long(c.due_in_force())))
        .collect();
    if running.is_empty() { "No clock is running".to_owned() } else { format!("Due dates now: {}", running.join("; ")) }
}

/// `CONFIRM`: a partner agency's provisional request becomes a request under
/// consideration, and C7 runs from the day it was received (11.1).
pub(super) fn confirm(state: &mut CaseState, b: &mut Builder<'_>) -> Result<String, String> {
    if state.kind != CaseKind::Consideration || !state.provisional {
        return Err("only a provisional request for consideration is confirmed".into());
    }
    state.provisional = false;
    b.audit("request_confirmed", None, "the request for consideration is confirmed (11.1)");
    b.start_clock(state, ClockId::C7, state.opened_on);
    match state.running(ClockId::C7) {
        Some(c7) => Ok(format!(
            "request confirmed; the Case Review sub-group considers it by {} (C7)",
            format_long(c7.due_in_force())
        )),
        None => Ok("request confirmed; C7 is not configured to run".into()),
    }
}
