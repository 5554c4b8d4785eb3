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
    Regex::new(r"(?i)\b(?:not|n't|never|unable to|cannot|can ?not|no longer)(?:\s+(?:yet|fully|currently|able|to|be|been|in|a|position|the|panel|is|are))*\s+(?:agree[sd]?|agreeing|support(?:s|ed)?|accept(?:s|ed)?|concur(?:s|red)?|endorse[sd]?)\b|\bdisagree[sd]?\b|\bdisagreement\b|\bnot in agreement\b|\bnot satisfied\b").ok()
});
/// Disagreement denied: "has no reason to disagree", "does not disagree" (agreement).
static NOT_DISAGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bno (?:reason|grounds|cause) to disagree\b|\b(?:does|do|did) not disagree\b|\bnot in disagreement\b",
    )
    .ok()
});
/// No view yet: "not yet in a position to agree or disagree", "before it can agree".
static NO_POSITION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\bnot (?:yet )?(?:in a position|able) to (?:agree|disagree|decide|reach|form|take|comment|confirm)|\bbefore (?:it|the panel|we|members) (?:can|could|is able to|are able to) (?:agree|reach|come to|make|form|take|decide|comment)|\bbefore (?:responding|replying|deciding|reaching (?:a|its) (?:view|decision))\b|\b(?:confirm|say|decide) whether (?:it|the panel|members) (?:agrees?|supports?)\b").ok()
});
/// No view reached, said in so many words.
static NO_VIEW: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:not|unable to|cannot)(?:\s+(?:been|yet|able|to))*\s+(?:reach|come to|form|take)\s+(?:a|its|any) (?:conclusion|view|decision)").ok()
});
/// The Panel asks for something before it decides.
static ASKS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:request(?:s|ed)?|ask(?:s|ed)?|would (?:be grateful|welcome|like|appreciate)|please (?:send|provide|share)|needs?|requires?|seek(?:s|ing)?)\b[^.]{0,80}\b(?:update|information|details?|clarification|confirmation)\b").ok()
});
/// A request for more before the Panel takes a view.
static MORE_INFORMATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:further|more|additional) (?:information|details?|clarification|detail)\b|\bclarification\b|\bclarify\b|\bbefore (?:it|the panel|we) (?:can|is able to|could|are able to) (?:reach|come to|make|form|take) (?:a|its|our|any) (?:view|decision|conclusion)").ok()
});
static AGREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\bagree[sd]?\b|\bin agreement\b|\bsupports? (?:the|your|this) (?:decision|recommendation|view|conclusion|proposal)|\bconcurs?\b|\bendorses?\b|\b(?:content|satisfied) (?:that|with)\b|\baccepts? (?:the|your) (?:decision|recommendation|conclusion)").ok()
});
static REFERRAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:i am|i'm|we are|we're|i have been|i was)\s+(?:really |very |extremely )?(?:worried|concerned)\s+about\s+(?:a|the|my|our|this|one of|his|her|their)\b|\b(?:make|making) a referral\b|\breport(?:ing)? (?:a |my )?(?:concern|child)|\bsafeguarding concern about\b|\bchild (?:is|may be) (?:at risk|in danger|being (?:hurt|abused|neglected))").ok()
});
/// Someone asking for a review: in the first person, as a request, or as a question
/// to the partnership ("could the sub-group consider this for a review?") — not a
/// sentence about how anyone can ask.
static CONSIDERATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let consider = r"\bconsider(?:s|ed|ing|ation)?\b";
    Regex::new(&format!(
        r"(?is)\b(?:i|we)(?:'d|’d)?\b(?:\s+(?:would|wish|want|am|are|like|to|writing|formally|hereby|now|simply|also|just|therefore))*\s+(?:request|requesting|ask|asking)\b.{{0,160}}?{consider}.{{0,200}}?\b(?:review|cspr|lcspr)|\b(?:could|would|please)\b.{{0,60}}?{consider}.{{0,120}}?\b(?:review|cspr|lcspr)|\brequest (?:that|for)\b.{{0,100}}?{consider}.{{0,120}}?\b(?:review|cspr|lcspr)|\bfor consideration by the case review|\b(?:formal|this is a) request (?:for )?(?:a |the )?(?:local )?(?:child safeguarding practice review|cspr|review)|\brequest (?:for )?a (?:local )?child safeguarding practice review"
    ))
    .ok()
});
/// A child at risk now, in the words of someone who has seen it.
static AT_RISK_NOW: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:scared|afraid|frightened) to go home\b|\b(?:hit|hurt|beat|punched|kicked) (?:her|him|them|me)\b|\bwho should i (?:tell|contact|call)\b|\bwhat should i do\b|\b(?:are|is) (?:out there|outside|in danger) (?:right )?now\b|\bcall me urgently\b").ok()
});
static RAPID_REVIEW: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)rapid review|local child safeguarding practice review|\bcspr\b|\blcspr\b").ok());

