//! Any header block through the sender-trust judge, under both results profiles: no
//! panic, no hang, and never `trusted` without exactly one From address holding a role
//! and a results header that could be our receiving side's.

#![no_main]

use std::sync::LazyLock;

use cspr::config::{Config, ResultsFrom};
use cspr::domain::EmailAddress;
use cspr::domain::message::Trust;
use cspr::understand::trust::{FromField, judge};
use libfuzzer_sys::fuzz_target;

fn config(results_from: ResultsFrom) -> Config {
    let mut config = Config::defaults();
    config.intake.authserv_id = Some("mx.chscp.test".into());
    config.intake.results_from = results_from;
    config.intake.tenant_domains = vec!["hackney.gov.uk".into()];
    config.intake.arc_signers = vec!["gateway.partnership.test".into()];
    config
}

static AUTHSERV: LazyLock<Config> = LazyLock::new(|| config(ResultsFrom::AuthservId));
static MICROSOFT: LazyLock<Config> = LazyLock::new(|| config(ResultsFrom::Microsoft365));

/// `Name <a@b>` → `a@b`; a bare address as it is.
fn address_of(item: &str) -> String {
    match item.split_once('<').and_then(|(_, rest)| rest.split_once('>')) {
        Some((address, _)) => address.trim().to_owned(),
        None => item.trim().to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // One header a line (`Name: value`); a line starting with white space folds into
    // the one before, as in a message.
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        if line.starts_with([' ', '\t'])
            && let Some((_, value)) = headers.last_mut()
        {
            value.push_str(line);
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let from = FromField {
        headers: headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("from"))
            .map(|(_, v)| (!v.ends_with(';')).then(|| v.split(',').map(address_of).collect()))
            .collect(),
    };
    for config in [&*AUTHSERV, &*MICROSOFT] {
        let verdict = judge(&headers, &from, &config.understanding());
        assert!(!verdict.reason.is_empty());
        if verdict.trust == Trust::Trusted {
            let [Some(addresses)] = from.headers.as_slice() else { panic!("trusted without one From header") };
            let [address] = addresses.as_slice() else { panic!("trusted without one From address") };
            let address = EmailAddress::parse(address).expect("trusted with an unreadable address");
            assert!(!config.roles_of(&address).is_empty(), "trusted without a role");
        }
        if matches!(verdict.trust, Trust::Trusted | Trust::Authenticated) && config.intake.results_from == ResultsFrom::AuthservId {
            assert!(
                headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("authentication-results")
                    && v.to_ascii_lowercase().contains("mx.chscp.test")),
                "authenticated without our results header"
            );
        }
    }
});
