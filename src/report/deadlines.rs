//! Open deadlines: every running clock of every open case, soonest first, and the same
//! as an RFC 5545 calendar that staff can subscribe to.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::Config;
use crate::domain::case::CaseState;
use crate::domain::clock::deadline;

/// One open deadline.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeadlineRow {
    pub case: String,
    pub clock: String,
    pub title: String,
    pub due: NaiveDate,
    pub status: String,
}

/// Running clocks due within `days` of `now` (overdue ones included), soonest first.
pub fn deadlines(cases: &[CaseState], config: &Config, now: DateTime<Utc>, days: i64) -> Vec<DeadlineRow> {
    let horizon = crate::domain::london_date(&now) + Duration::days(days);
    let mut rows: Vec<DeadlineRow> = cases
        .iter()
        .filter(|c| !c.is_closed())
        .flat_map(|case| {
            case.clocks.iter().filter(|c| c.is_running() && c.due_in_force() <= horizon).filter_map(move |c| {
                let def = config.clock(c.clock)?;
                let status = deadline(def, c.started, &c.extensions, now, &config.calendar)
                    .map(|d| d.status.as_str().to_owned())
                    .ok()?;
                Some(DeadlineRow {
                    case: case.reference.to_string(),
                    clock: c.clock.to_string(),
                    title: def.title.clone(),
                    due: c.due_in_force(),
                    status,
                })
            })
        })
        .collect();
    rows.sort_by(|a, b| (a.due, &a.case, &a.clock).cmp(&(b.due, &b.case, &b.clock)));
    rows
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace('\n', "\\n")
}

/// An iCalendar feed: one all-day event per deadline.
pub fn ics(rows: &[DeadlineRow], config: &Config, now: DateTime<Utc>) -> String {
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cspr//deadlines//EN\r\nCALSCALE:GREGORIAN\r\n");
    out.push_str(&format!("X-WR-CALNAME:{} deadlines\r\n", escape(&config.partnership.short_name)));
    let stamp = now.format("%Y%m%dT%H%M%SZ");
    for row in rows {
        out.push_str("BEGIN:VEVENT\r\n");
        out.push_str(&format!(
            "UID:{}.{}.{}@{}\r\n",
            row.case, row.clock, row.due, config.intake.own_message_id_domain
        ));
        out.push_str(&format!("DTSTAMP:{stamp}\r\n"));
        out.push_str(&format!("DTSTART;VALUE=DATE:{}\r\n", row.due.format("%Y%m%d")));
        out.push_str(&format!("DTEND;VALUE=DATE:{}\r\n", (row.due + Duration::days(1)).format("%Y%m%d")));
        out.push_str(&format!("SUMMARY:{}\r\n", escape(&format!("[{}] {} {} due", row.case, row.clock, row.title))));
        out.push_str("END:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}