/// Words that pass a notification on: "Resending the notification", "please find
/// below the notification", "forwarding our notification".
static PASSES_ON: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:re-?send(?:ing)?|forward(?:ing|ed)?|passing on|see (?:below|attached)|find (?:below|attached))\b[^.]{0,60}\bnotification\b").ok()
});

/// Whether the new text of a reply says it passes a notification on (what it quotes is
/// then the notification, not just the conversation).
pub fn passes_on_notification(new_text: &str) -> bool {
    hit(&PASSES_ON, new_text)
}

fn hit(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// The outcome a Panel response states, read with negation: a refused or negated
/// agreement is disagreement (checked first, so "agrees that … but does not agree that …"
/// disagrees); a request for more before a view is `MoreInformation`; a plain agreement
/// agrees; anything else, including "not able to reach a view", is unclear.
pub fn panel_outcome(text: &str) -> PanelOutcome {
    // "No reason to disagree" is agreement: said so before the negations are read.
    let text = match NOT_DISAGREE.as_ref() {
        Some(re) => re.replace_all(text, "agrees"),
        None => std::borrow::Cow::Borrowed(text),
    };
    let text = text.as_ref();
    if hit(&NO_POSITION, text) || hit(&NO_VIEW, text) {
        if hit(&ASKS, text) || hit(&MORE_INFORMATION, text) {
            PanelOutcome::MoreInformation
        } else {
            PanelOutcome::Unclear
        }
    } else if hit(&DISAGREE, text) {
        PanelOutcome::Disagree
    } else if hit(&AGREE, text) {
        PanelOutcome::Agree
    } else if hit(&MORE_INFORMATION, text) && hit(&ASKS, text) {
        PanelOutcome::MoreInformation
    } else {
        PanelOutcome::Unclear
    }
}

/// The sentence that left a Panel response unclear, kept for the person who reads it in
/// triage: the one that speaks of the Panel's view without settling it, else the first
/// that speaks of the Panel, the review or a decision at all. At most 300 characters.
pub fn unclear_sentence(text: &str) -> Option<String> {
    let greeting = |line: &str| {
        let l = line.trim().to_lowercase();
        l.len() < 60 && ["dear ", "hi ", "hello", "good morning", "good afternoon"].iter().any(|g| l.starts_with(g))
    };
    let body: Vec<&str> = text.lines().filter(|l| !greeting(l)).collect();
    let flat = body.join(" ").split_whitespace().collect::<Vec<_>>().join(" ");
    let sentences: Vec<&str> = flat.split_inclusive(['.', '!', '?']).map(str::trim).filter(|s| s.len() > 3).collect();
    let unsettled = |s: &&&str| hit(&NO_POSITION, s) || hit(&NO_VIEW, s);
    let about = |s: &&&str| {
        let l = s.to_lowercase();
        ["panel", "review", "view", "decision", "recommend", "agree", "conclusion"].iter().any(|w| l.contains(w))
    };
    let chosen = sentences.iter().find(unsettled).or_else(|| sentences.iter().find(about))?;
    let mut end = chosen.len().min(300);
    while !chosen.is_char_boundary(end) {
        end -= 1;
    }
    Some(chosen[..end].to_owned())
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
    /// The sender is one of the local authorities' (who notify; others ask).
    pub from_local_authority: bool,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

/// Written by a machine in answer to mail (auto-submitted, auto-replies, our own mail).
fn automatic(headers: &[(String, String)]) -> bool {
    let auto_submitted = header(headers, "auto-submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"));
    let auto_precedence = header(headers, "precedence").is_some_and(|v| v.eq_ignore_ascii_case("auto_reply"));
    let suppress_autoreply = header(headers, "x-auto-response-suppress").is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v.contains("all") || v.contains("autoreply")
    });
    auto_submitted
        || auto_precedence
        || suppress_autoreply
        || ["x-autoreply", "x-autorespond", LOOP_HEADER].iter().any(|h| header(headers, h).is_some())
}

