//! Delay approval tokens (8.1): one per approver and request, HMAC-signed with the
//! configured secret over the case, the request's number, the new date, the approver
//! and the expiry; expiring, single-use, and dead once a later request replaces theirs.
//! Pure.

use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a token does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("no approval token was given")]
    Missing,
    #[error("the approval token is not valid for this sender and request")]
    Invalid,
    #[error("the approval token expired on {0}")]
    Expired(NaiveDate),
    #[error("the approval token has already been used")]
    Used,
    #[error("the approval token belongs to request {0}, since replaced by request {1}")]
    Superseded(u32, u32),
    #[error("approvals are not configured (approvals.token_secret_file)")]
    NoSecret,
}

/// The request a token answers: the case, its delay request's number and new date.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub case: &'a str,
    /// Numbered per case from 1; 0 for requests made before tokens carried a number.
    pub number: u32,
    pub new_due: NaiveDate,
}

fn mac(secret: &[u8], request: &Request<'_>, approver: &str, expires: NaiveDate) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    let approver = approver.to_ascii_lowercase();
    let signed = match request.number {
        0 => format!("{}|{}|{approver}|{expires}", request.case, request.new_due),
        n => format!("{}|request {n}|{}|{approver}|{expires}", request.case, request.new_due),
    };
    mac.update(signed.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..10])
}

/// The token an approver must send back: `N-YYYYMMDD-` (the request's number, the
/// expiry) and a signature.
pub fn issue(secret: &[u8], request: &Request<'_>, approver: &str, expires: NaiveDate) -> String {
    let signature = mac(secret, request, approver, expires);
    match request.number {
        0 => format!("{}-{signature}", expires.format("%Y%m%d")),
        n => format!("{n}-{}-{signature}", expires.format("%Y%m%d")),
    }
}

/// Checks a token sent by `approver` for the waiting `request`.
pub fn verify(
    secret: Option<&[u8]>,
    request: &Request<'_>,
    approver: &str,
    token: Option<&str>,
    today: NaiveDate,
    used: &[String],
) -> Result<String, TokenError> {
    let secret = secret.ok_or(TokenError::NoSecret)?;
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
    let parts: Vec<&str> = token.splitn(3, '-').collect();
    let (number, expiry, signature) = match parts.as_slice() {
        [expiry, signature] => (0, *expiry, *signature),
        [number, expiry, signature] => (number.parse::<u32>().map_err(|_| TokenError::Invalid)?, *expiry, *signature),
        _ => return Err(TokenError::Invalid),
    };
    if number < request.number {
        return Err(TokenError::Superseded(number, request.number));
    }
    if number != request.number {
        return Err(TokenError::Invalid);
    }
    let expires = NaiveDate::parse_from_str(expiry, "%Y%m%d").map_err(|_| TokenError::Invalid)?;
    let expected = mac(secret, request, approver, expires);
    // Compare without an early exit.
    let same = expected.len() == signature.len()
        && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(TokenError::Invalid);
    }
    if today > expires {
        return Err(TokenError::Expired(expires));
    }
    if used.iter().any(|u| u == token) {
        return Err(TokenError::Used);
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const SECRET: &[u8] = b"a secret of the partnership, 32 bytes or more";

    fn request(number: u32) -> Request<'static> {
        Request { case: "CHSCP-2026-004", number, new_due: d("2027-09-30") }
    }

    #[test]
    fn a_token_counts_once_for_its_approver_until_it_expires() {
        let t = issue(SECRET, &request(1), "slt.chair@hackney.gov.uk", d("2027-06-10"));
        assert!(t.starts_with("1-20270610-"), "{t}");
        let check = |who: &str, token: Option<&str>, today: &str, used: &[String]| {
            verify(Some(SECRET), &request(1), who, token, d(today), used)
        };
        assert_eq!(check("SLT.Chair@hackney.gov.uk", Some(&t), "2027-06-01", &[]), Ok(t.clone()));
        assert_eq!(check("slt.member@hackney.gov.uk", Some(&t), "2027-06-01", &[]), Err(TokenError::Invalid));
        assert_eq!(
            check("slt.chair@hackney.gov.uk", Some(&t), "2027-06-11", &[]),
            Err(TokenError::Expired(d("2027-06-10")))
        );
        assert_eq!(
            check("slt.chair@hackney.gov.uk", Some(&t), "2027-06-01", std::slice::from_ref(&t)),
            Err(TokenError::Used)
        );
        assert_eq!(check("slt.chair@hackney.gov.uk", None, "2027-06-01", &[]), Err(TokenError::Missing));
        let altered = format!("{}0", &t[..t.len() - 1]);
        assert_eq!(check("slt.chair@hackney.gov.uk", Some(&altered), "2027-06-01", &[]), Err(TokenError::Invalid));
        // A later expiry written into the token breaks its signature.
        let extended = t.replacen("20270610", "20271231", 1);
        assert_eq!(check("slt.chair@hackney.gov.uk", Some(&extended), "2027-06-01", &[]), Err(TokenError::Invalid));
        assert_eq!(verify(None, &request(1), "x@y.z", Some(&t), d("2027-06-01"), &[]), Err(TokenError::NoSecret));
    }

    #[test]
    fn a_token_is_bound_to_its_request_and_dies_when_a_later_one_replaces_it() {
        let first = issue(SECRET, &request(1), "slt.chair@hackney.gov.uk", d("2027-06-10"));
        // The same case, date, approver and expiry, asked again: the first token is dead.
        let check = |token: &str, number: u32| {
            verify(Some(SECRET), &request(number), "slt.chair@hackney.gov.uk", Some(token), d("2027-06-01"), &[])
        };
        assert_eq!(check(&first, 2), Err(TokenError::Superseded(1, 2)));
        // Renumbered by hand, its signature no longer holds.
        assert_eq!(check(&first.replacen("1-", "2-", 1), 2), Err(TokenError::Invalid));
        // A number from the future is not a request.
        assert_eq!(check(&first.replacen("1-", "7-", 1), 2), Err(TokenError::Invalid));
        let second = issue(SECRET, &request(2), "slt.chair@hackney.gov.uk", d("2027-06-10"));
        assert_eq!(check(&second, 2), Ok(second.clone()));
        assert_ne!(first[2..], second[2..]);
    }

    #[test]
    fn tokens_issued_before_requests_were_numbered_still_count_for_their_request() {
        let legacy = issue(SECRET, &request(0), "slt.chair@hackney.gov.uk", d("2027-06-10"));
        assert!(legacy.starts_with("20270610-"));
        assert_eq!(
            verify(Some(SECRET), &request(0), "slt.chair@hackney.gov.uk", Some(&legacy), d("2027-06-01"), &[]),
            Ok(legacy.clone())
        );
        assert_eq!(
            verify(Some(SECRET), &request(1), "slt.chair@hackney.gov.uk", Some(&legacy), d("2027-06-01"), &[]),
            Err(TokenError::Superseded(0, 1))
        );
    }
}
