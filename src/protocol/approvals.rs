//! Delay approval tokens (8.1): one per approver and request, HMAC-signed with the
//! configured secret, expiring, and single-use. Pure.

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
    #[error("approvals are not configured (approvals.token_secret_file)")]
    NoSecret,
}

fn mac(secret: &[u8], case: &str, new_due: NaiveDate, approver: &str, expires: NaiveDate) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return String::new() };
    mac.update(format!("{case}|{new_due}|{}|{expires}", approver.to_ascii_lowercase()).as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..10])
}

/// The token an approver must send back: `YYYYMMDD-` (its expiry) and a signature.
pub fn issue(secret: &[u8], case: &str, new_due: NaiveDate, approver: &str, expires: NaiveDate) -> String {
    format!("{}-{}", expires.format("%Y%m%d"), mac(secret, case, new_due, approver, expires))
}

/// Checks a token sent by `approver` for `case`'s request to move the due date to `new_due`.
pub fn verify(
    secret: Option<&[u8]>,
    case: &str,
    new_due: NaiveDate,
    approver: &str,
    token: Option<&str>,
    today: NaiveDate,
    used: &[String],
) -> Result<String, TokenError> {
    let secret = secret.ok_or(TokenError::NoSecret)?;
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
    let (expiry, signature) = token.split_once('-').ok_or(TokenError::Invalid)?;
    let expires = NaiveDate::parse_from_str(expiry, "%Y%m%d").map_err(|_| TokenError::Invalid)?;
    let expected = mac(secret, case, new_due, approver, expires);
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

    #[test]
    fn a_token_counts_once_for_its_approver_until_it_expires() {
        let secret = b"a secret of the partnership";
        let t = issue(secret, "CHSCP-2026-004", d("2027-09-30"), "slt.chair@hackney.gov.uk", d("2027-06-10"));
        let check = |who: &str, token: Option<&str>, today: &str, used: &[String]| {
            verify(Some(secret), "CHSCP-2026-004", d("2027-09-30"), who, token, d(today), used)
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
        assert_eq!(
            verify(None, "C", d("2027-09-30"), "x@y.z", Some(&t), d("2027-06-01"), &[]),
            Err(TokenError::NoSecret)
        );
    }
}
