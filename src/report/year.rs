//! What the partnership's yearly report needs beyond the clocks (protocol 10.1 and
//! Working Together): notifications by type, Rapid Reviews on time, the Panel's
//! responses, decisions, reviews published (on time, late, with approved delays),
//! decisions not to publish, and requests for consideration with their outcomes. Each
//! counted in the year it happened.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::domain::case::{CaseKind, CaseState, ClockStatus, ReviewDecision};
use crate::domain::clock::ClockId;
use crate::domain::message::{IncidentType, PanelOutcome};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct YearFigures {
    /// Notification cases opened in the year, by incident type.
    pub notifications: BTreeMap<&'static str, usize>,
    pub rapid_reviews_on_time: usize,
    pub rapid_reviews_late: usize,
    /// Panel responses received in the year, by outcome.
    pub panel_responses: BTreeMap<&'static str, usize>,
    /// Decisions (4.1) taken in the year: the latest on each case.
    pub decisions: BTreeMap<&'static str, usize>,
    /// Cases said in the year to be possible national reviews (3.4).
    pub national_reviews: usize,
    pub published_on_time: usize,
    pub published_late: usize,
    /// Of those published, how many after an approved delay (8.1).
    pub published_with_approved_delay: usize,
    pub not_published: usize,
    pub consideration_requests: usize,
    pub consideration_review: usize,
    pub consideration_no_review: usize,
    pub consideration_awaiting: usize,
}

impl YearFigures {
    /// Every figure as `(name, value)`, in the order the report shows them.
    pub fn rows(&self) -> Vec<(String, usize)> {
        let mut rows = Vec::new();
        for (kind, n) in &self.notifications {
            rows.push((format!("notifications_{kind}"), *n));
        }
        rows.push(("rapid_reviews_on_time".into(), self.rapid_reviews_on_time));
        rows.push(("rapid_reviews_late".into(), self.rapid_reviews_late));
        for (outcome, n) in &self.panel_responses {
            rows.push((format!("panel_responses_{outcome}"), *n));
        }
        for (decision, n) in &self.decisions {
            rows.push((format!("decisions_{decision}"), *n));
        }
        rows.extend([
            ("national_reviews".into(), self.national_reviews),
            ("published_on_time".into(), self.published_on_time),
            ("published_late".into(), self.published_late),
            ("published_with_approved_delay".into(), self.published_with_approved_delay),
            ("not_published".into(), self.not_published),
            ("consideration_requests".into(), self.consideration_requests),
            ("consideration_review".into(), self.consideration_review),
            ("consideration_no_review".into(), self.consideration_no_review),
            ("consideration_awaiting".into(), self.consideration_awaiting),
        ]);
        rows
    }
}

fn incident(t: Option<IncidentType>) -> &'static str {
    match t {
        Some(IncidentType::Death) => "death",
        Some(IncidentType::SeriousHarm) => "serious_harm",
        Some(IncidentType::LookedAfterDeath) => "looked_after_death",
        Some(IncidentType::CareLeaverDeath) => "care_leaver_death",
        Some(IncidentType::Unknown) | None => "not_stated",
    }
}

fn outcome(o: PanelOutcome) -> &'static str {
    match o {
        PanelOutcome::Agree => "agree",
        PanelOutcome::Disagree => "disagree",
        PanelOutcome::MoreInformation => "more_information",
        PanelOutcome::Unclear => "unclear",
    }
}

/// The year's figures from every case's state.
pub fn year_figures(cases: &[CaseState], year: i32) -> YearFigures {
    let within = |d: Option<NaiveDate>| d.is_some_and(|d| d.year() == year);
    let mut f = YearFigures::default();
    for case in cases {
        let clock = |id: ClockId| case.clocks.iter().rev().find(|c| c.clock == id);
        if case.kind == CaseKind::Consideration {
            if within(Some(case.opened_on)) {
                f.consideration_requests += 1;
                match case.subgroup_decision {
                    Some((true, _)) => f.consideration_review += 1,
                    Some((false, _)) => f.consideration_no_review += 1,
                    None => f.consideration_awaiting += 1,
                }
            }
            continue;
        }
        if within(Some(case.opened_on)) {
            *f.notifications.entry(incident(case.notification.incident_type)).or_default() += 1;
        }
        if let Some(c3) = clock(ClockId::C3).filter(|c| within(c.closed_on)) {
            match c3.status {
                ClockStatus::Met => f.rapid_reviews_on_time += 1,
                ClockStatus::MetLate => f.rapid_reviews_late += 1,
                _ => {}
            }
        }
        let responded = case.panel_response_on.or_else(|| clock(ClockId::C3).and_then(|c| c.closed_on));
        if let Some(o) = case.panel_outcome.filter(|_| within(responded)) {
            *f.panel_responses.entry(outcome(o)).or_default() += 1;
        }
        match case.decision {
            Some((ReviewDecision::Cspr, on)) if within(Some(on)) => *f.decisions.entry("cspr").or_default() += 1,
            Some((ReviewDecision::NoCspr, on)) if within(Some(on)) => *f.decisions.entry("no_cspr").or_default() += 1,
            _ => {}
        }
        if case.national_review().is_some_and(|(yes, on)| yes && within(Some(on))) {
            f.national_reviews += 1;
        }
        if let Some((_, on)) = &case.published
            && within(Some(*on))
        {
            let c6 = clock(ClockId::C6);
            match c6.map(|c| c.status) {
                Some(ClockStatus::MetLate) => f.published_late += 1,
                _ => f.published_on_time += 1,
            }
            if c6.is_some_and(|c| !c.extensions.is_empty()) {
                f.published_with_approved_delay += 1;
            }
        }
        if case.not_publishing.is_some() && within(clock(ClockId::C6).and_then(|c| c.closed_on)) {
            f.not_published += 1;
        }
    }
    f
}
