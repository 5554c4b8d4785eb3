//! Understanding a raw message: headers, the forwarded original (attached or inline),
//! notification fields, kind, sender trust and case references. Pure: bytes and
//! configuration in, `Understood` out; bounded in time and memory on any input.

mod auth_results;
mod budget;
mod classify;
mod dates;
pub mod documents;
mod fields;
mod forward;
mod html;
pub mod trust;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mail_parser::{Message, MessageParser, MimeHeaders};
use regex::Regex;

pub use budget::{Budget, Overrun};
pub use classify::{COMMANDS, LOOP_HEADER, command, panel_outcome};
pub use dates::{parse_loose_datetime, parse_uk_date};

use crate::config::Config;
use crate::domain::london_date;
use crate::domain::message::{Forwarded, Kind, PanelOutcome, Sender, Understood};
use crate::domain::{EmailAddress, Role};

/// Attached messages are followed this deep; deeper ones are not opened.
const MAX_DEPTH: usize = 8;
/// A message with more parts, or parts nested deeper, is hostile or broken: triage.
const MAX_PARTS: usize = 500;
const MAX_NESTING: usize = 20;
/// Case references read from one message at most (the subject and the new text).
const MAX_CASE_REFS: usize = 20;
/// Panel and local-authority references read from one message at most.
const MAX_EXTERNAL_REFS: usize = 20;
/// Message-IDs read from `In-Reply-To` and `References` at most (the latest are kept).
const MAX_THREAD_IDS: usize = 100;
/// A quotation introduction ("On … wrote:") is a short line; longer ones are not tried.
const MAX_INTRO_LINE: usize = 1000;

/// Problems with the MIME structure itself (iterative: no recursion on input depth).
fn structure_problems(message: &Message<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    if message.parts.len() > MAX_PARTS {
        problems.push(format!("message has {} parts, over the limit of {MAX_PARTS}", message.parts.len()));
    }
    let mut deepest = 0;
    let mut stack = vec![(0usize, 1usize)];
    let mut visited = 0;
    while let Some((index, depth)) = stack.pop() {
        visited += 1;
        if visited > message.parts.len() * 2 + 2 {
            break;
        }
        deepest = deepest.max(depth);
        if let Some(children) = message.parts.get(index).and_then(|p| p.sub_parts()) {
            stack.extend(children.iter().map(|c| (*c as usize, depth + 1)));
        }
    }
    if deepest > MAX_NESTING {
        problems.push(format!("message parts nest {deepest} levels deep, over the limit of {MAX_NESTING}"));
    }
    problems
}

/// The parts of a parsed message this module reads.
struct Mail {
    message_id: Option<String>,
    from: Sender,
    date: Option<DateTime<Utc>>,
    subject: Option<String>,
    in_reply_to: Vec<String>,
    references: Vec<String>,
    headers: Vec<(String, String)>,
    from_field: trust::FromField,
    content_type: String,
    text: String,
    attached: Option<Box<Mail>>,
}

/// Every `From:` header's addresses (`None` for group syntax), as the parser read them.
fn from_field(message: &Message<'_>) -> trust::FromField {
    use mail_parser::{Address, HeaderName, HeaderValue};
    let headers = message
        .headers()
        .iter()
        .filter(|h| h.name == HeaderName::From)
        .map(|h| match &h.value {
            HeaderValue::Address(Address::List(list)) => {
                Some(list.iter().map(|a| a.address().unwrap_or("").trim().to_owned()).collect())
            }
            HeaderValue::Address(Address::Group(_)) => None,
            _ => Some(Vec::new()),
        })
        .collect();
    trust::FromField { headers }
}

/// Documents attached to the message or to a message attached to it (to `MAX_DEPTH`).
fn documents_in<'a>(message: &'a Message<'a>, depth: usize, found: &mut Vec<(Option<&'a str>, &'a [u8])>) {
    for part in message.attachments() {
        if let Some(inner) = part.message() {
            if depth < MAX_DEPTH {
                documents_in(inner, depth + 1, found);
            }
        } else {
            found.push((part.attachment_name(), part.contents()));
        }
    }
}

