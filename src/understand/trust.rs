//! Sender trust, as RFC 7489 (DMARC) and RFC 8601 (Authentication-Results) mean it: the
//! one From address is authenticated when the verdict our own receiving side wrote shows
//! a DMARC pass for the From domain or a DKIM pass signed by it (strict: the domain
//! itself, no suffix), or an ARC chain sealed by a signer we name carries one; the sender
//! is trusted when it is authenticated and holds a role. Pure: headers in, verdict out.
//!
//! Whose verdict counts (`intake.results_from`):
//! - `authserv-id`: the topmost `Authentication-Results` carrying our `authserv_id`. Our
//!   receiving server must strip such headers arriving from outside (README, "Sender
//!   authentication"); one forged below ours is never read.
//! - `microsoft365`: the topmost `Authentication-Results` (Exchange Online writes it with
//!   no authserv-id), and `X-MS-Exchange-Organization-AuthAs: Internal` for mail from
//!   the tenant's own accepted domains (`intake.tenant_domains`); Exchange strips
//!   `X-MS-Exchange-Organization-*` headers arriving from outside.

use super::Rules;
use super::auth_results::{self, Results, Statement};
use crate::domain::EmailAddress;
use crate::domain::message::Trust;
use crate::domain::policy::ResultsFrom;

/// The From header as the parser read it: one entry per `From:` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FromField {
    /// Per `From:` header: its addresses, or `None` for group syntax.
    pub headers: Vec<Option<Vec<String>>>,
}

/// The judgement and a short phrase saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub trust: Trust,
    pub reason: String,
    /// The From address may be written to: its domain is authenticated, or SPF passed
    /// for an envelope sender in the From domain at our server. A reply to anyone else
    /// could land on an innocent party whose address was forged (backscatter).
    pub reply_allowed: bool,
}

impl Verdict {
    fn new(trust: Trust, reason: impl Into<String>) -> Self {
        Self { trust, reason: reason.into(), reply_allowed: matches!(trust, Trust::Trusted | Trust::Authenticated) }
    }
}

/// Our verdict shows SPF passing for an envelope sender in `domain`.
fn spf_aligned(results: &Results, domain: &str) -> bool {
    results.statements.iter().any(|s| {
        s.method == "spf"
            && s.result == "pass"
            && s.property("smtp.mailfrom").map(|m| m.rsplit('@').next().unwrap_or(m)) == Some(domain)
    })
}

/// Judges the sender from the headers (top to bottom, as received) and the From field.
pub fn judge(headers: &[(String, String)], from: &FromField, rules: &Rules<'_>) -> Verdict {
    let intake = rules.intake;
    let authserv_id = match (intake.results_from, intake.authserv_id.as_deref()) {
        (ResultsFrom::AuthservId, None) => {
            return Verdict::new(Trust::Unknown, "no authserv-id configured");
        }
        (_, id) => id.map(str::to_ascii_lowercase),
    };
    let address = match from.headers.as_slice() {
        [] => return Verdict::new(Trust::Untrusted, "no From header"),
        [Some(addresses)] => match addresses.as_slice() {
            [one] => one,
            [] => return Verdict::new(Trust::Untrusted, "no address in From"),
            many => return Verdict::new(Trust::Untrusted, format!("{} addresses in From", many.len())),
        },
        [None] => return Verdict::new(Trust::Untrusted, "group syntax in From"),
        many => return Verdict::new(Trust::Untrusted, format!("{} From headers", number(many.len()))),
    };
    let Ok(address) = EmailAddress::parse(address) else {
        return Verdict::new(Trust::Untrusted, "From address not readable");
    };
    let domain = address.domain();
    let named = |name: &'static str| headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let ours = match intake.results_from {
        ResultsFrom::AuthservId => {
            let id = authserv_id.unwrap_or_default();
            named("authentication-results")
                .map(|v| auth_results::parse(v))
                .find(|r| r.authserv_id.as_deref() == Some(id.as_str()))
        }
        ResultsFrom::Microsoft365 => named("authentication-results").next().map(|v| auth_results::parse(v)),
    };
    let internal = intake.results_from == ResultsFrom::Microsoft365
        && intake.tenant_domains.iter().any(|d| d == domain)
        && named("x-ms-exchange-organization-authas").next().is_some_and(|v| v.trim().eq_ignore_ascii_case("internal"));
    let authenticated = if internal {
        Ok(format!("internal to the Microsoft 365 tenant ({domain})"))
    } else {
        match &ours {
            None => Err(match intake.results_from {
                ResultsFrom::AuthservId => {
                    format!("no Authentication-Results from {}", intake.authserv_id.as_deref().unwrap_or(""))
                }
                ResultsFrom::Microsoft365 => "no Authentication-Results from Microsoft 365".to_owned(),
            }),
            Some(results) => {
                aligned(results, domain).or_else(|why| arc(results, headers, domain, rules).unwrap_or(Err(why)))
            }
        }
    };
    match authenticated {
        Err(why) => Verdict {
            reply_allowed: ours.as_ref().is_some_and(|r| spf_aligned(r, domain)),
            ..Verdict::new(Trust::Untrusted, why)
        },
        Ok(how) if rules.directory.roles_of(&address).is_empty() => {
            Verdict::new(Trust::Authenticated, format!("{how}; no role"))
        }
        Ok(how) => Verdict::new(Trust::Trusted, how),
    }
}

