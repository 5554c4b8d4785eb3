//! The clocks in a partnership's annual report: for each clock, how many fell due in
//! the year, were met on time, late (and by how many working days in all), and are
//! still open.

use crate::config::Config;
use crate::domain::case::{CaseState, ClockStatus};
use crate::domain::clock::ClockId;

/// One clock's year.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClockYear {
    pub clock: String,
    pub title: String,
    pub due: usize,
    pub on_time: usize,
    pub late: usize,
    /// Working days late, added up over the late ones.
    pub late_working_days: i64,
    pub open: usize,
    pub stopped: usize,
}

/// Counts every clock instance whose due date (in force) falls in `year`.
pub fn annual(cases: &[CaseState], config: &Config, year: i32) -> Vec<ClockYear> {
    ClockId::ALL
        .iter()
        .map(|&id| {
            let mut row = ClockYear {
                clock: id.to_string(),
                title: config.clock(id).map(|d| d.title.clone()).unwrap_or_default(),
                ..ClockYear::default()
            };
            for c in cases.iter().flat_map(|case| case.clocks.iter()).filter(|c| c.clock == id) {
                let due = c.due_in_force();
                if chrono::Datelike::year(&due) != year {
                    continue;
                }
                row.due += 1;
                match c.status {
                    ClockStatus::Met => row.on_time += 1,
                    ClockStatus::MetLate => {
                        row.late += 1;
                        if let Some(done) = c.closed_on {
                            row.late_working_days += config.calendar.working_days_between(due, done);
                        }
                    }
                    ClockStatus::Running => row.open += 1,
                    ClockStatus::Stopped => row.stopped += 1,
                }
            }
            row
        })
        .collect()
}