/// The text of each attached document, and a sentence for each that could not be read.
fn read_documents(message: &Message<'_>, budget: &Budget) -> Result<(Vec<String>, Vec<String>), Overrun> {
    let limits = documents::Limits::default();
    let mut found = Vec::new();
    documents_in(message, 0, &mut found);
    let mut texts = Vec::new();
    let mut problems = Vec::new();
    let recognised: Vec<_> = found
        .into_iter()
        .filter_map(|(name, bytes)| documents::kind_of(name, bytes).map(|kind| (kind, bytes)))
        .collect();
    if recognised.len() > limits.max_documents {
        problems.push(format!(
            "{} documents attached, over the limit of {}: only the first are read",
            recognised.len(),
            limits.max_documents
        ));
    }
    for (kind, bytes) in recognised.into_iter().take(limits.max_documents) {
        budget.check()?;
        match documents::extract(kind, bytes, &limits) {
            Ok(text) => texts.push(text),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((texts, problems))
}

fn sender_of(message: &Message<'_>) -> Sender {
    message
        .from()
        .and_then(|a| a.first())
        .map(|a| Sender {
            name: a.name().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            address: a.address().map(|a| a.trim().to_owned()),
        })
        .unwrap_or_default()
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn text_of(message: &Message<'_>, budget: &Budget) -> Result<String, Overrun> {
    budget.check()?;
    if let Some(part) = message.text_bodies().find(|p| !p.is_text_html())
        && let Some(text) = part.text_contents()
    {
        return Ok(text.replace("\r\n", "\n"));
    }
    if let Some(part) = message.html_bodies().next()
        && let Some(html) = part.text_contents()
    {
        return html::to_text(html, budget);
    }
    Ok(String::new())
}

/// The last `MAX_THREAD_IDS` of a thread header's Message-IDs (the nearest ancestors).
fn thread_ids(value: &mail_parser::HeaderValue<'_>, problems: &mut Vec<String>) -> Vec<String> {
    let mut all = ids(value);
    if all.len() > MAX_THREAD_IDS {
        problems.push(format!(
            "a thread header lists {} Message-IDs, over the limit of {MAX_THREAD_IDS}: only the last are followed",
            all.len()
        ));
        all.drain(..all.len() - MAX_THREAD_IDS);
    }
    all
}

fn mail_of(message: &Message<'_>, depth: usize, budget: &Budget, problems: &mut Vec<String>) -> Result<Mail, Overrun> {
    let attached = match message.attachments().find_map(|part| part.message()) {
        Some(inner) if depth < MAX_DEPTH => Some(Box::new(mail_of(inner, depth + 1, budget, problems)?)),
        _ => None,
    };
    Ok(Mail {
        message_id: message.message_id().map(str::to_owned),
        from: sender_of(message),
        date: message.date().filter(|d| d.is_valid()).and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        subject: message.subject().map(str::to_owned),
        in_reply_to: thread_ids(message.in_reply_to(), problems),
        references: thread_ids(message.references(), problems),
        headers: message.headers_raw().map(|(n, v)| (n.to_owned(), v.trim().to_owned())).collect(),
        from_field: from_field(message),
        content_type: message
            .content_type()
            .map(|ct| {
                let mut s = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or(""));
                if let Some(report) = ct.attribute("report-type") {
                    s.push_str("; report-type=");
                    s.push_str(report);
                }
                s
            })
            .unwrap_or_default(),
        text: text_of(message, budget)?,
        attached,
    })
}

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

fn is_panel(config: &Config, address: Option<&str>) -> bool {
    address.and_then(|a| EmailAddress::parse(a).ok()).is_some_and(|a| config.roles_of(&a).contains(&Role::Panel))
}

/// The forwarded original written inline in `text`, if any; `subject` (the forwarding
/// message's own) tells a reply from a forward.
pub fn forwarded_in_text(text: &str, subject: Option<&str>) -> Option<Forwarded> {
    forward::find(text, subject, &Budget::unlimited()).ok().flatten().map(|f| f.forwarded)
}

/// Understands one raw message, however long it takes (tools and tests).
pub fn understand(raw: &[u8], config: &Config) -> Understood {
    understand_within(raw, config, &Budget::unlimited())
        .unwrap_or_else(|overrun| Understood::empty(vec![overrun.to_string()]))
}

/// Understands one raw message, or stops with `Overrun` once `budget` is spent. Every
/// step is linear in the message; any limit that applies is named in `problems`.
pub fn understand_within(raw: &[u8], config: &Config, budget: &Budget) -> Result<Understood, Overrun> {
    let mut problems = Vec::new();
    if raw.len() as u64 > config.intake.max_message_bytes {
        problems.push(format!("message is {} bytes, over the limit of {}", raw.len(), config.intake.max_message_bytes));
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
    let mut original_text = forwarded.as_ref().map(|f| f.body.as_str()).unwrap_or(&mail.text);
    let original_subject = forwarded.as_ref().and_then(|f| f.subject.as_deref()).or(mail.subject.as_deref());
    let written_on = forwarded.as_ref().and_then(|f| f.date).or(mail.date).map(|d| london_date(&d));
    let mut extracted = fields::extract(original_text, original_subject, written_on, config);
    let found_in_body = extracted.found;
    // A notification sent as a document: its text stands for the body when it says more.
    let (document_texts, document_problems) =
        if hostile { (Vec::new(), Vec::new()) } else { read_documents(&message, budget)? };
    for text in &document_texts {
        budget.check()?;
        let from_document = fields::extract(text, original_subject, written_on, config);
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
    let fresh = new_text(&mail.text);
    let (refs, more_refs) = distinct_matches([&config.cases.pattern], &[&subject, &fresh], MAX_CASE_REFS, budget)?;
    if more_refs {
        problems.push(format!("more than {MAX_CASE_REFS} case references: only the first {MAX_CASE_REFS} are read"));
    }
    let own_domain = format!("@{}", config.intake.own_message_id_domain);
    let replies_to_us =
        mail.in_reply_to.iter().chain(&mail.references).any(|id| id.to_ascii_lowercase().ends_with(&own_domain));
    let from_panel = is_panel(config, mail.from.address.as_deref())
        || forwarded.as_ref().is_some_and(|f| is_panel(config, f.from.address.as_deref()));
    let return_path_null = mail
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("return-path"))
        .is_some_and(|(_, v)| v.trim() == "<>" || v.trim().is_empty());
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
        replies_to_us,
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
    let panel = (kind == Kind::PanelResponse).then(|| panel_outcome(original_text));
    let (external_refs, more_external) = distinct_matches(
        config.panel_patterns.iter().chain(&config.la_patterns),
        &[&mail.text],
        MAX_EXTERNAL_REFS,
        budget,
    )?;
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
    let verdict = trust::judge(&mail.headers, &mail.from_field, config);
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
        notification: (kind == Kind::Notification).then_some(extracted.fields),
        panel_outcome: panel,
        command: if kind == Kind::StaffCommand { command(&fresh) } else { None },
        case_refs: refs,
        external_refs,
        loop_protected: classify::loop_protected(&mail.headers),
        problems,
    })
}

/// The text of an attached original, including its own attached message's text.
fn inner_text(mail: &Mail) -> String {
    match &mail.attached {
        Some(deeper) if mail.text.trim().is_empty() => inner_text(deeper),
        Some(deeper) => format!("{}\n\n{}", mail.text, inner_text(deeper)),
        None => mail.text.clone(),
    }
}

/// The `inspect --json` shape.
pub fn to_json(u: &Understood) -> serde_json::Value {
    let sender = |s: &Sender| serde_json::json!({"name": s.name, "address": s.address});
    let rfc3339 = |d: &DateTime<Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "message_id": u.message_id,
        "from": sender(&u.from),
        "date": u.date.as_ref().map(rfc3339),
        "date_london": u.date_london.map(|d| d.to_string()),
        "subject": u.subject,
        "kind": u.kind.as_str(),
        "trust": u.trust.as_str(),
        "trust_reason": u.trust_reason,
        "reply_allowed": u.reply_allowed,
        "forwarded": u.forwarded.as_ref().map(|f| serde_json::json!({
            "from": sender(&f.from),
            "date": f.date.as_ref().map(rfc3339),
            "subject": f.subject,
        })),
        "notification": u.notification.as_ref().map(|n| serde_json::json!({
            "local_authority": n.local_authority,
            "incident_type": n.incident_type,
            "aware_date": n.aware_date.map(|d| d.to_string()),
            "notified_date": n.notified_date.map(|d| d.to_string()),
            "panel_reference": n.panel_reference,
            "la_reference": n.la_reference,
            "children": n.children,
            "looked_after": n.looked_after,
            "abuse_or_neglect_suspected": n.abuse_or_neglect_suspected,
            "child_identifiers_present": !n.child_identifiers.is_empty(),
        })),
        "panel_response": u.panel_outcome.map(|o: PanelOutcome| serde_json::json!({"outcome": o})),
        "command": u.command.as_ref().map(|c| c.word.clone()),
        "case_refs": u.case_refs,
        "external_refs": u.external_refs,
        "loop_protected": u.loop_protected,
        "problems": u.problems,
    })
}
