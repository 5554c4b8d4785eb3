//! Sender trust: the sender is on a role's allowlist AND our own receiving server's
//! `Authentication-Results` (matched by authserv-id; anyone else's are ignored) shows
//! DMARC pass or a DKIM pass aligned with the From domain.

use crate::config::Config;
use crate::domain::EmailAddress;
use crate::domain::message::Trust;

/// Judges trust from the headers (top to bottom, as received) and the From address.
pub fn judge(headers: &[(String, String)], from: Option<&str>, config: &Config) -> Trust {
    let Some(authserv_id) = config.intake.authserv_id.as_deref() else {
        return Trust::Unknown;
    };
    let Some(from) = from.and_then(|a| EmailAddress::parse(a).ok()) else {
        return Trust::Untrusted;
    };
    if config.roles_of(&from).is_empty() {
        return Trust::Untrusted;
    }
    let ours =
        headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case("authentication-results")).find(|(_, value)| {
            let id = value.split(';').next().unwrap_or("").split_whitespace().next().unwrap_or("");
            id.eq_ignore_ascii_case(authserv_id)
        });
    let Some((_, results)) = ours else {
        return Trust::Untrusted;
    };
    if passes(results, from.domain()) { Trust::Trusted } else { Trust::Untrusted }
}

fn passes(results: &str, from_domain: &str) -> bool {
    let unfolded = results.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let mut statements = unfolded.split(';').skip(1);
    statements.any(|statement| {
        let statement = statement.trim();
        if statement.starts_with("dmarc=pass") {
            return true;
        }
        if statement.starts_with("dkim=pass") {
            return statement.split_whitespace().any(|prop| {
                prop.strip_prefix("header.d=")
                    .map(|d| d.trim_matches('"') == from_domain)
                    .or_else(|| {
                        prop.strip_prefix("header.i=")
                            .map(|i| i.trim_matches('"').trim_start_matches('@').ends_with(from_domain))
                    })
                    .unwrap_or(false)
            });
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_servers_verdict_counts() {
        assert!(passes(
            "mx.chscp.test; dkim=pass header.d=hackney.gov.uk; dmarc=pass header.from=hackney.gov.uk",
            "hackney.gov.uk"
        ));
        assert!(passes("mx.chscp.test; dkim=pass header.d=hackney.gov.uk; dmarc=none", "hackney.gov.uk"));
        assert!(!passes("mx.chscp.test; dkim=pass header.d=evil.example; dmarc=fail", "hackney.gov.uk"));
        assert!(!passes("mx.chscp.test; spf=pass smtp.mailfrom=hackney.gov.uk", "hackney.gov.uk"));
    }
}
