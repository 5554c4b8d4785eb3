//! Understanding a raw message: headers, the forwarded original (attached or inline),
//! notification fields, kind, sender trust and case references. Pure: bytes and
//! the rules it consults in, `Understood` out; bounded in time and memory on any input.

mod auth_results;
mod budget;
mod classify;
pub mod documents;
mod fields;
mod forward;
mod html;
mod labels;
mod mime;
mod prose;
mod provenance;
mod rules;
mod summary;
pub mod trust;

use std::sync::LazyLock;

use mail_parser::MessageParser;
use regex::Regex;

pub use budget::{Budget, Overrun};
pub use classify::{LOOP_HEADER, command, near_miss, panel_outcome};
pub use labels::Labels;
pub use rules::Rules;
pub use summary::to_json;

use mime::{inner_text, mail_of, read_documents, structure_problems};

use crate::domain::london_date;
use crate::domain::message::{CriteriaSigns, Forwarded, IncidentType, Kind, PanelOutcome, Understood};
use crate::domain::{EmailAddress, Role};

/// Case references read from one message at most (the subject and the new text).
const MAX_CASE_REFS: usize = 20;
/// Panel and local-authority references read from one message at most.
const MAX_EXTERNAL_REFS: usize = 20;
/// A quotation introduction ("On … wrote:") is a short line; longer ones are not tried.
const MAX_INTRO_LINE: usize = 1000;

static QUOTE_INTRO: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^(?:on .{4,200}wrote:|-{2,}\s*original message\s*-{2,}|_{10,}|from:\s.+)$").ok());

/// The text the sender wrote, above any quotation of earlier mail.
fn new_text(text: &str) -> String {
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('>')
            || (trimmed.len() <= MAX_INTRO_LINE && QUOTE_INTRO.as_ref().is_some_and(|re| re.is_match(trimmed)))
        {
            break;
        }
        out.push(line);
    }
    out.join("\n")
}

/// The first `cap` distinct matches of any pattern in the texts, in order of first
/// appearance, and whether there were more.
fn distinct_matches<'a>(
    patterns: impl IntoIterator<Item = &'a Regex>,
    texts: &[&str],
    cap: usize,
    budget: &Budget,
) -> Result<(Vec<String>, bool), Overrun> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = Vec::new();
    for re in patterns {
        for text in texts {
            for (n, m) in re.find_iter(text).enumerate() {
                if n % 4096 == 0 {
                    budget.check()?;
                }
                if seen.insert(m.as_str()) {
                    if out.len() == cap {
                        return Ok((out, true));
                    }
                    out.push(m.as_str().to_owned());
                }
            }
        }
    }
    Ok((out, false))
}

/// The roles an address holds (none when it is not one clear address).
fn roles_of(rules: &Rules<'_>, address: Option<&str>) -> Vec<Role> {
    address.and_then(|a| EmailAddress::parse(a).ok()).map(|a| rules.directory.roles_of(&a)).unwrap_or_default()
}

/// The lower-case domain of an address, if it is one.
fn domain_of(address: Option<&str>) -> Option<String> {
    address.and_then(|a| EmailAddress::parse(a).ok()).map(|a| a.domain().to_owned())
}

/// The forwarded original written inline in `text`, if any; `subject` (the forwarding
/// message's own) tells a reply from a forward.
pub fn forwarded_in_text(text: &str, subject: Option<&str>) -> Option<Forwarded> {
    forward::find(text, subject, &Budget::unlimited()).ok().flatten().map(|f| f.forwarded)
}

/// Understands one raw message, however long it takes, documents read on this thread
/// (tools and tests).
pub fn understand(raw: &[u8], rules: &Rules<'_>) -> Understood {
    understand_within(raw, rules, &Budget::unlimited(), &documents::Inline)
        .unwrap_or_else(|overrun| Understood::empty(vec![overrun.to_string()]))
}

