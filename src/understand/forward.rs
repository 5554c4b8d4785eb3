//! Inline forwarded messages: the header blocks that Outlook, Gmail, Apple Mail,
//! Thunderbird, Yahoo and others put above a forwarded original, in text (HTML is
//! turned into text first). A reply that quotes a header block is not a forward: the
//! caller says whether the message reads as a reply.

use std::sync::LazyLock;

use regex::Regex;

use super::budget::{Budget, Overrun};
use crate::domain::message::{Forwarded, Sender};
use crate::domain::parse_loose_datetime;

/// Marker and "wrote:" lines are short; longer lines are not tried against them.
const MAX_MARKER_LINE: usize = 400;
/// Lines read between checks of the budget.
const LINES_PER_CHECK: usize = 4096;

/// Marker lines that introduce a forwarded block, and whether they mean "forward"
/// unambiguously (an "Original Message" marker or an Outlook separator also starts
/// quoted replies).
static MARKERS: LazyLock<Vec<(Regex, bool)>> = LazyLock::new(|| {
    [
        (r"(?i)^-{2,}\s*forwarded message\s*-{2,}", true),
        (r"(?i)^begin forwarded message\s*:", true),
        (r"(?i)^forwarded message\s*:", true),
        (r"(?i)^-{2,}\s*original message\s*-{2,}", false),
        (r"^_{10,}\s*$", false),
    ]
    .into_iter()
    .filter_map(|(re, sure)| Regex::new(re).ok().map(|r| (r, sure)))
    .collect()
});

static INLINE_FIELD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)(from|to|cc|bcc|sent|date|subject|reply-to)\s*:\s*").ok());

const FIELDS: [&str; 8] = ["from", "to", "cc", "bcc", "sent", "date", "subject", "reply-to"];

/// Field names other clients write, mapped to ours.
const ALIASES: [(&str, &str); 14] = [
    ("de", "from"),
    ("von", "from"),
    ("à", "to"),
    ("an", "to"),
    ("para", "to"),
    ("objet", "subject"),
    ("betreff", "subject"),
    ("asunto", "subject"),
    ("oggetto", "subject"),
    ("envoyé", "sent"),
    ("gesendet", "sent"),
    ("enviado", "sent"),
    ("datum", "date"),
    ("fecha", "date"),
];

static WROTE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^on (.{4,80}?),\s*(.{3,200}) wrote:\s*$").ok());

/// A forwarded block found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineForward {
    pub forwarded: Forwarded,
    /// What the forwarder wrote above the block.
    pub note: String,
}

fn unquote(line: &str) -> (&str, usize) {
    let mut rest = line;
    let mut depth = 0;
    loop {
        let trimmed = rest.trim_start();
        if let Some(r) = trimmed.strip_prefix('>') {
            rest = r;
            depth += 1;
        } else {
            return (trimmed, depth);
        }
    }
}

fn field_of(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once(':')?;
    let name = name.trim().trim_matches('*').trim().to_lowercase();
    let name = ALIASES.iter().find(|(alias, _)| *alias == name).map(|(_, ours)| (*ours).to_owned()).unwrap_or(name);
    FIELDS.contains(&name.as_str()).then(|| (name, value.trim().trim_matches('*').trim().to_owned()))
}

/// Subject prefixes of a forward.
pub fn reads_as_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_ascii_lowercase();
    ["fw:", "fwd:", "fw :", "fwd :", "tr:", "wg:"].iter().any(|p| s.starts_with(p))
}

fn strip_forward_prefix(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let Some(p) = ["fw:", "fwd:", "fw :", "fwd :", "tr:", "wg:"].iter().find(|p| lower.starts_with(*p)) else {
            return s.to_owned();
        };
        s = s[p.len()..].trim_start();
    }
}

