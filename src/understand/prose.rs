//! Notification fields written in sentences, not after labels: "Newham became aware on
//! Monday 30th November", "the notification was submitted to the Panel yesterday", "a
//! 15-year-old girl looked after by Newham", "we do not suspect abuse or neglect".
//! Read only where no label gave the field, only from the letter itself (above the
//! sign-off), and with relative dates against the day the original was written.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use crate::domain::message::NotificationFields;
use crate::domain::read_written_date;

fn re(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

static SIGN_OFF: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?im)^\s*(?:(?:kind|best|warm|warmest|many|with best)\s+)?(?:regards|wishes|thanks|thank you)\b[^\n]{0,20}$|^\s*(?:thanks|cheers|yours (?:sincerely|faithfully))\b[,.!]?\s*$",
    )
});
static AWARE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(?i)\b(?:became|become|been made|was made|were made|first made) aware\b(.{0,70})",
        r"(?i)\b(?:we|i|the la|the local authority|the council|[a-z]+ (?:council|csc)) (?:were|was) (?:first )?(?:informed|notified|told|alerted)\b(.{0,70})",
        r"(?i)\bcame to (?:our|the la's|the local authority's) (?:attention|notice)\b(.{0,70})",
    ]
    .iter()
    .filter_map(|p| re(p))
    .collect()
});
const PANEL: &str = r"(?:national )?(?:child safeguarding practice review )?panel";
static NOTIFIED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        format!(r"(?i)((?:\S+\s+){{0,3}})\b(?:notified|informed|notify) the {PANEL}\b(.{{0,60}})"),
        format!(r"(?i)((?:\S+\s+){{0,3}})\b{PANEL} (?:was|were|has been|have been) (?:notified|informed)\b(.{{0,60}})"),
        format!(
            r"(?i)((?:\S+\s+){{0,3}})\b(?:notification|form|it) (?:was|has been|were) (?:submitted|made|sent|completed)(?: online)?(?: (?:to|with) the {PANEL})?\b(.{{0,60}})"
        ),
        r"(?i)()\b(?:notification|it) (?:went|has gone|was sent|was submitted|was made)(?: in| off| through)?\b(.{0,40})".to_owned(),
        r"(?i)((?:\S+\s+){0,3})\b(?:submitted|made|sent|completed) (?:a |the |our |this |your )?(?:serious incident |safeguarding incident |child safeguarding incident )?notification\b(.{0,60})".to_owned(),
        format!(r"(?i)((?:\S+\s+){{0,3}})\b(?:notification|notified|it) (?:\w+ ){{0,2}}(?:to|with) the {PANEL}\b(.{{0,40}})"),
    ]
    .iter()
    .filter_map(|p| re(p))
    .collect()
});
/// The notification service's own confirmation: notified the day it was written.
static CONFIRMATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\byour notification has been (?:sent|submitted|received)|\bwe have sent your notification\b|\bthank you for notifying us\b",
    )
});
static LOOKED_AFTER_NOT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:not|never) (?:been )?(?:a )?(?:looked[- ]after|in care|cla|lac)\b|\bwas not looked after\b|\b(?:neither|none) (?:of (?:the|them) ?)?(?:[\w-]+ )?(?:was|were|is|are|has been|have been) (?:ever )?(?:a )?(?:looked[- ]after|in care)\b|\bleft (?:[\w'’]+ ){0,3}care\b",
    )
});
static LOOKED_AFTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:looked[- ]after (?:child|young person|by)|a looked[- ]after|(?:is|was) looked[- ]after|cla\b|lac\b|in (?:our|the local authority's|local authority) care|accommodated under (?:s\.?|section )\s?20|subject to an? (?:full |interim )?care order|in foster care|with (?:\w+ )?foster carers)",
    )
});
static ABUSE_NOT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:do|does|did) not suspect (?:abuse|neglect)|\bno (?:suspicion|concerns?|indication|evidence) (?:of|that|about) (?:abuse|neglect)|\b(?:abuse|neglect)(?: or (?:abuse|neglect))? (?:is|was|are|were) not (?:suspected|thought|believed)|\bnot (?:suspected|believed|thought) to (?:be|have been|involve) (?:abuse|neglect)",
    )
});
static ABUSE_UNKNOWN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:not (?:yet )?known|unclear|too early to say|not yet clear|cannot yet say|unable to say|not able to say) (?:whether|if) (?:abuse|neglect|there)",
    )
});
static ABUSE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:abuse|neglect|maltreatment)\b[^.]{0,30}\b(?:is|are|was|were|being) (?:suspected|known|alleged|believed|thought)|\bsuspected (?:abuse|neglect|non-accidental)|\bnon-accidental|\bconcerns? (?:of|about|regarding) (?:abuse|neglect)|\b(?:sexual|physical|emotional) abuse\b|\bsexual exploitation\b",
    )
});
static SEVERAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(both|two|three|four|five|six|2|3|4|5|6) (?:[\w-]+ )?(?:siblings|children|brothers|sisters|young people|boys|girls)\b",
    )
});
static ONE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:a|an|one)\s+(?:[\w-]+\s+){0,3}(?:child|boy|girl|baby|infant|toddler|young person)\b|\b(?:a|an|one) (?:\d{1,2}[- ](?:year|month|week|day)s?[- ]old|baby|infant|toddler|newborn|child|boy|girl|young person|teenager|teenage (?:boy|girl)|young (?:man|woman))\b|\bthe (?:child|baby|infant|young person)\b|\b(?:baby|infant|toddler)\b|\bdeath of (?:a |the )?(?:care leaver|young person|looked[- ]after child)\b|\b(?:a|one)\s+(?:[\w-]+\s+){0,2}care leaver\b|\b(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)-(?:year|month|week|day)-old\b",
    )
});

