//! Dates as people and mail clients write them: UK calendar dates in fields
//! (20/11/2026, 20 November 2026, Friday 20 Nov 2026, 2026-11-20) and the date lines of
//! forwarded header blocks, with or without a zone (no zone means London time).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    if w == "sept" {
        return Some(9);
    }
    MONTHS.iter().position(|long| w == *long || (w.len() == 3 && long.starts_with(w.as_str()))).map(|i| i as u32 + 1)
}

fn is_weekday(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    [
        "mon",
        "tue",
        "tues",
        "wed",
        "thu",
        "thur",
        "thurs",
        "fri",
        "sat",
        "sun",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .contains(&w.as_str())
}

fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..].to_ascii_lowercase();
    if !(suffix.is_empty() || ["st", "nd", "rd", "th"].contains(&suffix.as_str())) {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| t.trim_matches(|c: char| c == '.' || c == '(' || c == ')'))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Finds a calendar date in `text`, UK order for numeric dates.
pub fn parse_uk_date(text: &str) -> Option<NaiveDate> {
    let toks = tokens(text);
    date_in(&toks).map(|(d, _)| d)
}

/// The date and the index of the token after it.
fn date_in(toks: &[String]) -> Option<(NaiveDate, usize)> {
    for (i, tok) in toks.iter().enumerate() {
        // ISO
        if let Ok(d) = NaiveDate::parse_from_str(tok, "%Y-%m-%d") {
            return Some((d, i + 1));
        }
        // dd/mm/yyyy or dd.mm.yyyy or dd-mm-yyyy
        let parts: Vec<&str> = tok.split(['/', '-', '.']).collect();
        if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())) {
            let (d, m, y) =
                (parts[0].parse::<u32>().ok()?, parts[1].parse::<u32>().ok()?, parts[2].parse::<i32>().ok()?);
            let y = if parts[2].len() == 2 { 2000 + y } else { y };
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                return Some((date, i + 1));
            }
        }
        // 20 November 2026
        if let (Some(d), Some(m), Some(y)) = (
            day_number(tok),
            toks.get(i + 1).and_then(|t| month_of(t)),
            toks.get(i + 2).and_then(|t| t.parse::<i32>().ok()),
        ) && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
        {
            return Some((date, i + 3));
        }
        // November 20 2026
        if let (Some(m), Some(d), Some(y)) = (
            month_of(tok),
            toks.get(i + 1).and_then(|t| day_number(t)),
            toks.get(i + 2).and_then(|t| t.parse::<i32>().ok()),
        ) && let Some(date) = NaiveDate::from_ymd_opt(y, m, d)
        {
            return Some((date, i + 3));
        }
        if !is_weekday(tok) && tok.len() > 12 {
            continue;
        }
    }
    None
}

/// The weekday a word names (Monday = 0), if it names one.
fn weekday_of(word: &str) -> Option<u32> {
    let w = word.to_ascii_lowercase();
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    full.iter()
        .position(|d| *d == w)
        .or_else(|| days.iter().position(|d| w.starts_with(d) && w.len() <= 5))
        .map(|i| i as u32)
}

/// A date as written in a sentence or a field, read against the day the text was
/// written on (`written_on`, from its own `Date:`): a full date; "today", "this
/// morning", "yesterday", "last night"; a day and month without the year ("Monday 30th
/// November": the latest such date not after the writing, and the weekday, if given,
/// must agree); a weekday alone ("on Friday": the latest before the writing). Without
/// `written_on` only a full date is read.
pub fn parse_written_date(text: &str, written_on: Option<NaiveDate>) -> Option<NaiveDate> {
    read_written_date(text, written_on).map(|(date, _)| date)
}