/// Finds the first forwarded block in `text`. `subject` is the forwarding message's
/// own: a reply's subject turns off the markers that replies share with forwards, and
/// with no forward prefix ("FW:") only unambiguous forward markers count.
pub fn find(text: &str, subject: Option<&str>, budget: &Budget) -> Result<Option<InlineForward>, Overrun> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let forward_subject = subject.is_some_and(reads_as_forward);
    let reads_as_reply = subject.is_some() && !forward_subject;
    let lines: Vec<&str> = text.lines().collect();
    // Lines before this were read as part of a block that was refused.
    let mut read_until = 0;
    for (i, raw_line) in lines.iter().enumerate() {
        if i % LINES_PER_CHECK == 0 {
            budget.check()?;
        }
        let (line, _) = unquote(raw_line);
        let line = line.trim();
        let short = line.len() <= MAX_MARKER_LINE;
        if forward_subject
            && short
            && let Some(caps) = WROTE.as_ref().and_then(|re| re.captures(line))
        {
            let body: Vec<&str> = lines[i + 1..].iter().map(|l| l.strip_prefix("    ").unwrap_or(l)).collect();
            return Ok(Some(InlineForward {
                forwarded: Forwarded {
                    from: parse_sender(caps.get(2).map(|m| m.as_str()).unwrap_or("")),
                    date: caps.get(1).and_then(|m| parse_loose_datetime(m.as_str())),
                    subject: subject.map(strip_forward_prefix),
                    body: body.join("\n").trim().to_owned(),
                },
                note: lines[..i].join("\n").trim().to_owned(),
            }));
        }
        let marker = MARKERS.iter().filter(|_| short).find_map(|(re, sure)| re.find(line).map(|m| (m.end(), *sure)));
        let starts_block = match marker {
            Some((_, sure)) => sure || !reads_as_reply,
            // A `From:` line inside a block already read (and refused) starts nothing: its
            // fields are some of that block's, so they make no block either. This keeps
            // the scan linear however many `From:` lines a message holds.
            None => i >= read_until && !reads_as_reply && field_of(line).is_some_and(|(name, _)| name == "from"),
        };
        if !starts_block {
            continue;
        }
        let after_marker = marker.map(|(end, _)| line[end..].trim()).unwrap_or("");
        let found = if !after_marker.is_empty() {
            single_line_block(after_marker, &lines[i + 1..])
        } else {
            let start = if marker.is_some() { i + 1 } else { i };
            let (found, read) = block(&lines[start..]);
            read_until = read_until.max(start + read);
            found
        };
        if let Some((fields, body)) = found {
            let has = |name: &str| fields.iter().any(|(n, _)| n == name);
            let headed = has("from") && (has("subject") || has("date") || has("sent"));
            if marker.is_some() && has("from") || headed {
                let note = lines[..i].join("\n").trim().to_owned();
                return Ok(Some(InlineForward { forwarded: forwarded(&fields, body.text()), note }));
            }
        }
    }
    Ok(None)
}

/// A header block's fields and the body below it.
type Block<'a> = (Vec<(String, String)>, Body<'a>);

/// The body below a header block, built only once the block is accepted (building it
/// for every candidate would read the rest of the text again at each `From:` line).
enum Body<'a> {
    Unquoted { lines: &'a [&'a str], quote_depth: usize },
    Joined(&'a [&'a str]),
}

impl Body<'_> {
    fn text(self) -> String {
        match self {
            Body::Joined(lines) => lines.join("\n").trim().to_owned(),
            Body::Unquoted { lines, quote_depth } => {
                let body: Vec<&str> = lines
                    .iter()
                    .map(|l| {
                        let mut rest = *l;
                        for _ in 0..quote_depth {
                            let trimmed = rest.trim_start();
                            rest =
                                trimmed.strip_prefix('>').map(|r| r.strip_prefix(' ').unwrap_or(r)).unwrap_or(trimmed);
                        }
                        rest
                    })
                    .collect();
                body.join("\n").trim().to_owned()
            }
        }
    }
}

/// Header lines from the first non-blank line, and the body after them; and how many
/// lines were read.
fn block<'a>(lines: &'a [&'a str]) -> (Option<Block<'a>>, usize) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    let mut quote_depth = 0;
    while index < lines.len() && unquote(lines[index]).0.trim().is_empty() && index < 3 {
        index += 1;
    }
    while index < lines.len() {
        let (line, depth) = unquote(lines[index]);
        let line = line.trim();
        if line.is_empty() {
            break;
        }
        match field_of(line) {
            Some(field) => {
                quote_depth = depth;
                fields.push(field);
            }
            None if !fields.is_empty()
                && !line.contains(':')
                && fields.last().is_some_and(|(n, _)| n == "to" || n == "cc") =>
            {
                // A wrapped address list.
            }
            None if !fields.is_empty() && fields.iter().any(|(n, _)| n == "subject") => break,
            None if !fields.is_empty() => {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line);
                }
            }
            None => return (None, index),
        }
        index += 1;
    }
    if fields.is_empty() {
        return (None, index);
    }
    (Some((fields, Body::Unquoted { lines: &lines[index..], quote_depth })), index)
}

