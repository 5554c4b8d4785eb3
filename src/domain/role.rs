//! Who is who in the protocol: the roles the daemon writes to and takes commands from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A role in the protocol (see protocol.md, "Who is who").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Senior Professional Advisor: leads every Rapid Review.
    Spa,
    /// Independent Child Safeguarding Commissioner.
    Icsc,
    /// Strategic Leadership Team.
    Slt,
    /// The business support officer who runs the mailbox day to day: resolves triage,
    /// opens cases and proposes corrections; never decides, closes or approves.
    BusinessSupport,
    /// The Case Review sub-group of partner representatives.
    CaseReviewSubgroup,
    /// The duty address that must see a misdirected referral at once.
    Duty,
    /// A local authority's children's social care.
    LocalAuthority,
    /// The national Child Safeguarding Practice Review Panel.
    Panel,
    /// The Secretary of State (DfE).
    SecretaryOfState,
    /// Ofsted.
    Ofsted,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Spa,
        Role::Icsc,
        Role::Slt,
        Role::BusinessSupport,
        Role::CaseReviewSubgroup,
        Role::Duty,
        Role::LocalAuthority,
        Role::Panel,
        Role::SecretaryOfState,
        Role::Ofsted,
    ];

    /// The configuration key and wire name.
    pub fn key(self) -> &'static str {
        match self {
            Role::Spa => "spa",
            Role::Icsc => "icsc",
            Role::Slt => "slt",
            Role::BusinessSupport => "business_support",
            Role::CaseReviewSubgroup => "case_review_subgroup",
            Role::Duty => "duty",
            Role::LocalAuthority => "local_authority",
            Role::Panel => "panel",
            Role::SecretaryOfState => "secretary_of_state",
            Role::Ofsted => "ofsted",
        }
    }

    /// The short name people use.
    pub fn short_name(self) -> &'static str {
        match self {
            Role::Spa => "SPA",
            Role::Icsc => "ICSC",
            Role::Slt => "SLT",
            Role::BusinessSupport => "business support",
            Role::CaseReviewSubgroup => "Case Review sub-group",
            Role::Duty => "duty desk",
            Role::LocalAuthority => "local authority",
            Role::Panel => "Panel",
            Role::SecretaryOfState => "Secretary of State",
            Role::Ofsted => "Ofsted",
        }
    }
}

impl Role {
    /// The partnership's own people: never a local authority's, whatever their domain.
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::Spa | Role::Icsc | Role::Slt | Role::BusinessSupport | Role::CaseReviewSubgroup | Role::Duty
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A name that is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a role (expected one of spa, icsc, slt, business_support, case_review_subgroup, duty, local_authority, panel, secretary_of_state, ofsted)"
)]
pub struct NotARole(pub String);

impl FromStr for Role {
    type Err = NotARole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL.into_iter().find(|role| role.key() == wanted).ok_or_else(|| NotARole(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_from_its_key() {
        for role in Role::ALL {
            assert_eq!(role.key().parse::<Role>(), Ok(role));
        }
        assert_eq!("SPA".parse::<Role>(), Ok(Role::Spa));
        assert!("chair".parse::<Role>().is_err());
    }
}
