//! Which case a message belongs to, in order: our subject tag, then threading headers
//! (messages we stored or sent), then external references (Panel or LA reference),
//! then — for a notification or a request for consideration — a new case. Anything
//! ambiguous goes to triage with its candidates, never a silent merge.

use crate::domain::case::CaseRef;
use crate::domain::command::Command;
use crate::domain::message::{Kind, Understood};

/// What the store found for a message's references.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// Cases named by our tags in the subject or text, that exist.
    pub by_tag: Vec<CaseRef>,
    /// Tags naming cases that do not exist.
    pub unknown_tags: Vec<String>,
    /// Cases of the messages this one replies to.
    pub by_thread: Vec<CaseRef>,
    /// Cases with the same Panel or LA reference.
    pub by_external: Vec<CaseRef>,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Existing(CaseRef),
    New,
    /// No case, and none needed (a referral, say): the decision handles it.
    NoCase,
    Triage {
        reason: String,
        candidates: Vec<CaseRef>,
    },
}

fn distinct(refs: &[CaseRef]) -> Vec<CaseRef> {
    let mut out: Vec<CaseRef> = Vec::new();
    for r in refs {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// Where a message goes, its command considered: `OPEN` always opens a case, `TRIAGE`
/// names a held message, not a case.
pub fn match_message(understood: &Understood, found: &Lookups) -> Match {
    match understood.command.as_ref().map(|c| c.command) {
        Some(Command::Open) if understood.kind == Kind::StaffCommand => Match::New,
        Some(Command::Triage) if understood.kind == Kind::StaffCommand => Match::NoCase,
        // MERGE names the case to keep: the message belongs to the duplicate it is sent on.
        Some(Command::Merge) if understood.kind == Kind::StaffCommand => {
            let named = understood.command.as_ref().and_then(|c| CaseRef::parse(c.rest.trim()).ok());
            let mut found = found.clone();
            if found.by_tag.iter().any(|t| Some(t) != named.as_ref()) {
                found.by_tag.retain(|t| Some(t) != named.as_ref());
            }
            match_case(understood.kind, &found)
        }
        _ => match_case(understood.kind, found),
    }
}

pub fn match_case(kind: Kind, found: &Lookups) -> Match {
    let ambiguous = |what: &str, candidates: Vec<CaseRef>| Match::Triage {
        reason: format!("{what} name more than one case"),
        candidates,
    };
    let tags = distinct(&found.by_tag);
    let thread = distinct(&found.by_thread);
    let external = distinct(&found.by_external);
    if tags.len() > 1 {
        return ambiguous("the subject tags", tags);
    }
    if let Some(tag) = tags.first() {
        if let Some(other) = external.iter().find(|e| *e != tag) {
            return Match::Triage {
                reason: format!("tagged {tag} but its external reference belongs to {other}"),
                candidates: vec![tag.clone(), other.clone()],
            };
        }
        return Match::Existing(tag.clone());
    }
    if !found.unknown_tags.is_empty() {
        return Match::Triage {
            reason: format!("refers to no known case ({})", found.unknown_tags.join(", ")),
            candidates: external,
        };
    }
    if thread.len() > 1 {
        return ambiguous("the threading headers", thread);
    }
    if let Some(case) = thread.first() {
        if let Some(other) = external.iter().find(|e| *e != case) {
            return Match::Triage {
                reason: format!("a reply in {case}'s thread whose external reference belongs to {other}"),
                candidates: vec![case.clone(), other.clone()],
            };
        }
        return Match::Existing(case.clone());
    }
    if external.len() > 1 {
        return ambiguous("the external references", external);
    }
    if let Some(case) = external.first() {
        return Match::Existing(case.clone());
    }
    match kind {
        Kind::Notification | Kind::ConsiderationRequest => Match::New,
        _ => Match::NoCase,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> CaseRef {
        CaseRef::parse(s).unwrap()
    }

    #[test]
    fn tags_then_threads_then_external_then_new() {
        let mut found = Lookups::default();
        assert_eq!(match_case(Kind::Notification, &found), Match::New);
        assert_eq!(match_case(Kind::CaseReply, &found), Match::NoCase);
        found.by_external = vec![r("CHSCP-2026-001")];
        assert_eq!(match_case(Kind::Notification, &found), Match::Existing(r("CHSCP-2026-001")));
        found.by_thread = vec![r("CHSCP-2026-001")];
        assert_eq!(match_case(Kind::CaseReply, &found), Match::Existing(r("CHSCP-2026-001")));
        found.by_tag = vec![r("CHSCP-2026-002")];
        assert!(matches!(match_case(Kind::CaseReply, &found), Match::Triage { .. }), "tag and external disagree");
        found.by_external.clear();
        assert_eq!(match_case(Kind::CaseReply, &found), Match::Existing(r("CHSCP-2026-002")));
        found.by_tag.push(r("CHSCP-2026-003"));
        assert!(matches!(match_case(Kind::CaseReply, &found), Match::Triage { .. }));
    }
}