/// Bulk or list mail (a newsletter).
fn bulk(headers: &[(String, String)]) -> bool {
    header(headers, "precedence").is_some_and(|v| ["bulk", "junk", "list"].contains(&v.to_ascii_lowercase().as_str()))
        || headers.iter().any(|(n, _)| n.to_ascii_lowercase().starts_with("list-"))
}

/// Whether loop protection applies (auto-submitted, lists, our own mail).
pub fn loop_protected(headers: &[(String, String)]) -> bool {
    automatic(headers) || bulk(headers)
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
    // Mail a machine wrote in answer to ours is an automatic reply; bulk and list mail
    // (a newsletter) is never answered (loop protection) but is read like any other,
    // so that what a person must see still reaches triage.
    if auto_subject || automatic(s.headers) {
        return Kind::AutoReply;
    }
    if command(s.new_text).is_some() {
        return Kind::StaffCommand;
    }
    if s.from_panel && (hit(&RAPID_REVIEW, s.text) || hit(&RAPID_REVIEW, s.subject)) {
        return Kind::PanelResponse;
    }
    // A partner agency asking for a review may well mention a notification; an
    // authority's own notification may well ask for a review: who writes decides.
    let asks_for_review = hit(&CONSIDERATION, s.new_text);
    if asks_for_review && !s.from_local_authority {
        return Kind::ConsiderationRequest;
    }
    if s.notification_fields >= 2 || s.says_notification {
        return Kind::Notification;
    }
    // A child at risk now, told to a mailbox that is not a referral route. The weaker
    // signs count only outside a case's correspondence.
    let in_a_case = s.has_case_ref || s.has_external_ref || s.replies_to_us;
    if hit(&REFERRAL, s.new_text) || (!in_a_case && hit(&AT_RISK_NOW, s.new_text)) {
        return Kind::Referral;
    }
    if asks_for_review {
        return Kind::ConsiderationRequest;
    }
    if s.has_case_ref || s.has_external_ref || s.replies_to_us {
        return Kind::CaseReply;
    }
    Kind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panel_responses_are_read_with_negation_and_hedging() {
        for (text, outcome) in [
            ("The Panel agrees with your decision to undertake a local review.", PanelOutcome::Agree),
            ("The Panel has no reason to disagree with your conclusion.", PanelOutcome::Agree),
            ("The Panel was content that a local CSPR is not required.", PanelOutcome::Agree),
            ("The Panel has not agreed with the partnership's recommendation.", PanelOutcome::Disagree),
            ("The Panel is unable to agree that the criteria are not met.", PanelOutcome::Disagree),
            ("The Panel does not support the recommendation.", PanelOutcome::Disagree),
            (
                "The Panel is not yet in a position to agree or disagree and would be grateful for an update.",
                PanelOutcome::MoreInformation,
            ),
            ("The Panel would like clarification on two points before responding.", PanelOutcome::MoreInformation),
            ("Thank you for the additional information. The Panel agrees.", PanelOutcome::Agree),
            ("The Panel has considered the rapid review.", PanelOutcome::Unclear),
        ] {
            assert_eq!(panel_outcome(text), outcome, "{text}");
        }
    }

    #[test]
    fn an_unclear_response_keeps_the_sentence_that_left_it_unclear() {
        let text = "Dear colleagues,\n\nThank you for your email of 3 December.\nThe Panel has considered the rapid \
                    review at its meeting on Tuesday.\n\nKind regards,\nPanel secretariat";
        assert_eq!(
            unclear_sentence(text).as_deref(),
            Some("The Panel has considered the rapid review at its meeting on Tuesday.")
        );
        let text = "Thanks. Members were not able to reach a view on the recommendation. We will write again.";
        assert_eq!(
            unclear_sentence(text).as_deref(),
            Some("Members were not able to reach a view on the recommendation.")
        );
        assert_eq!(unclear_sentence("Dear all,\nThanks\n"), None);
    }
}
