//! The deadline function: (clock, start or anchor, approved extensions, now) → due
//! date, reminder and escalation dates, and status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::definition::{ClockDef, ClockId, DueRule, Step};
use crate::domain::calendar::{Calendar, WorkingDays};
use crate::domain::dates::{add_months, london_date};
use crate::domain::role::Role;

/// How a running clock stands today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    OnTrack,
    DueSoon,
    DueToday,
    Overdue,
}

impl DeadlineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineStatus::OnTrack => "on_track",
            DeadlineStatus::DueSoon => "due_soon",
            DeadlineStatus::DueToday => "due_today",
            DeadlineStatus::Overdue => "overdue",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Reminder,
    Escalation,
}

/// One dated rung of a ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDate {
    pub date: NaiveDate,
    pub to: Role,
    pub kind: StepKind,
    /// Position of the rung in its ladder.
    pub step: usize,
    /// 0 for the first sending, 1… for repeats.
    pub occurrence: u32,
    pub urgent: bool,
}

/// A clock's deadline as it stands at `now`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    pub clock: ClockId,
    pub anchor: NaiveDate,
    /// The due date before any extension.
    pub base_due: NaiveDate,
    /// The due date in force.
    pub due: NaiveDate,
    pub steps: Vec<StepDate>,
    pub status: DeadlineStatus,
    /// Some day between anchor and due lies in a year without published bank holidays.
    pub beyond_published_calendar: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("cannot find a due date for {0}: its schedule has no occurrence after {1}")]
    NoOccurrence(ClockId, NaiveDate),
    #[error("cannot find a due date for {0}: {1} is out of range")]
    OutOfRange(ClockId, NaiveDate),
}

/// Repeats of an escalation listed at most this many times.
const MAX_REPEATS: u32 = 500;

/// The due date of a clock started (or anchored) on `anchor`, before extensions.
pub fn due_date(def: &ClockDef, anchor: NaiveDate, calendar: &Calendar) -> Result<NaiveDate, DeadlineError> {
    let as_days = |n: u32| i32::try_from(n).map_err(|_| DeadlineError::OutOfRange(def.id, anchor));
    match &def.due {
        DueRule::WorkingDaysAfter(n) => Ok(calendar.add_working_days(anchor, as_days(*n)?)),
        DueRule::WorkingDaysBefore(n) => Ok(calendar.add_working_days(anchor, -as_days(*n)?)),
        DueRule::CalendarMonths(n) => add_months(anchor, as_days(*n)?).ok_or(DeadlineError::OutOfRange(def.id, anchor)),
        DueRule::NextScheduled(schedule) => {
            schedule.next_date_after(anchor).ok_or(DeadlineError::NoOccurrence(def.id, anchor))
        }
    }
}

/// The deadline of a clock: its due date (the last approved extension wins), the dates
/// of its reminders and escalations, and its status on `now`'s London date.
pub fn deadline(
    def: &ClockDef,
    anchor: NaiveDate,
    extensions: &[NaiveDate],
    now: DateTime<Utc>,
    calendar: &Calendar,
) -> Result<Deadline, DeadlineError> {
    let today = london_date(&now);
    let base_due = due_date(def, anchor, calendar)?;
    let due = extensions.last().copied().unwrap_or(base_due);
    let mut steps = Vec::new();
    for (kind, ladder) in [(StepKind::Reminder, &def.reminders), (StepKind::Escalation, &def.escalations)] {
        for (index, step) in ladder.iter().enumerate() {
            steps.extend(step_dates(step, kind, index, due, today, calendar));
        }
    }
    steps.sort_by_key(|s| (s.date, s.kind as u8, s.step));
    let status = status_on(def, due, today, calendar);
    Ok(Deadline {
        clock: def.id,
        anchor,
        base_due,
        due,
        steps,
        status,
        beyond_published_calendar: calendar.runs_beyond_published(anchor, due),
    })
}

/// A deadline's status on `today`: overdue, due today, due soon (within the clock's
/// `amber_within` working days) or on track.
pub fn status_on(def: &ClockDef, due: NaiveDate, today: NaiveDate, calendar: &Calendar) -> DeadlineStatus {
    let amber_from = calendar.add_working_days(due, -i32::try_from(def.amber_within).unwrap_or(i32::MAX));
    if today > due {
        DeadlineStatus::Overdue
    } else if today == due {
        DeadlineStatus::DueToday
    } else if today >= amber_from {
        DeadlineStatus::DueSoon
    } else {
        DeadlineStatus::OnTrack
    }
}

/// The dates of one rung: its first sending and, for a repeating rung, every repeat up
/// to today plus the next one.
fn step_dates(
    step: &Step,
    kind: StepKind,
    index: usize,
    due: NaiveDate,
    today: NaiveDate,
    calendar: &Calendar,
) -> Vec<StepDate> {
    let dated = |occurrence: u32, offset: WorkingDays| StepDate {
        date: calendar.add_working_days(due, offset),
        to: step.to,
        kind,
        step: index,
        occurrence,
        urgent: step.urgent,
    };
    let mut out = vec![dated(0, step.at)];
    if let Some(every) = step.every.filter(|e| *e > 0).and_then(|e| i32::try_from(e).ok()) {
        let mut offset = step.at;
        for occurrence in 1..=MAX_REPEATS {
            if out.last().is_some_and(|last| last.date > today) {
                break;
            }
            offset = offset.saturating_add(every);
            out.push(dated(occurrence, offset));
        }
    }
    out
}