/// Yahoo's block: every field on the marker's own line.
fn single_line_block<'a>(text: &str, rest: &'a [&'a str]) -> Option<Block<'a>> {
    let re = INLINE_FIELD.as_ref()?;
    let starts: Vec<(usize, usize, String)> = re
        .captures_iter(text)
        .filter_map(|c| Some((c.get(0)?.start(), c.get(0)?.end(), c.get(1)?.as_str().to_ascii_lowercase())))
        .collect();
    let mut fields = Vec::new();
    for (k, (_, end, name)) in starts.iter().enumerate() {
        let stop = starts.get(k + 1).map(|s| s.0).unwrap_or(text.len());
        fields.push((name.clone(), text[*end..stop].trim().to_owned()));
    }
    (!fields.is_empty()).then_some((fields, Body::Joined(rest)))
}

fn forwarded(fields: &[(String, String)], body: String) -> Forwarded {
    let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    Forwarded {
        from: get("from").map(parse_sender).unwrap_or_default(),
        date: get("date").or(get("sent")).and_then(parse_loose_datetime),
        subject: get("subject").map(str::to_owned),
        body,
    }
}

/// `Name <a@b>`, `Name [mailto:a@b]`, `"Doe, John" <a@b>`, `a@b`, or a bare name.
pub fn parse_sender(text: &str) -> Sender {
    let text = text.trim();
    let clean_name = |n: &str| {
        let n = n.trim().trim_matches('"').trim().trim_matches('\'').trim();
        (!n.is_empty()).then(|| n.to_owned())
    };
    for (open, close) in [("<", ">"), ("[", "]")] {
        if let Some(start) = text.find(open)
            && let Some(len) = text[start + 1..].find(close)
        {
            let inner = text[start + 1..start + 1 + len].trim();
            let inner = inner.split('<').next().unwrap_or(inner);
            let address = inner.strip_prefix("mailto:").unwrap_or(inner).trim();
            if address.contains('@') {
                let name = clean_name(&text[..start]);
                let name = name.filter(|n| !n.eq_ignore_ascii_case(address));
                return Sender { name, address: Some(address.to_owned()) };
            }
        }
    }
    if text.contains('@') && !text.contains(' ') {
        return Sender { name: None, address: Some(text.trim_matches('"').to_owned()) };
    }
    Sender { name: clean_name(text), address: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_an_outlook_block_and_its_body() {
        let text = "FYI\n\nFrom: Jane Smith <jane.smith@hackney.gov.uk>\nSent: Friday, November 20, 2026 10:15 AM\nTo: Panel <x@y.uk>\nSubject: Serious incident notification\n\nBody line\n";
        let found = find(text, None, &Budget::unlimited()).unwrap().unwrap();
        assert_eq!(found.forwarded.from.address.as_deref(), Some("jane.smith@hackney.gov.uk"));
        assert_eq!(found.forwarded.from.name.as_deref(), Some("Jane Smith"));
        assert_eq!(found.forwarded.subject.as_deref(), Some("Serious incident notification"));
        assert_eq!(found.forwarded.body, "Body line");
        assert_eq!(found.note, "FYI");
        assert!(find(text, Some("Re: x"), &Budget::unlimited()).unwrap().is_none());
    }

    #[test]
    fn parses_sender_forms() {
        assert_eq!(parse_sender("John Doe [mailto:john.doe@acme.com]").address.as_deref(), Some("john.doe@acme.com"));
        assert_eq!(parse_sender("\"Doe, John\" <john.doe@acme.com>").name.as_deref(), Some("Doe, John"));
        assert_eq!(parse_sender("john.doe@acme.com").name, None);
        assert_eq!(parse_sender("John Doe").address, None);
    }
}