/// As `parse_written_date`, and whether the date is provisional: its year, or which
/// week, had to be inferred ("30 November", "on Friday"), so a person should confirm it.
pub fn read_written_date(text: &str, written_on: Option<NaiveDate>) -> Option<(NaiveDate, bool)> {
    use chrono::Datelike;
    // "TBC – the EDT log says Saturday, MASH says Monday", "not yet submitted – by
    // Friday": the writer says the date is not known, whatever days the value names.
    let opening = text.trim_start_matches(|c: char| !c.is_alphanumeric()).to_ascii_lowercase();
    let unknown =
        ["tbc", "tba", "tbd", "to be confirmed", "unknown", "not known", "not yet", "pending", "awaiting", "n/a"];
    if unknown.iter().any(|u| opening.starts_with(u) && !opening[u.len()..].starts_with(char::is_alphanumeric)) {
        return None;
    }
    if let Some(date) = parse_uk_date(text) {
        return Some((date, false));
    }
    let on = written_on?;
    let toks: Vec<String> = tokens(text)
        .into_iter()
        .map(|t| t.trim_matches(|c: char| !c.is_alphanumeric()).to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let lower: Vec<String> = toks.iter().map(|t| t.to_ascii_lowercase()).collect();
    for (i, word) in lower.iter().enumerate() {
        let next = lower.get(i + 1).map(String::as_str).unwrap_or_default();
        match word.as_str() {
            "today" | "tonight" => return Some((on, false)),
            "this" if ["morning", "afternoon", "evening"].contains(&next) => return Some((on, false)),
            "yesterday" => return on.pred_opt().map(|d| (d, false)),
            "last" if next == "night" => return on.pred_opt().map(|d| (d, false)),
            _ => {}
        }
        // 30th November, 30 Nov (with or without a weekday before it)
        if let (Some(d), Some(m)) = (day_number(&toks[i]), lower.get(i + 1).and_then(|t| month_of(t))) {
            let weekday = i.checked_sub(1).and_then(|j| weekday_of(&lower[j]));
            // A weekday that agrees settles the year; without one it is inferred.
            return latest_on_or_before(on, m, d)
                .filter(|date| weekday.is_none_or(|w| date.weekday().num_days_from_monday() == w))
                .map(|date| (date, weekday.is_none()));
        }
        if let (Some(m), Some(d)) = (month_of(word), lower.get(i + 1).and_then(|t| day_number(t))) {
            return latest_on_or_before(on, m, d).map(|date| (date, true));
        }
    }
    // A weekday alone: the latest such day before the writing.
    let weekday = lower.iter().find_map(|w| weekday_of(w))?;
    (1..=7)
        .filter_map(|back| on.checked_sub_days(chrono::Days::new(back)))
        .find(|d| d.weekday().num_days_from_monday() == weekday)
        .map(|date| (date, true))
}

/// The latest `day` of `month` on or before `on` (this year or last).
fn latest_on_or_before(on: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    use chrono::Datelike;
    [on.year(), on.year() - 1].into_iter().filter_map(|y| NaiveDate::from_ymd_opt(y, month, day)).find(|d| *d <= on)
}

fn parse_time(toks: &[String]) -> (Option<NaiveTime>, usize) {
    for (i, tok) in toks.iter().enumerate().take(4) {
        let lower = tok.to_ascii_lowercase();
        let (clock, inline_meridiem) = if let Some(c) = lower.strip_suffix("pm") {
            (c.to_owned(), Some(true))
        } else if let Some(c) = lower.strip_suffix("am") {
            (c.to_owned(), Some(false))
        } else {
            (lower.clone(), None)
        };
        let parts: Vec<&str> = clock.split(':').collect();
        if !(2..=3).contains(&parts.len())
            || !parts.iter().all(|p| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit()))
        {
            continue;
        }
        let mut h: u32 = parts[0].parse().unwrap_or(99);
        let m: u32 = parts[1].parse().unwrap_or(99);
        let s: u32 = parts.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
        let mut used = i + 1;
        let meridiem = inline_meridiem.or_else(|| match toks.get(i + 1).map(|t| t.to_ascii_lowercase()) {
            Some(t) if t == "pm" || t == "p.m" => {
                used += 1;
                Some(true)
            }
            Some(t) if t == "am" || t == "a.m" => {
                used += 1;
                Some(false)
            }
            _ => None,
        });
        match meridiem {
            Some(true) if h < 12 => h += 12,
            Some(false) if h == 12 => h = 0,
            _ => {}
        }
        return (NaiveTime::from_hms_opt(h, m, s), used);
    }
    (None, 0)
}

fn parse_zone(toks: &[String]) -> Option<FixedOffset> {
    for tok in toks.iter().take(3) {
        let upper = tok.to_ascii_uppercase();
        let named = match upper.as_str() {
            "GMT" | "UTC" | "UT" | "Z" => Some(0),
            "BST" => Some(3600),
            "CET" => Some(3600),
            "CEST" => Some(7200),
            "EST" => Some(-5 * 3600),
            "EDT" => Some(-4 * 3600),
            "CST" => Some(-6 * 3600),
            "PST" => Some(-8 * 3600),
            "PDT" => Some(-7 * 3600),
            _ => None,
        };
        if let Some(secs) = named {
            return FixedOffset::east_opt(secs);
        }
        let numeric = upper.strip_prefix("GMT").or_else(|| upper.strip_prefix("UTC")).unwrap_or(&upper);
        let (sign, digits) = match numeric.as_bytes().first() {
            Some(b'+') => (1, &numeric[1..]),
            Some(b'-') => (-1, &numeric[1..]),
            _ => continue,
        };
        let digits = digits.replace(':', "");
        if digits.is_empty() || digits.len() > 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let (h, m) = if digits.len() <= 2 {
            (digits.parse::<i32>().ok()?, 0)
        } else {
            let split = digits.len() - 2;
            (digits[..split].parse::<i32>().ok()?, digits[split..].parse::<i32>().ok()?)
        };
        return FixedOffset::east_opt(sign * (h * 3600 + m * 60));
    }
    None
}

