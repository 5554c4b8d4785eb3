//! `cspr calendar …`: bank holidays, working-day and month arithmetic, London dates,
//! and importing the government's bank-holidays file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::DateTime;
use clap::Subcommand;

use super::{CliError, write_failed};
use crate::config::Config;
use crate::domain::calendar::govuk;
use crate::domain::{add_months, london_date, parse_iso_date};

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Lists the bank holidays (and local non-working days) of a year: `DATE<TAB>title`.
    Holidays {
        #[arg(long, value_name = "YYYY")]
        year: String,
    },
    /// Adds N working days to a date (N negative counts back; the date itself is not counted).
    AddWorkingDays {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(value_name = "N", allow_negative_numbers = true)]
        n: String,
    },
    /// Adds N calendar months, clamped to the month's last day.
    AddMonths {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
        #[arg(value_name = "N", allow_negative_numbers = true)]
        n: String,
    },
    /// Prints `yes` or `no`.
    IsWorkingDay {
        #[arg(value_name = "YYYY-MM-DD")]
        date: String,
    },
    /// Prints the Europe/London date of an RFC 3339 timestamp.
    LondonDate {
        #[arg(value_name = "TIMESTAMP")]
        timestamp: String,
    },
    /// Reads the government's bank-holidays.json and writes the England and Wales data
    /// file that `calendar.holidays_file` can point at.
    ImportGovuk {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn date(text: &str) -> Result<chrono::NaiveDate, CliError> {
    parse_iso_date(text).map_err(|e| CliError::Usage(e.to_string()))
}

fn count(text: &str) -> Result<i32, CliError> {
    text.trim().parse::<i32>().ok().filter(|n| n.unsigned_abs() <= 100_000).ok_or_else(|| {
        CliError::Usage(format!(
            "'{text}' is not a number of days or months (expected a whole number from -100000 to 100000)"
        ))
    })
}

pub fn run(command: CalendarCommand, config: &Config, out: &mut dyn Write) -> Result<(), CliError> {
    let calendar = &config.calendar;
    let text = match command {
        CalendarCommand::Holidays { year } => {
            let year: i32 = year
                .trim()
                .parse()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(|| CliError::Usage(format!("'{year}' is not a year (expected YYYY)")))?;
            calendar.holidays_in_year(year).iter().map(|h| format!("{}\t{}\n", h.date, h.label())).collect()
        }
        CalendarCommand::AddWorkingDays { date: d, n } => {
            format!("{}\n", calendar.add_working_days(date(&d)?, count(&n)?))
        }
        CalendarCommand::AddMonths { date: d, n } => {
            let (from, n) = (date(&d)?, count(&n)?);
            let to = add_months(from, n)
                .ok_or_else(|| CliError::Usage(format!("{from} plus {n} months is out of range")))?;
            format!("{to}\n")
        }
        CalendarCommand::IsWorkingDay { date: d } => {
            format!("{}\n", if calendar.is_working_day(date(&d)?) { "yes" } else { "no" })
        }
        CalendarCommand::LondonDate { timestamp } => {
            let at = DateTime::parse_from_rfc3339(timestamp.trim())
                .map_err(|_| CliError::Usage(format!("'{timestamp}' is not a timestamp (expected RFC 3339)")))?;
            format!("{}\n", london_date(&at))
        }
        CalendarCommand::ImportGovuk { file, out: target } => import(&file, &target)?,
    };
    out.write_all(text.as_bytes()).map_err(write_failed)
}

fn import(file: &PathBuf, target: &PathBuf) -> Result<String, CliError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let holidays = govuk::parse(&text).map_err(|e| CliError::Usage(e.to_string()))?;
    std::fs::write(target, govuk::write(&holidays)).with_context(|| format!("cannot write {}", target.display()))?;
    let first = holidays.first().map(|h| h.date.format("%Y").to_string()).unwrap_or_default();
    let last = holidays.last().map(|h| h.date.format("%Y").to_string()).unwrap_or_default();
    Ok(format!(
        "imported {} bank holidays for {first}–{last} into {}; set calendar.holidays_file to use them\n",
        holidays.len(),
        target.display()
    ))
}
