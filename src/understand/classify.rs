//! Which kind a message is, first match wins: bounce, auto_reply, staff_command,
//! panel_response, notification, referral, consideration_request, case_reply, unknown.

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::command::Command;
use crate::domain::message::{CommandLine, Kind, NearMiss, PanelOutcome};

/// Our own loop-marker header on everything we send.
pub const LOOP_HEADER: &str = "x-cspr-loop";

/// Agreement negated or refused: "has not agreed", "is unable to agree", "does not
/// support", "disagrees", "not in agreement", "not satisfied".
static DISAGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:not|n't|never|unable to|cannot|can ?not|no longer)(?:\s+(?:yet|fully|currently|able|to|be|been|in|a|position|the|panel|is|are))*\s+(?:agree[sd]?|agreeing|support(?:s|ed)?|accept(?:s|ed)?|concur(?:s|red)?|endorse[sd]?)\b|\bdisagree[sd]?\b|\bdisagreement\b|\bnot in agreement\b|\bnot (?:satisfied|persuaded|convinced)\b").ok()
});
/// A request for more before the Panel takes a view.
static MORE_INFORMATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:further|more|additional) (?:information|details?|clarification|detail)\b|\bclarification\b|\bclarify\b|\bbefore (?:it|the panel|we) (?:can|is able to|could|are able to) (?:reach|come to|make|form|take) (?:a|its|our|any) (?:view|decision|conclusion)").ok()
});
/// No view reached, said in so many words.
static NO_VIEW: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:not|unable to|cannot)(?:\s+(?:been|yet|able|to))*\s+(?:reach|come to|form|take)\s+(?:a|its|any) (?:conclusion|view|decision)").ok()
});
static AGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\bagree[sd]?\b|\bin agreement\b|\bsupports? (?:the|your) (?:decision|recommendation|view|conclusion)|\bconcurs?\b|\bendorses?\b").ok()
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

/// The outcome a Panel response states, read with negation: a refused or negated
/// agreement is disagreement (checked first, so "agrees that … but does not agree that …"
/// disagrees); a request for more before a view is `MoreInformation`; a plain agreement
/// agrees; anything else, including "not able to reach a view", is unclear.
pub fn panel_outcome(text: &str) -> PanelOutcome {
    if hit(&DISAGREE, text) {
        PanelOutcome::Disagree
    } else if hit(&MORE_INFORMATION, text) {
        PanelOutcome::MoreInformation
    } else if hit(&NO_VIEW, text) {
        PanelOutcome::Unclear
    } else if hit(&AGREE, text) {
        PanelOutcome::Agree
    } else {
        PanelOutcome::Unclear
    }
}

/// Warning banners that mail gateways put above external mail: skipped before the
/// command line is looked for.
static BANNER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*(?:caution|warning|attention|notice|external)\b.*\b(?:external|outside|originated|sender|links?)\b|^\W*\[?external(?: email| sender| message)?\]?\W*$|^this (?:e-?mail|message) (?:originated|was sent|came) from outside").ok()
});

/// The first line of the new text that is not a gateway's banner.
fn command_line(new_text: &str) -> Option<&str> {
    new_text.lines().map(str::trim).filter(|l| !l.is_empty()).take(6).find(|l| !hit(&BANNER, l))
}

/// A command on the first line of the new text (below any gateway banner): its first
/// token exactly a command word in capitals, then nothing or what that command takes.
pub fn command(new_text: &str) -> Option<CommandLine> {
    let first = command_line(new_text)?;
    let word_end = first.find(char::is_whitespace).unwrap_or(first.len());
    let command = Command::parse(&first[..word_end])?;
    let rest = first[word_end..].trim();
    command.check_args(rest).ok()?;
    Some(CommandLine { command, rest: rest.to_owned() })
}

/// A first line that was nearly a command: the word in capitals with arguments that do
/// not read, or the word written otherwise ("submitted 18/03/2027", "Submitted.") where
/// the rest reads as that command's arguments, or the word in capitals after a greeting
/// ("Hi — SUBMITTED"). A sentence that merely begins with such a word is prose.
pub fn near_miss(new_text: &str) -> Option<NearMiss> {
    let first = command_line(new_text)?;
    let word_end = first.find(char::is_whitespace).unwrap_or(first.len());
    let written = &first[..word_end];
    let rest = first[word_end..].trim();
    let bare = written.trim_end_matches([':', ',', '.', ';', '!']);
    let line = |command: Command, rest: &str| {
        if command.check_args(rest).is_ok() {
            format!("{} {rest}", command.word()).trim().to_owned()
        } else {
            command.usage()
        }
    };
    if let Some(command) = Command::parse(written) {
        let problem = command.check_args(rest).err()?;
        return Some(NearMiss { command, problem, line: command.usage() });
    }
    if let Some(command) = Command::parse(&bare.to_ascii_uppercase()) {
        let free_text = matches!(command, Command::Note | Command::Close | Command::NotPublishing);
        let reads = if free_text { rest.is_empty() } else { command.check_args(rest).is_ok() };
        if reads && (rest.is_empty() || !free_text) {
            return Some(NearMiss {
                command,
                problem: format!(
                    "'{written}' is not read as the command {}: the word must be in capitals, on its own",
                    command.word()
                ),
                line: line(command, rest),
            });
        }
        return None;
    }
    // "Hi — SUBMITTED", "Thanks, SUBMITTED 18/03/2027": a command word in capitals later
    // in a short first line.
    if first.len() <= 80 {
        let tokens: Vec<&str> =
            first.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()).collect();
        for token in tokens.iter().skip(1) {
            if let Some(command) = Command::parse(token.trim_end_matches(['.', ':', '!'])) {
                return Some(NearMiss {
                    command,
                    problem: format!(
                        "the command {} must start the first line, with nothing before it",
                        command.word()
                    ),
                    line: command.usage(),
                });
            }
        }
    }
    None
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
    /// A Panel or LA reference anywhere in it (subject, body, quoted or attached).
    pub has_external_ref: bool,
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
    if s.has_case_ref || s.has_external_ref || s.replies_to_us {
        return Kind::CaseReply;
    }
    Kind::Unknown
}