static OUR_REF: LazyLock<Option<Regex>> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:our|internal|la|local authority)(?: internal| case)? ref(?:erence)?(?: number| no\.?)?(?: is| remains| was|:)?\s+([A-Z][A-Z0-9]*[/-][A-Z0-9/-]*\d[A-Z0-9/-]*)",
    )
});

fn hit(regex: &LazyLock<Option<Regex>>, text: &str) -> bool {
    regex.as_ref().is_some_and(|r| r.is_match(text))
}

/// The letter: the text above its sign-off, on one line.
fn letter(text: &str) -> String {
    let end = SIGN_OFF.as_ref().and_then(|r| r.find(text)).map_or(text.len(), |m| m.start());
    text[..end].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A date written after a phrase (or, for "today", just before it).
fn date_near(patterns: &[Regex], text: &str, written_on: Option<NaiveDate>) -> Option<(NaiveDate, bool)> {
    patterns.iter().flat_map(|p| p.captures_iter(text)).find_map(|c| {
        let after = c.get(c.len() - 1).map_or("", |m| m.as_str());
        // Only up to the end of the sentence: "... on Friday. The strategy meeting..."
        let after = after.split(". ").next().unwrap_or(after);
        read_written_date(after, written_on).or_else(|| {
            let before = if c.len() > 2 { c.get(1).map_or("", |m| m.as_str()).to_lowercase() } else { String::new() };
            let relative = ["today", "this morning", "this afternoon", "yesterday"];
            relative.iter().any(|w| before.contains(w)).then(|| read_written_date(&before, written_on)).flatten()
        })
    })
}

/// "Child: …" or "Child 2 - …" at the start of a line: one entry per child.
static CHILD_LINE: LazyLock<Option<Regex>> =
    LazyLock::new(|| re(r"(?im)^[>\s]*child(?:\s*(\d{1,2}))?\s*(?::|\s[-–])\s*\S"));

fn children(letter: &str, text: &str) -> Option<u32> {
    let entries = CHILD_LINE.as_ref().map_or(0, |r| {
        r.captures_iter(text).map(|c| c.get(1).and_then(|n| n.as_str().parse().ok()).unwrap_or(1)).max().unwrap_or(0)
    });
    if entries > 0 {
        return Some(entries);
    }
    let lower = letter.to_lowercase();
    if lower.contains("twins") {
        return Some(2);
    }
    if lower.contains("triplets") {
        return Some(3);
    }
    if let Some(c) = SEVERAL.as_ref().and_then(|r| r.captures(letter)) {
        let word = c.get(1)?.as_str().to_lowercase();
        let words = ["two", "three", "four", "five", "six"];
        let word = if word == "both" { "two".to_owned() } else { word };
        return word.parse().ok().or_else(|| words.iter().position(|w| *w == word).map(|i| i as u32 + 2));
    }
    hit(&ONE, letter).then_some(1)
}

/// Fills the blanks of `f` from the sentences of `text` (and `subject`).
pub fn read(text: &str, subject: Option<&str>, written_on: Option<NaiveDate>, f: &mut NotificationFields) {
    let letter = letter(text);
    if f.aware_date.is_none() {
        f.aware_date =
            super::provenance::dated(date_near(&AWARE, &letter, written_on), "aware_date", &mut f.provisional);
    }
    if f.notified_date.is_none() && hit(&CONFIRMATION, &letter) {
        f.notified_date = written_on;
    }
    if f.notified_date.is_none() {
        let read = date_near(&NOTIFIED, &letter, written_on)
            .or_else(|| subject.and_then(|s| date_near(&NOTIFIED, s, written_on)));
        f.notified_date = super::provenance::dated(read, "notified_date", &mut f.provisional);
    }
    if f.looked_after.is_none() {
        if hit(&LOOKED_AFTER_NOT, &letter) {
            f.looked_after = Some(false);
        } else if hit(&LOOKED_AFTER, &letter) {
            f.looked_after = Some(true);
        }
    }
    if f.abuse_or_neglect_suspected.is_none() && !hit(&ABUSE_UNKNOWN, &letter) {
        if hit(&ABUSE_NOT, &letter) {
            f.abuse_or_neglect_suspected = Some(false);
        } else if hit(&ABUSE, &letter) {
            f.abuse_or_neglect_suspected = Some(true);
        }
    }
    if f.children.is_none() {
        f.children = children(&letter, text);
    }
    if f.la_reference.is_none() {
        f.la_reference =
            OUR_REF.as_ref().and_then(|r| r.captures(&letter)).and_then(|c| Some(c.get(1)?.as_str().to_owned()));
    }
}

/// Whether lower-case `text` says `phrase` of the child: some mention of it that is not
/// denied ("was not looked after", "neither child was looked after") and not a question
/// answered no ("Care leaver: No").
pub(super) fn affirms(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = &text[text[..at].char_indices().rev().nth(24).map_or(0, |(i, _)| i)..at];
        let denied = before
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| ["not", "never", "neither", "nor", "no", "non"].contains(&w));
        let after = text[at + phrase.len()..].trim_start_matches([' ', ':', '?', '|', '\t', '-']);
        let answered_no = after.starts_with("no") && !after[2..].starts_with(char::is_alphanumeric);
        !denied && !answered_no
    })
}

