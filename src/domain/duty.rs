//! Duties the protocol gives without a statutory deadline: chased by reminders until a
//! person records them done, each with the command that records it. None has an
//! invented deadline: a reminder goes `first_after` working days after the duty arose,
//! then every `every` working days (configuration, `[duties.<name>]`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Calendar, Role, WorkingDays};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyKind {
    /// 2.3: the local authority tells the Secretary of State of a looked-after child's
    /// or care leaver's death; the partnership confirms it has.
    SosNotified,
    /// 3.3, 5.1: the Panel's response reported to the safeguarding partners, and the
    /// Rapid Review report shared with the partners and the Case Review sub-group.
    ReportShared,
    /// 8.1: the reasons for an approved delay sent to the Panel and the Secretary of State.
    DelayNotice,
    /// 9.1: the justification for not publishing sent to the Panel and the Secretary of State.
    NonPublicationNotice,
    /// 6.2: synopsis, terms of reference and agency reports requested.
    ReportsRequested,
    /// 7.1: the family contacted (after 7.2's check with the police).
    FamilyContacted,
    /// 9.2: the published report sent to the national repository.
    Repository,
}

/// One row of the duties table.
#[derive(Debug, Clone, Copy)]
pub struct DutySpec {
    pub kind: DutyKind,
    /// Its name in configuration (`[duties.sos_notified]`).
    pub name: &'static str,
    /// What is to be done, in a few words (a reminder's subject).
    pub short: &'static str,
    /// What is to be done, for the reminder.
    pub what: &'static str,
    /// The line that records it done.
    pub line: &'static str,
    /// Who is reminded unless configuration says otherwise.
    pub to: &'static [Role],
}

const fn spec(
    kind: DutyKind,
    name: &'static str,
    short: &'static str,
    what: &'static str,
    line: &'static str,
    to: &'static [Role],
) -> DutySpec {
    DutySpec { kind, name, short, what, line, to }
}

pub const DUTIES: &[DutySpec] = &[
    spec(
        DutyKind::SosNotified,
        "sos_notified",
        "the Secretary of State told",
        "confirm that the local authority has told the Secretary of State of the death (2.3)",
        "SOS-NOTIFIED [date]",
        &[Role::Spa],
    ),
    spec(
        DutyKind::ReportShared,
        "report_shared",
        "the Rapid Review report shared",
        "report the Panel's response to the safeguarding partners and share the Rapid Review report with them and \
         the Case Review sub-group (3.3, 5.1)",
        "REPORT-SHARED [date]",
        &[Role::Spa],
    ),
    spec(
        DutyKind::DelayNotice,
        "delay_notice",
        "the notice of reasons for the delay",
        "send the reasons for the approved delay to the Panel and the Secretary of State (8.1)",
        "NOTICE-SENT DELAY [date]",
        &[Role::Spa, Role::Icsc],
    ),
    spec(
        DutyKind::NonPublicationNotice,
        "non_publication_notice",
        "the justification for not publishing",
        "send the justification for not publishing to the Panel and the Secretary of State (9.1)",
        "NOTICE-SENT NON-PUBLICATION [date]",
        &[Role::Icsc],
    ),
    spec(
        DutyKind::ReportsRequested,
        "reports_requested",
        "the review's reports requested",
        "request the synopsis, terms of reference and agency reports for the review (6.2)",
        "REQUESTED-REPORTS [date]",
        &[Role::Spa],
    ),
    spec(
        DutyKind::FamilyContacted,
        "family_contacted",
        "the family contacted",
        "write to the family about the review (7.1), once the police have confirmed whether criminal \
         proceedings are under way (7.2)",
        "FAMILY-CONTACTED [date]",
        &[Role::Spa],
    ),
    spec(
        DutyKind::Repository,
        "repository",
        "the report sent to the national repository",
        "send the published report to the national repository (9.2)",
        "REPOSITORY-SENT [date]",
        &[Role::Spa],
    ),
];

