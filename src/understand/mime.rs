//! Reading the MIME tree: its structure checked, headers and text taken out, attached
//! messages followed (to a depth), and attached documents found and read.

use chrono::{DateTime, Utc};
use mail_parser::{Message, MimeHeaders};

use super::{Budget, Overrun, documents, html, trust};
use crate::domain::message::Sender;

/// Attached messages are followed this deep; deeper ones are not opened.
pub(super) const MAX_DEPTH: usize = 8;
/// A message with more parts, or parts nested deeper, is hostile or broken: triage.
pub(super) const MAX_PARTS: usize = 500;
pub(super) const MAX_NESTING: usize = 20;
/// Message-IDs read from `In-Reply-To` and `References` at most (the latest are kept).
pub(super) const MAX_THREAD_IDS: usize = 100;
/// Problems with the MIME structure itself (iterative: no recursion on input depth).
pub(super) fn structure_problems(message: &Message<'_>) -> Vec<String> {
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
pub(super) struct Mail {
    pub(super) message_id: Option<String>,
    pub(super) from: Sender,
    pub(super) date: Option<DateTime<Utc>>,
    pub(super) subject: Option<String>,
    pub(super) in_reply_to: Vec<String>,
    pub(super) references: Vec<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) from_field: trust::FromField,
    pub(super) content_type: String,
    pub(super) text: String,
    pub(super) attached: Option<Box<Mail>>,
}

/// Every `From:` header's addresses (`None` for group syntax), as the parser read them.
pub(super) fn from_field(message: &Message<'_>) -> trust::FromField {
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
pub(super) fn documents_in<'a>(message: &'a Message<'a>, depth: usize, found: &mut Vec<(Option<&'a str>, &'a [u8])>) {
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
pub(super) fn read_documents(
    message: &Message<'_>,
    budget: &Budget,
    reader: &dyn documents::Reader,
) -> Result<(Vec<String>, Vec<String>), Overrun> {
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
        match documents::extract(kind, bytes, &limits, reader) {
            Ok(text) => texts.push(text),
            Err(problem) => problems.push(problem),
        }
    }
    Ok((texts, problems))
}

pub(super) fn sender_of(message: &Message<'_>) -> Sender {
    message
        .from()
        .and_then(|a| a.first())
        .map(|a| Sender {
            name: a.name().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            address: a.address().map(|a| a.trim().to_owned()),
        })
        .unwrap_or_default()
}

pub(super) fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn text_of(message: &Message<'_>, budget: &Budget) -> Result<String, Overrun> {
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
pub(super) fn thread_ids(value: &mail_parser::HeaderValue<'_>, problems: &mut Vec<String>) -> Vec<String> {
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

pub(super) fn mail_of(
    message: &Message<'_>,
    depth: usize,
    budget: &Budget,
    problems: &mut Vec<String>,
) -> Result<Mail, Overrun> {
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

/// The text of an attached original, including its own attached message's text.
pub(super) fn inner_text(mail: &Mail) -> String {
    match &mail.attached {
        Some(deeper) if mail.text.trim().is_empty() => inner_text(deeper),
        Some(deeper) => format!("{}\n\n{}", mail.text, inner_text(deeper)),
        None => mail.text.clone(),
    }
}