/// The letter part of `text` (above the sign-off), for other readers.
pub fn letter_of(text: &str) -> String {
    letter(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_notification_written_as_a_letter() {
        let text = "Dear colleagues,\n\nNewham became aware on Monday 30th November that a 15-year-old girl looked after by\n\
                    Newham had been seriously assaulted. There are indications of sexual exploitation and abuse is\n\
                    suspected.\n\nThe notification was submitted to the Panel yesterday - reference SIN-2026-04755.\n\n\
                    Kind regards,\nAisling\nService Manager, Children Looked After\n";
        let mut f = NotificationFields::default();
        read(text, None, NaiveDate::from_ymd_opt(2026, 12, 2), &mut f);
        assert_eq!(f.aware_date, NaiveDate::from_ymd_opt(2026, 11, 30));
        assert_eq!(f.notified_date, NaiveDate::from_ymd_opt(2026, 12, 1));
        assert_eq!(f.looked_after, Some(true));
        assert_eq!(f.abuse_or_neglect_suspected, Some(true));
        assert_eq!(f.children, Some(1));
    }

    #[test]
    fn a_denial_or_a_doubt_is_not_a_yes() {
        let mut f = NotificationFields::default();
        read("We do not suspect abuse or neglect. He left Tower Hamlets' care at 18.", None, None, &mut f);
        assert_eq!((f.abuse_or_neglect_suspected, f.looked_after), (Some(false), Some(false)));
        let mut f = NotificationFields::default();
        read("It is not yet known whether abuse played a part; neglect is suspected by some.", None, None, &mut f);
        assert_eq!(f.abuse_or_neglect_suspected, None, "not known is not a yes");
        let mut f = NotificationFields::default();
        read("Twins were admitted to hospital.", None, None, &mut f);
        assert_eq!(f.children, Some(2));
    }

    /// How people say how many children: a line per child, "both children", "the death
    /// of a care leaver", "Four-year-old girl, … died".
    #[test]
    fn counts_children_however_they_are_written() {
        let cases = [
            ("> Child: O.F., 7 weeks, currently at GOSH PICU\n> Date LA became aware: TBC", Some(1)),
            ("Child 1 - A, 11\nChild 2 - B, 7\nChild 3 - C, 3\n", Some(3)),
            ("Looked after? No - both children open to CIN", Some(2)),
            ("On Friday we notified the death of a care leaver, aged 23, who was living in Hackney.", Some(1)),
            ("Incident\nDeath of care leaver (aged 24)\n", Some(1)),
            ("Four-year-old girl, P.W., died at the Royal London; not looked after.", Some(1)),
            ("Children's Services: please see the Panel's note.", None),
        ];
        for (text, expected) in cases {
            let mut f = NotificationFields::default();
            read(text, None, None, &mut f);
            assert_eq!(f.children, expected, "{text}");
        }
    }

    #[test]
    fn a_denied_or_answered_no_mention_is_not_said() {
        assert!(affirms("death of a looked after child", "looked after"));
        assert!(affirms("he was looked after by newham until 2025", "looked after"));
        assert!(!affirms("cosmo died in hospital. cosmo was not looked after.", "looked after"));
        assert!(!affirms("neither child was looked after", "looked after"));
        assert!(!affirms("type of incident death\ncare leaver: no\n", "care leaver"));
        assert!(!affirms("care leaver | no", "care leaver"));
        assert!(affirms("care leaver: not known\ndeath of a care leaver aged 20", "care leaver"));
        let mut f = NotificationFields::default();
        read("Three children were left alone. None of them is a looked after child.", None, None, &mut f);
        assert_eq!(f.looked_after, Some(false));
    }
}
