//! Which kind a message is, first match wins: bounce, auto_reply, staff_command,
//! panel_response, notification, referral, consideration_request, case_reply, unknown.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::command::Command;
use crate::domain::message::{CommandLine, Kind, PanelOutcome};

/// Our own loop-marker header on everything we send.
pub const LOOP_HEADER: &str = "x-cspr-loop";

static DISAGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:does not|do not|did not|doesn't|don't|cannot|can ?not|is unable to|are unable to) (?:agree|support|accept)|\bdisagree|\bnot in agreement|\bnot satisfied").ok()
});
static AGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\bagree[sd]?\b|\bin agreement\b|\bsupports? the (?:decision|recommendation)|\bconcurs?\b").ok()
});
static REFERRAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:i am|i'm|we are|we're|i have been|i was)\s+(?:really |very |extremely )?(?:worried|concerned)\s+about\s+(?:a|the|my|our|this|one of|his|her|their)\b|\b(?:make|making) a referral\b|\breport(?:ing)? (?:a |my )?(?:concern|child)|\bsafeguarding concern about\b|\bchild (?:is|may be) (?:at risk|in danger|being (?:hurt|abused|neglected))").ok()
});
static CONSIDERATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?is)\b(?:request|requesting|ask|asking|would like|wish)\b.{0,160}?\b(?:consider|consideration)\b.{0,200}?\b(?:review|cspr|lcspr)|\bfor consideration by the case review|\brequest (?:for )?a (?:local )?child safeguarding practice review").ok()
});
static RAPID_REVIEW: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)rapid review|local child safeguarding practice review|\bcspr\b|\blcspr\b").ok());

fn hit(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// The outcome a Panel response states; disagreement is checked first.
pub fn panel_outcome(text: &str) -> PanelOutcome {
    if hit(&DISAGREE, text) {
        PanelOutcome::Disagree
    } else if hit(&AGREE, text) {
        PanelOutcome::Agree
    } else {
        PanelOutcome::Unclear
    }
}

/// A recognised command on the first non-empty line of the new text.
pub fn command(new_text: &str) -> Option<CommandLine> {
    let first = new_text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let word_end = first.find(char::is_whitespace).unwrap_or(first.len());
    let word = first[..word_end].trim_end_matches([':', ',', '.']).to_ascii_uppercase();
    Command::parse(&word).map(|command| CommandLine { command, rest: first[word_end..].trim().to_owned() })
}

/// What classification looks at.
pub struct Signals<'a> {
    pub headers: &'a [(String, String)],
    pub content_type: &'a str,
    pub from_address: Option<&'a str>,
    pub return_path_null: bool,
    pub subject: &'a str,
    pub new_text: &'a str,
    pub text: &'a str,
    pub from_panel: bool,
    pub notification_fields: usize,
    pub says_notification: bool,
    pub has_case_ref: bool,
    pub replies_to_us: bool,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

/// Whether loop protection applies (auto-submitted, lists, our own mail).
pub fn loop_protected(headers: &[(String, String)]) -> bool {
    let auto_submitted = header(headers, "auto-submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"));
    let precedence = header(headers, "precedence")
        .is_some_and(|v| ["auto_reply", "bulk", "junk", "list"].contains(&v.to_ascii_lowercase().as_str()));
    auto_submitted
        || precedence
        || header(headers, "x-autoreply").is_some()
        || header(headers, "x-autorespond").is_some()
        || header(headers, "x-auto-response-suppress")
            .is_some_and(|v| v.to_ascii_lowercase().contains("all") || v.to_ascii_lowercase().contains("autoreply"))
        || headers.iter().any(|(n, _)| n.to_ascii_lowercase().starts_with("list-"))
        || header(headers, LOOP_HEADER).is_some()
}

pub fn classify(s: &Signals<'_>) -> Kind {
    let ct = s.content_type.to_ascii_lowercase();
    let local = s.from_address.and_then(|a| a.split('@').next()).unwrap_or("").to_ascii_lowercase();
    let subject = s.subject.to_ascii_lowercase();
    let daemon = local == "mailer-daemon" || local == "postmaster";
    if (ct.contains("multipart/report") && ct.contains("delivery-status"))
        || (daemon
            && (s.return_path_null
                || subject.contains("undeliver")
                || subject.contains("delivery status")
                || subject.contains("failure")))
    {
        return Kind::Bounce;
    }
    let auto_subject =
        ["automatic reply", "auto:", "out of office", "autoreply", "auto-reply"].iter().any(|p| subject.starts_with(p));
    if loop_protected(s.headers) || auto_subject {
        return Kind::AutoReply;
    }
    if command(s.new_text).is_some() {
        return Kind::StaffCommand;
    }
    if s.from_panel && (hit(&RAPID_REVIEW, s.text) || hit(&RAPID_REVIEW, s.subject)) {
        return Kind::PanelResponse;
    }
    if s.notification_fields >= 2 || s.says_notification {
        return Kind::Notification;
    }
    if hit(&REFERRAL, s.new_text) {
        return Kind::Referral;
    }
    if hit(&CONSIDERATION, s.new_text) {
        return Kind::ConsiderationRequest;
    }
    if s.has_case_ref || s.replies_to_us {
        return Kind::CaseReply;
    }
    Kind::Unknown
}