/// Understands one raw message, or stops with `Overrun` once `budget` is spent. Every
/// step is linear in the message; any limit that applies is named in `problems`.
/// Attached documents are read by `reader`.
pub fn understand_within(
    raw: &[u8],
    rules: &Rules<'_>,
    budget: &Budget,
    reader: &dyn documents::Reader,
) -> Result<Understood, Overrun> {
    let mut problems = Vec::new();
    if raw.len() as u64 > rules.intake.max_message_bytes {
        problems.push(format!("message is {} bytes, over the limit of {}", raw.len(), rules.intake.max_message_bytes));
        return Ok(Understood::empty(problems));
    }
    // The parser has been seen to panic on malformed structure (found by fuzzing): such
    // a message is one that cannot be parsed, not the end of the process.
    let parsed = std::panic::catch_unwind(|| MessageParser::default().parse(raw));
    let Ok(parsed) = parsed else {
        problems.push("cannot parse the message (its MIME structure broke the parser)".to_owned());
        return Ok(Understood::empty(problems));
    };
    let Some(message) = parsed else {
        problems.push("cannot parse the message".to_owned());
        return Ok(Understood::empty(problems));
    };
    problems.extend(structure_problems(&message));
    let hostile = !problems.is_empty();
    let mail = mail_of(&message, 0, budget, &mut problems)?;
    let subject = mail.subject.clone().unwrap_or_default();

    let forwarded: Option<Forwarded> = match &mail.attached {
        Some(inner) => Some(Forwarded {
            from: inner.from.clone(),
            date: inner.date,
            subject: inner.subject.clone(),
            body: inner_text(inner),
        }),
        None => forward::find(&mail.text, Some(subject.as_str()), budget)?.map(|f| f.forwarded),
    };
    budget.check()?;
    let fresh = new_text(&mail.text);
    // A reply quoting one of our own emails (its subject carries our case tag) forwards
    // nothing: what it says is in its new text, not in what it quotes of ours.
    // So is a reply in one of our threads (our tag in its subject) that forwards nothing.
    // And so is any reply ("RE: …"): what it quotes is the conversation, not a
    // notification being passed on.
    let reply = {
        let lower = subject.trim_start().to_ascii_lowercase();
        ["re:", "re :", "aw:", "sv:"].iter().any(|p| lower.starts_with(p))
    };
    // Unless its new text says it passes a notification on ("Resending the notification").
    let passes_on = classify::passes_on_notification(&fresh);
    // An original attached as a message is always passed on, whatever the subject says.
    let quotes_us = mail.attached.is_none()
        && match forwarded.as_ref() {
            Some(f) => f.subject.as_deref().is_some_and(|s| rules.case_pattern.is_match(s)) || (reply && !passes_on),
            None => !passes_on && (reply || rules.case_pattern.is_match(&subject)),
        };
    let forwarded = if quotes_us { None } else { forwarded };
    let mut original_text =
        forwarded.as_ref().map(|f| f.body.as_str()).unwrap_or(if quotes_us { &fresh } else { &mail.text });
    let original_subject = forwarded.as_ref().and_then(|f| f.subject.as_deref()).or(mail.subject.as_deref());
    let written_on = forwarded.as_ref().and_then(|f| f.date).or(mail.date).map(|d| london_date(&d));
    let mut extracted = fields::extract(original_text, original_subject, written_on, rules);
    let found_in_body = extracted.found;
    // What the forwarder adds above a forward ("our internal ref is …", "we notified
    // the Panel yesterday") fills what the original leaves blank.
    if forwarded.is_some() {
        let mine = fields::extract(&fresh, mail.subject.as_deref(), mail.date.map(|d| london_date(&d)), rules);
        let before = provenance::known(&extracted.fields);
        extracted.fields.fill_blanks(&mine.fields);
        // "Copy of our serious incident notification", above the forward, says what it is.
        extracted.says_notification |= mine.says_notification;
        provenance::note(before, &extracted.fields, &mut extracted.sources, || "the forwarder's own text".to_owned());
    }
    // A notification sent as a document: its text stands for the body when it says more.
    let (document_texts, document_problems) =
        if hostile { (Vec::new(), Vec::new()) } else { read_documents(&message, budget, reader)? };
    for text in &document_texts {
        budget.check()?;
        let from_document = fields::extract(text, original_subject, written_on, rules);
        if from_document.found > extracted.found
            || (from_document.found == extracted.found
                && from_document.says_notification
                && !extracted.says_notification)
        {
            extracted = from_document;
            original_text = text;
        }
    }

    budget.check()?;
    let (refs, more_refs) = distinct_matches([rules.case_pattern], &[&subject, &fresh], MAX_CASE_REFS, budget)?;
    if more_refs {
        problems.push(format!("more than {MAX_CASE_REFS} case references: only the first {MAX_CASE_REFS} are read"));
    }
    let own_domain = format!("@{}", rules.intake.own_message_id_domain);
    let replies_to_us =
        mail.in_reply_to.iter().chain(&mail.references).any(|id| id.to_ascii_lowercase().ends_with(&own_domain));
    let sender_roles = roles_of(rules, mail.from.address.as_deref());
    let from_panel = sender_roles.contains(&Role::Panel)
        || forwarded.as_ref().is_some_and(|f| roles_of(rules, f.from.address.as_deref()).contains(&Role::Panel));
    let return_path_null = mail
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("return-path"))
        .is_some_and(|(_, v)| v.trim() == "<>" || v.trim().is_empty());
    // Panel and LA references wherever they stand: the subject, the body (quoted text
    // included), an attached original and its own subject, a document.
    let attached = mail
        .attached
        .as_deref()
        .map(|inner| format!("{}\n{}", inner.subject.as_deref().unwrap_or_default(), inner_text(inner)));
    let mut places: Vec<&str> = vec![&subject, &mail.text];
    places.extend(attached.as_deref());
    places.extend(document_texts.iter().map(String::as_str));
    let (external_refs, more_external) =
        distinct_matches(rules.panel_patterns.iter().chain(rules.la_patterns), &places, MAX_EXTERNAL_REFS, budget)?;
    let signals = classify::Signals {
        headers: &mail.headers,
        content_type: &mail.content_type,
        from_address: mail.from.address.as_deref(),
        return_path_null,
        subject: &subject,
        new_text: &fresh,
        text: original_text,
        from_panel,
        notification_fields: extracted.found,
        says_notification: extracted.says_notification,
        has_case_ref: !refs.is_empty(),
        has_external_ref: !external_refs.is_empty(),
        replies_to_us,
        from_local_authority: sender_roles.contains(&Role::LocalAuthority),
    };
    // Hostile structure is never acted on: it goes to triage with its reason.
    // An unreadable document in a message whose body says little could be the very
    // notification: a person looks at it rather than a guess being acted on.
    let unreadable_document = !document_problems.is_empty() && document_texts.is_empty() && found_in_body < 2;
    let kind = if hostile {
        Kind::Unknown
    } else {
        match classify::classify(&signals) {
            kind @ (Kind::Referral | Kind::AutoReply | Kind::Bounce) => kind,
            _ if unreadable_document => Kind::Unknown,
            kind => kind,
        }
    };
    // What the Panel wrote, not what it quotes of ours.
    let panel_text = (kind == Kind::PanelResponse).then(|| new_text(original_text));
    let panel = panel_text.as_deref().map(panel_outcome);
    let panel_sentence =
        panel_text.as_deref().filter(|_| panel == Some(PanelOutcome::Unclear)).and_then(classify::unclear_sentence);
    if more_external {
        problems.push(format!(
            "more than {MAX_EXTERNAL_REFS} Panel or local-authority references: only the first {MAX_EXTERNAL_REFS} are read"
        ));
    }
    if mail.date.is_none() {
        problems.push("no readable Date header".to_owned());
    }
    // A document that could not be read is the reason a message goes to triage when
    // nothing else in it could be acted on.
    if kind == Kind::Unknown {
        problems.splice(0..0, document_problems);
    } else {
        problems.extend(document_problems);
    }
    budget.check()?;
    // 2.1's criteria, read from the whole of what was written (a request for
    // consideration, or later news on one, may describe them: 11.2), with the authority
    // the writer names (not the one the sender's domain suggests).
    let f = &extracted.fields;
    let harm = f.incident_type.is_some_and(|t| t != IncidentType::Unknown);
    let criteria = (harm && f.abuse_or_neglect_suspected == Some(true)).then(|| CriteriaSigns {
        authority: f.local_authority.clone().or_else(|| extracted.authority_in_text.clone()),
    });
    // The notifying authority, when no label names it: the original sender's domain,
    // then the forwarding sender's, then the authority the letter names first.
    if extracted.fields.local_authority.is_none() {
        let original = forwarded.as_ref().and_then(|f| domain_of(f.from.address.as_deref()));
        // The partnership's own staff forward from the host authority's domain: theirs says nothing.
        let staff = sender_roles.iter().any(|r| *r != Role::LocalAuthority);
        let forwarder = if staff { None } else { domain_of(mail.from.address.as_deref()) };
        let by_domain = original.into_iter().chain(forwarder).find_map(|d| {
            rules.directory.authority_of_domain(&d).map(|name| (name, format!("the sender's domain ({d})")))
        });
        let named = || extracted.authority_in_text.clone().map(|name| (name, "named in the letter".to_owned()));
        if let Some((name, how)) = by_domain.or_else(named) {
            extracted.fields.local_authority = Some(name);
            extracted.sources.insert("local_authority", how);
        }
    }
    let verdict = trust::judge(&mail.headers, &mail.from_field, rules);
    Ok(Understood {
        message_id: mail.message_id.clone(),
        in_reply_to: mail.in_reply_to.clone(),
        references: mail.references.clone(),
        from: mail.from.clone(),
        date: mail.date,
        date_london: mail.date.map(|d| london_date(&d)),
        subject: mail.subject.clone(),
        kind,
        trust: verdict.trust,
        trust_reason: verdict.reason,
        reply_allowed: verdict.reply_allowed,
        forwarded,
        field_sources: if kind == Kind::Notification {
            extracted.sources.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
        } else {
            Default::default()
        },
        notification: (kind == Kind::Notification).then_some(extracted.fields),
        panel_outcome: panel,
        panel_sentence,
        criteria,
        command: if kind == Kind::StaffCommand { command(&fresh) } else { None },
        near_miss: if kind == Kind::CaseReply { near_miss(&fresh) } else { None },
        case_refs: refs,
        external_refs,
        loop_protected: classify::loop_protected(&mail.headers),
        problems,
    })
}
