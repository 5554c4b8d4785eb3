//! Which log lines are written. `CSPR_LOG` chooses (`info`, `debug`, `cspr=trace`, …),
//! but the libraries that see mail or credentials on the wire — IMAP, SMTP, HTTP — never
//! log below `warn`, whatever is asked: at their trace level they print message bodies
//! and logins. Our own lines name cases and message ids, never a child or a body.

use tracing_subscriber::EnvFilter;

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
    fn wire_libraries_stay_at_warn_even_when_asked_for_trace() {
        let text = filter(Some("trace,async_imap=trace"), "info").to_string();
        assert!(text.contains("async_imap=warn"), "{text}");
        assert!(!text.contains("async_imap=trace"), "{text}");
        assert!(text.contains("lettre=warn"), "{text}");
    }
}
