//! `EmailAddress`: an address that has been checked once, at the edge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A syntactically valid mailbox address (`local@domain`), domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddress(String);

/// Text that is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an email address")]
pub struct NotAnEmailAddress(pub String);

impl EmailAddress {
    /// Parses `local@domain`: one `@`, no spaces or angle brackets, a dotted domain of
    /// letters, digits and hyphens.
    pub fn parse(text: &str) -> Result<Self, NotAnEmailAddress> {
        let fail = || NotAnEmailAddress(text.to_owned());
        let trimmed = text.trim();
        let (local, domain) = trimmed.rsplit_once('@').ok_or_else(fail)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.chars().all(|c| c.is_ascii_graphic() && !"<>()[]\\,;:@\"".contains(c));
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err(fail());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain, lower-case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Whether two addresses name the same mailbox (local part compared without case,
    /// as every mail system in practice does).
    pub fn same_mailbox(&self, other: &EmailAddress) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// Whether this is a documentation placeholder that must be replaced before use.
    pub fn is_placeholder(&self) -> bool {
        let domain = self.domain();
        ["example.org", "example.com", "example.net"].contains(&domain)
            || domain.ends_with(".example")
            || domain.ends_with(".invalid")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EmailAddress::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let a = EmailAddress::parse("Mailbox.NationalReviewPanel@Education.GOV.uk").unwrap();
        assert_eq!(a.as_str(), "Mailbox.NationalReviewPanel@education.gov.uk");
        assert_eq!(a.domain(), "education.gov.uk");
        assert!(a.same_mailbox(&EmailAddress::parse("mailbox.nationalreviewpanel@education.gov.uk").unwrap()));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "chscp",
            "chscp@",
            "@hackney.gov.uk",
            "a b@hackney.gov.uk",
            "<a@b.c>",
            "a@localhost",
            "a@-x.uk",
            "a@x..uk",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn knows_placeholders() {
        assert!(EmailAddress::parse("spa@example.org").unwrap().is_placeholder());
        assert!(!EmailAddress::parse("chscp@hackney.gov.uk").unwrap().is_placeholder());
    }
}