impl DutyKind {
    pub fn spec(self) -> &'static DutySpec {
        match DUTIES.iter().find(|s| s.kind == self) {
            Some(spec) => spec,
            None => unreachable!("every duty is in the table"),
        }
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn parse(name: &str) -> Option<DutyKind> {
        DUTIES.iter().find(|s| s.name == name).map(|s| s.kind)
    }
}

/// A duty on a case: when it arose, and when it was recorded done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    pub kind: DutyKind,
    pub since: NaiveDate,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
}

/// When a duty's reminders go, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutySchedule {
    pub first_after: WorkingDays,
    pub every: WorkingDays,
    pub to: Vec<Role>,
}

/// Every duty's schedule: the table's defaults (5 working days, then every 10), with
/// configuration's changes.
#[derive(Debug, Clone, Default)]
pub struct DutySchedules {
    overrides: BTreeMap<DutyKind, DutySchedule>,
}

impl DutySchedules {
    pub fn set(&mut self, kind: DutyKind, schedule: DutySchedule) {
        self.overrides.insert(kind, schedule);
    }

    pub fn of(&self, kind: DutyKind) -> DutySchedule {
        self.overrides.get(&kind).cloned().unwrap_or_else(|| DutySchedule {
            first_after: WorkingDays(5),
            every: WorkingDays(10),
            to: kind.spec().to.to_vec(),
        })
    }
}

impl Duty {
    /// The latest reminder day on or before `today`, and which reminder it is (from 1).
    /// The first reminder of this duty after `day`, while it is open.
    pub fn next_reminder_after(
        &self,
        schedule: &DutySchedule,
        calendar: &Calendar,
        day: NaiveDate,
    ) -> Option<NaiveDate> {
        if self.done_on.is_some() {
            return None;
        }
        let mut next = calendar.add_working_days(self.since, schedule.first_after);
        for _ in 0..1000 {
            if next > day {
                return Some(next);
            }
            if schedule.every.get() <= 0 {
                return None;
            }
            next = calendar.add_working_days(next, schedule.every);
        }
        None
    }

    pub fn reminder_due(
        &self,
        schedule: &DutySchedule,
        calendar: &Calendar,
        today: NaiveDate,
    ) -> Option<(NaiveDate, u32)> {
        if self.done_on.is_some() {
            return None;
        }
        let mut day = calendar.add_working_days(self.since, schedule.first_after);
        if day > today {
            return None;
        }
        let mut occurrence = 1;
        if schedule.every.get() <= 0 {
            return Some((day, occurrence));
        }
        loop {
            let next = calendar.add_working_days(day, schedule.every);
            if next > today || occurrence >= 1000 {
                return Some((day, occurrence));
            }
            day = next;
            occurrence += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duty_has_one_row_and_its_name_reads_back() {
        for spec in DUTIES {
            assert_eq!(DutyKind::parse(spec.name), Some(spec.kind));
            assert!(!spec.to.is_empty());
        }
    }

    #[test]
    fn reminders_go_after_the_first_wait_then_at_each_interval_and_stop_when_done() {
        let calendar = Calendar::england_and_wales();
        let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
        let schedule = DutySchedule { first_after: WorkingDays(5), every: WorkingDays(5), to: vec![Role::Spa] };
        // Monday 1 March 2027: first reminder Monday 8th, then Monday 15th.
        let mut duty = Duty { kind: DutyKind::SosNotified, since: day(1), done_on: None };
        assert_eq!(duty.reminder_due(&schedule, &calendar, day(5)), None);
        assert_eq!(duty.reminder_due(&schedule, &calendar, day(8)), Some((day(8), 1)));
        assert_eq!(duty.reminder_due(&schedule, &calendar, day(12)), Some((day(8), 1)));
        assert_eq!(duty.reminder_due(&schedule, &calendar, day(15)), Some((day(15), 2)));
        duty.done_on = Some(day(9));
        assert_eq!(duty.reminder_due(&schedule, &calendar, day(15)), None);
    }
}