fn number(n: usize) -> String {
    match n {
        2 => "two".into(),
        3 => "three".into(),
        n => n.to_string(),
    }
}

/// `Ok(how)` for a DMARC pass for `domain` or a DKIM pass signed by `domain`; else why not.
fn aligned(results: &Results, domain: &str) -> Result<String, String> {
    let by = |method: &'static str| results.statements.iter().filter(move |s| s.method == method);
    if by("dmarc").any(|s| s.result == "pass" && s.property("header.from") == Some(domain)) {
        return Ok(format!("dmarc pass for {domain}"));
    }
    if by("dkim").any(|s| s.result == "pass" && s.property("header.d") == Some(domain)) {
        return Ok(format!("dkim pass for {domain}"));
    }
    Err(why_not(results, domain))
}

fn why_not(results: &Results, domain: &str) -> String {
    let statements: Vec<&Statement> = results.statements.iter().collect();
    let find = |method: &str, result: &str| statements.iter().find(|s| s.method == method && s.result == result);
    if let Some(s) = find("dmarc", "pass") {
        return format!("dmarc pass for {}, not {domain}", s.property("header.from").unwrap_or("no domain"));
    }
    if find("dmarc", "bestguesspass").is_some() {
        return "dmarc bestguesspass does not count".into();
    }
    if let Some(s) = find("dkim", "pass") {
        return format!("dkim domain not aligned ({})", s.property("header.d").unwrap_or("no domain"));
    }
    if let Some(s) = statements.iter().find(|s| s.method == "dmarc") {
        return format!("dmarc {} for {domain}", s.result);
    }
    if find("compauth", "pass").is_some() {
        return "compauth alone does not count".into();
    }
    if find("spf", "pass").is_some() {
        return "spf alone does not count".into();
    }
    if let Some(s) = statements.iter().find(|s| s.method == "dkim") {
        return format!("dkim {}", s.result);
    }
    "no dmarc or dkim result".into()
}

/// When our own verdict says `arc=pass`, the newest ARC set, if sealed by a signer we
/// name, vouches with its own results: `None` when ARC has no say.
fn arc(
    ours: &Results,
    headers: &[(String, String)],
    domain: &str,
    rules: &Rules<'_>,
) -> Option<Result<String, String>> {
    if !ours.statements.iter().any(|s| s.method == "arc" && s.result == "pass") {
        return None;
    }
    let seals = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("arc-seal")).map(|(_, v)| auth_results::seal(v));
    let Some((newest, sealer)) = seals.filter_map(|(i, d)| Some((i?, d?))).max_by_key(|(i, _)| *i) else {
        return Some(Err("arc pass without a readable seal".into()));
    };
    if !rules.intake.arc_signers.contains(&sealer) {
        return Some(Err(format!("arc sealed by {sealer}, not a named signer")));
    }
    let results = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("arc-authentication-results"))
        .map(|(_, v)| auth_results::parse(v))
        .find(|r| r.instance == Some(newest));
    let Some(results) = results else {
        return Some(Err(format!("arc sealed by {sealer} without its results")));
    };
    Some(
        aligned(&results, domain)
            .map(|how| format!("arc sealed by {sealer}: {how}"))
            .map_err(|why| format!("arc sealed by {sealer}: {why}")),
    )
}
