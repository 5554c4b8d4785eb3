//! Composing one email: our address as sender, the recipients, a subject carrying the
//! case tag, a Message-ID derived from the outbox row (the same on every attempt),
//! threading headers that keep each case in one thread, loop-protection headers, and
//! text and HTML parts.

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use sha2::{Digest, Sha256};

use super::templates::Rendered;

/// The Message-ID of an outbox row: `REF.hash@domain` (or `cspr.hash@domain` with no
/// case), so that replies lead back to the case.
pub fn message_id(case: Option<&str>, dedupe_key: &str, domain: &str) -> String {
    let hash = hex::encode(Sha256::digest(dedupe_key.as_bytes()));
    format!("{}.{}@{domain}", case.unwrap_or("cspr"), &hash[..24])
}

/// The thread every email of a case refers to.
pub fn thread_root(case: &str, domain: &str) -> String {
    format!("{case}.thread@{domain}")
}

macro_rules! text_header {
    ($name:ident, $header:literal) => {
        #[derive(Debug, Clone)]
        struct $name(String);

        impl Header for $name {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($header)
            }

            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(s.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(LoopMarker, "X-CSPR-Loop");
text_header!(AutoResponseSuppress, "X-Auto-Response-Suppress");

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("'{0}' cannot be used as an address")]
    Address(String),
    #[error("cannot build the email: {0}")]
    Build(String),
}

/// What an email needs besides its wording.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub from_name: &'a str,
    pub from: &'a str,
    pub to: &'a [String],
    pub message_id: &'a str,
    pub case: Option<&'a str>,
    pub domain: &'a str,
    pub date: std::time::SystemTime,
}

/// The email as bytes, ready for SMTP and for the Sent folder.
pub fn compose(envelope: &Envelope<'_>, rendered: &Rendered) -> Result<Vec<u8>, ComposeError> {
    let from: Mailbox = format!("{} <{}>", envelope.from_name.replace(['<', '>', '"'], ""), envelope.from)
        .parse()
        .map_err(|_| ComposeError::Address(envelope.from.to_owned()))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(rendered.subject.clone())
        .message_id(Some(format!("<{}>", envelope.message_id)))
        .date(envelope.date)
        .header(AutoSubmitted("auto-generated".into()))
        .header(AutoResponseSuppress("All".into()))
        .header(LoopMarker("1".into()));
    for to in envelope.to {
        let mailbox: Mailbox = to.parse().map_err(|_| ComposeError::Address(to.clone()))?;
        builder = builder.to(mailbox);
    }
    if let Some(case) = envelope.case {
        let root = format!("<{}>", thread_root(case, envelope.domain));
        builder = builder.in_reply_to(root.clone()).references(root);
    }
    let message = builder
        .multipart(MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone()))
        .map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(message.formatted())
}
