//! The statutory pattern of England and Wales bank holidays, for years the government
//! has not yet published: Easter by the Gregorian computus, the fixed Mondays, and
//! substitute days as the government applies them. One-off days cannot be foreseen.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// One rule-derived holiday: `(date, title, substitute day)`.
pub(super) type RuleHoliday = (NaiveDate, &'static str, bool);

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The bank holidays of `year` by the statutory pattern, in date order.
pub(super) fn holidays_by_rule(year: i32) -> Vec<RuleHoliday> {
    let mut out = Vec::with_capacity(8);
    let (Some(new_year), Some(easter), Some(christmas)) =
        (NaiveDate::from_ymd_opt(year, 1, 1), easter_sunday(year), NaiveDate::from_ymd_opt(year, 12, 25))
    else {
        return out;
    };
    match new_year.weekday() {
        Weekday::Sat => out.push((new_year + Duration::days(2), "New Year’s Day", true)),
        Weekday::Sun => out.push((new_year + Duration::days(1), "New Year’s Day", true)),
        _ => out.push((new_year, "New Year’s Day", false)),
    }
    out.push((easter - Duration::days(2), "Good Friday", false));
    out.push((easter + Duration::days(1), "Easter Monday", false));
    if let Some(day) = NaiveDate::from_weekday_of_month_opt(year, 5, Weekday::Mon, 1) {
        out.push((day, "Early May bank holiday", false));
    }
    if let Some(day) = last_monday(year, 5) {
        out.push((day, "Spring bank holiday", false));
    }
    if let Some(day) = last_monday(year, 8) {
        out.push((day, "Summer bank holiday", false));
    }
    let boxing = christmas + Duration::days(1);
    match christmas.weekday() {
        // Boxing Day falls on Saturday: it moves to Monday 28th.
        Weekday::Fri => {
            out.push((christmas, "Christmas Day", false));
            out.push((christmas + Duration::days(3), "Boxing Day", true));
        }
        // Both fall at the weekend: Monday and Tuesday.
        Weekday::Sat => {
            out.push((christmas + Duration::days(2), "Christmas Day", true));
            out.push((christmas + Duration::days(3), "Boxing Day", true));
        }
        // Boxing Day keeps its Monday; Christmas Day moves to the Tuesday.
        Weekday::Sun => {
            out.push((boxing, "Boxing Day", false));
            out.push((christmas + Duration::days(2), "Christmas Day", true));
        }
        _ => {
            out.push((christmas, "Christmas Day", false));
            out.push((boxing, "Boxing Day", false));
        }
    }
    out
}

fn last_monday(year: i32, month: u32) -> Option<NaiveDate> {
    let last = NaiveDate::from_ymd_opt(year, month, crate::domain::dates::days_in_month(year, month)?)?;
    let back = i64::from(last.weekday().num_days_from_monday());
    Some(last - Duration::days(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_matches_known_years() {
        for (year, month, day) in
            [(2018, 4, 1), (2019, 4, 21), (2024, 3, 31), (2027, 3, 28), (2028, 4, 16), (2038, 4, 25), (2285, 3, 22)]
        {
            assert_eq!(easter_sunday(year), NaiveDate::from_ymd_opt(year, month, day), "{year}");
        }
    }

    #[test]
    fn christmas_on_a_saturday_moves_both_days() {
        let days: Vec<_> = holidays_by_rule(2032).into_iter().filter(|h| h.0.month() == 12).collect();
        let d = |m, dd| NaiveDate::from_ymd_opt(2032, m, dd).unwrap();
        assert_eq!(days, vec![(d(12, 27), "Christmas Day", true), (d(12, 28), "Boxing Day", true)]);
    }
}