/// Reads a date line of a forwarded header block ("Friday, November 20, 2026 10:15 AM",
/// "Fri, 20 Nov 2026 at 10:15", "20 November 2026 at 10:15:32 GMT", RFC 2822 …).
/// Without a zone the time is London time. `None` when no date can be read.
pub fn parse_loose_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(rfc) = DateTime::parse_from_rfc2822(text.trim()) {
        return Some(rfc.with_timezone(&Utc));
    }
    if let Ok(rfc) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(rfc.with_timezone(&Utc));
    }
    let toks: Vec<String> = tokens(text).into_iter().filter(|t| !t.eq_ignore_ascii_case("at")).collect();
    let (date, next) = date_in(&toks)?;
    let rest = &toks[next..];
    let (time, used) = parse_time(rest);
    let local = NaiveDateTime::new(date, time.unwrap_or(NaiveTime::MIN));
    match parse_zone(&rest[used..]) {
        Some(zone) => zone.from_local_datetime(&local).single().map(|t| t.with_timezone(&Utc)),
        None => London.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn reads_uk_date_forms() {
        let expected = NaiveDate::from_ymd_opt(2026, 11, 20);
        for text in [
            "20/11/2026",
            "20 November 2026",
            "20 Nov 2026",
            "Friday 20 November 2026",
            "2026-11-20",
            "20th November 2026",
            "on 20.11.2026.",
        ] {
            assert_eq!(parse_uk_date(text), expected, "{text}");
        }
        assert_eq!(parse_uk_date("31/02/2026"), None);
        assert_eq!(parse_uk_date("no date here"), None);
    }

    #[test]
    fn reads_dates_against_the_day_they_were_written() {
        let on = NaiveDate::from_ymd_opt(2026, 12, 2); // a Wednesday
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        for (text, expected) in [
            ("today", on),
            ("this morning", on),
            ("yesterday", date(2026, 12, 1)),
            ("last night (via EDT)", date(2026, 12, 1)),
            ("Monday 30th November", date(2026, 11, 30)),
            ("30 Nov", date(2026, 11, 30)),
            ("on Friday", date(2026, 11, 27)),
            ("28 December", date(2025, 12, 28)),
            ("Tuesday 30th November", None),
            ("01/12/2026", date(2026, 12, 1)),
            ("TBC – EDT log says Saturday night, the MASH record says Monday", None),
            ("not yet submitted – will be done by Friday at the latest", None),
            ("Unknown (30/11/2026 per police?)", None),
            ("Tbc", None),
        ] {
            assert_eq!(parse_written_date(text, on), expected, "{text}");
        }
        assert_eq!(parse_written_date("yesterday", None), None, "no reference point, no date");
        assert_eq!(read_written_date("yesterday", on).map(|(_, p)| p), Some(false));
        assert_eq!(read_written_date("Monday 30th November", on).map(|(_, p)| p), Some(false), "the weekday agrees");
        assert_eq!(read_written_date("30 Nov", on).map(|(_, p)| p), Some(true), "the year is inferred");
        assert_eq!(read_written_date("on Friday", on).map(|(_, p)| p), Some(true), "which Friday is inferred");
    }

    #[test]
    fn reads_forwarded_date_lines() {
        assert_eq!(parse_loose_datetime("Friday, November 20, 2026 10:15 AM"), utc("2026-11-20T10:15:00Z"));
        assert_eq!(parse_loose_datetime("Fri, 20 Nov 2026 at 10:15"), utc("2026-11-20T10:15:00Z"));
        assert_eq!(parse_loose_datetime("Fri, 20 Nov 2026 10:15:32 +0000"), utc("2026-11-20T10:15:32Z"));
        assert_eq!(parse_loose_datetime("20 June 2026 at 10:15:32 BST"), utc("2026-06-20T09:15:32Z"));
        assert_eq!(parse_loose_datetime("Thursday, 28 October 2021 at 12:46"), utc("2021-10-28T11:46:00Z"));
        assert_eq!(parse_loose_datetime("Monday, September 19, 2022, 5:55:44 PM -0400"), utc("2022-09-19T21:55:44Z"));
        assert_eq!(parse_loose_datetime("Tuesday, November 2, 2021, 09:26:50 AM GMT+1"), utc("2021-11-02T08:26:50Z"));
        assert_eq!(parse_loose_datetime("gibberish"), None);
    }
}
