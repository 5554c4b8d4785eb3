//! Which log lines are written. `CSPR_LOG` chooses (`info`, `debug`, `cspr=trace`, …),
//! but the libraries that see mail or credentials on the wire — IMAP, SMTP, HTTP — never
//! log below `warn`, whatever is asked: at their trace level they print message bodies
//! and logins. Our own lines name cases and message ids, never a child or a body.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line: for the journal and log collectors.
    Json,
    /// Text for people, coloured only when it goes to a terminal.
    Text { colour: bool },
}

/// The format: `CSPR_LOG_FORMAT` (`json` or `text`) when set, else JSON under the
/// journal (systemd sets `JOURNAL_STREAM`), else text — coloured on a terminal only, so
/// no escape sequence reaches a file or a pipe.
pub fn format(asked: Option<&str>, under_journal: bool, terminal: bool) -> Format {
    match asked.map(|a| a.trim().to_ascii_lowercase()).as_deref() {
        Some("json") => Format::Json,
        Some("text") => Format::Text { colour: terminal },
        _ if under_journal => Format::Json,
        _ => Format::Text { colour: terminal },
    }
}

/// Libraries capped at `warn`.
const CEILINGS: &[&str] = &[
    "async_imap=warn",
    "imap_proto=warn",
    "lettre=warn",
    "hyper=warn",
    "hyper_util=warn",
    "reqwest=warn",
    "h2=warn",
    "rustls=warn",
    "mail_parser=warn",
];

/// The filter for `spec` (the value of `CSPR_LOG`), or `default` when there is none or
/// it cannot be read.
pub fn filter(spec: Option<&str>, default: &str) -> EnvFilter {
    let mut filter = spec.and_then(|s| EnvFilter::try_new(s).ok()).unwrap_or_else(|| EnvFilter::new(default));
    for ceiling in CEILINGS {
        if let Ok(directive) = ceiling.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_under_the_journal_or_when_asked_and_colour_only_on_a_terminal() {
        assert_eq!(format(Some("json"), false, true), Format::Json);
        assert_eq!(format(None, true, false), Format::Json);
        assert_eq!(format(Some("text"), true, false), Format::Text { colour: false });
        assert_eq!(format(None, false, false), Format::Text { colour: false });
        assert_eq!(format(None, false, true), Format::Text { colour: true });
    }

    #[test]
    fn wire_libraries_stay_at_warn_even_when_asked_for_trace() {
        let text = filter(Some("trace,async_imap=trace"), "info").to_string();
        assert!(text.contains("async_imap=warn"), "{text}");
        assert!(!text.contains("async_imap=trace"), "{text}");
        assert!(text.contains("lettre=warn"), "{text}");
    }
}
