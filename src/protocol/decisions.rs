//! The decision after the Rapid Review (4.1, 5.1) and 3.4's separate question, "might
//! this be a national review?". A decision may be given again — the Panel may disagree
//! with NO-CSPR and the partnership then decide to review — and the latest stands; the
//! chronology keeps every one with its reason.

use chrono::NaiveDate;

use super::args::{date_or, split_first};
use super::{Builder, Purpose, Recipient};
use crate::domain::case::{CaseState, ClockStatus, ReviewDecision};
use crate::domain::clock::ClockId;
use crate::domain::command::{DECISIONS, NATIONAL_ANSWERS, choice};
use crate::domain::duty::DutyKind;
use crate::domain::{Role, format_long, parse_uk_date};

/// `DECISION CSPR|NO-CSPR [date] [reason]` (`DECISION NATIONAL` is `NATIONAL YES`).
pub(super) fn decision(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    rest: &str,
    on: NaiveDate,
) -> Result<String, String> {
    let (picked, after) = match choice(rest, DECISIONS) {
        Some(found) => found,
        None => return Err(format!("'{}' is not CSPR or NO-CSPR", split_first(rest).0)),
    };
    if picked == "NATIONAL" {
        return national(state, b, &format!("YES {after}"), on);
    }
    let decision = if picked == "CSPR" { ReviewDecision::Cspr } else { ReviewDecision::NoCspr };
    let (first, reason) = split_first(after);
    let (date, reason) = match parse_uk_date(first) {
        Some(date) => (date, reason),
        None if first.contains(['/', '-']) => return Err(date_or(first, on).err().unwrap_or_default()),
        None => (on, after),
    };
    let earlier = state.decision;
    if let Some((ReviewDecision::National, since)) = earlier {
        // A case decided NATIONAL before the question was asked apart keeps that answer.
        state.national.get_or_insert((true, since));
    }
    state.decision = Some((decision, date));
    let because = if reason.is_empty() { String::new() } else { format!(": {reason}") };
    let was = earlier.map(|(d, since)| format!(" (was {} from {since})", d.label())).unwrap_or_default();
    b.audit("decision", None, format!("{} decided {date}{was}{because} (4.1)", decision.label()));
    let reference = state.reference.clone();
    if decision == ReviewDecision::Cspr {
        let first = state.running(ClockId::C6).is_none();
        b.start_clock(state, ClockId::C5, date);
        b.start_clock(state, ClockId::C6, date);
        if first {
            // 6.1: the Case Review sub-group and the organisations involved are told; 6.2
            // and 7.1 follow (7.2's check with the police comes first).
            b.intent(
                Purpose::Escalation,
                vec![Recipient::Role(Role::CaseReviewSubgroup), Recipient::Role(Role::Spa)],
                Some(&reference),
                "review_started",
                &[("decided_on", format_long(date))],
                false,
            );
            super::duties::open(state, b, DutyKind::ReportsRequested, date);
            super::duties::open(state, b, DutyKind::FamilyContacted, date);
        }
    } else {
        let mut stopped = Vec::new();
        for clock in [ClockId::C5, ClockId::C6] {
            if let Some(instance) = state.running_mut(clock) {
                instance.status = ClockStatus::Stopped;
                instance.closed_on = Some(date);
                stopped.push(clock.to_string());
            }
        }
        if !stopped.is_empty() {
            let stopped = stopped.join(" and ");
            b.audit("clock_stopped", None, format!("{stopped} stopped: the decision is now NO-CSPR"));
            b.intent(
                Purpose::Escalation,
                vec![Recipient::Role(Role::Spa), Recipient::Role(Role::Icsc)],
                Some(&reference),
                "decision_revised",
                &[("decision", decision.label().to_owned()), ("stopped", stopped)],
                false,
            );
        }
    }
    Ok(match earlier {
        Some((old, _)) => {
            format!("decision {} recorded for {} (it replaces {})", decision.label(), format_long(date), old.label())
        }
        None => format!("decision {} recorded for {}", decision.label(), format_long(date)),
    })
}

/// `NATIONAL YES|NO [date]`: 3.4's question; the local clocks run on either way (the ICSC
/// closes them if a national review takes the case over).
pub(super) fn national(
    state: &mut CaseState,
    b: &mut Builder<'_>,
    rest: &str,
    on: NaiveDate,
) -> Result<String, String> {
    let (answer, date) = match choice(rest, NATIONAL_ANSWERS) {
        Some((answer, date)) => (answer == "YES", date_or(date, on)?),
        None => return Err(format!("'{}' is not YES or NO", split_first(rest).0)),
    };
    state.national = Some((answer, date));
    let said = if answer { "might be a national review" } else { "not a national review" };
    b.audit("national_review", None, format!("{said}, {date} (3.4)"));
    Ok(format!("recorded: {said} ({}); the local clocks run on", format_long(date)))
}
