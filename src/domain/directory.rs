//! Who is who: the members of each role (addresses and whole domains) and the local
//! authorities with the other names they go by. Built once from configuration.

use std::collections::BTreeMap;

use super::{EmailAddress, Role};

/// The people and domains behind a role.
#[derive(Debug, Clone, Default)]
pub struct RoleMembers {
    pub addresses: Vec<EmailAddress>,
    pub domains: Vec<String>,
}

/// A local authority's canonical name and the other names it goes by.
#[derive(Debug, Clone)]
pub struct LocalAuthority {
    pub name: String,
    pub aliases: Vec<String>,
}

/// The roles' members and the local authorities.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub roles: BTreeMap<Role, RoleMembers>,
    pub local_authorities: Vec<LocalAuthority>,
    /// The partnership's own mailbox: its mail is never a local authority's.
    pub own_mailbox: Option<EmailAddress>,
    /// The partnership's own domains: their mail is never a local authority's.
    pub own_domains: Vec<String>,
}

impl Directory {
    /// The roles whose allowlist holds `address` (by address or domain). The
    /// partnership's own mail — its mailbox, its own domains, an address listed for one
    /// of its staff roles — is never a local authority's, though it may share the host
    /// authority's domain.
    pub fn roles_of(&self, address: &EmailAddress) -> Vec<Role> {
        let listed = |m: &RoleMembers| m.addresses.iter().any(|a| a.same_mailbox(address));
        let mut roles: Vec<Role> = self
            .roles
            .iter()
            .filter(|(_, m)| listed(m) || m.domains.iter().any(|d| d == address.domain()))
            .map(|(role, _)| *role)
            .collect();
        let staff_address = self.roles.iter().any(|(role, m)| role.is_staff() && listed(m));
        if staff_address || self.is_own(address) {
            roles.retain(|r| *r != Role::LocalAuthority);
        }
        roles
    }

    /// The partnership's own mailbox or one of its own domains.
    pub fn is_own(&self, address: &EmailAddress) -> bool {
        self.own_mailbox.as_ref().is_some_and(|m| m.same_mailbox(address))
            || self.own_domains.iter().any(|d| d == address.domain())
    }

    pub fn members(&self, role: Role) -> Option<&RoleMembers> {
        self.roles.get(&role)
    }

    /// The addresses of a role's members, as text.
    pub fn addresses(&self, role: Role) -> Vec<String> {
        self.members(role).map(|m| m.addresses.iter().map(ToString::to_string).collect()).unwrap_or_default()
    }

    /// The authority a mail domain belongs to: the domain's own name, squashed, is one
    /// of the authority's names squashed ("towerhamlets.gov.uk" is Tower Hamlets).
    pub fn authority_of_domain(&self, domain: &str) -> Option<String> {
        let squash = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
        let domain = domain.to_ascii_lowercase();
        let own = domain.split('.').next().filter(|l| l.len() >= 3)?;
        self.local_authorities
            .iter()
            .find(|la| std::iter::once(&la.name).chain(&la.aliases).any(|n| squash(n) == own))
            .map(|la| la.name.clone())
    }

    /// The authority named first in `text` (by its name or another it goes by, as whole
    /// words; at one place the longest name wins).
    pub fn authority_in(&self, text: &str) -> Option<String> {
        let lower = text.to_lowercase();
        let bounded = |at: usize, len: usize| {
            let before = lower[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
            let after = lower[at + len..].chars().next().is_none_or(|c| !c.is_alphanumeric());
            before && after
        };
        let mut best: Option<(usize, usize, &str)> = None;
        for la in &self.local_authorities {
            for written in std::iter::once(&la.name).chain(&la.aliases) {
                let needle = written.to_lowercase();
                if needle.is_empty() {
                    continue;
                }
                let found = lower.match_indices(&needle).map(|(at, _)| at).find(|&at| bounded(at, needle.len()));
                if let Some(at) = found
                    && best.is_none_or(|(b, len, _)| at < b || (at == b && needle.len() > len))
                {
                    best = Some((at, needle.len(), &la.name));
                }
            }
        }
        best.map(|(_, _, name)| name.to_owned())
    }

    /// The canonical name of an authority written as `written`, else `written` itself.
    pub fn canonical_authority(&self, written: &str) -> String {
        let wanted = written.trim().trim_end_matches('.').to_lowercase();
        self.local_authorities
            .iter()
            .find(|la| la.name.to_lowercase() == wanted || la.aliases.iter().any(|a| a.to_lowercase() == wanted))
            .map(|la| la.name.clone())
            .or_else(|| self.authority_in(written))
            .unwrap_or_else(|| written.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    #[test]
    fn the_partnerships_own_mail_is_never_a_local_authoritys() {
        let mut directory = Directory::default();
        directory.roles.insert(
            Role::LocalAuthority,
            RoleMembers { addresses: Vec::new(), domains: vec!["hackney.gov.uk".into()] },
        );
        directory.roles.insert(
            Role::BusinessSupport,
            RoleMembers { addresses: vec![address("support@hackney.gov.uk")], domains: Vec::new() },
        );
        directory.own_mailbox = Some(address("chscp@hackney.gov.uk"));
        directory.own_domains = vec!["chscp.org.uk".into()];
        assert_eq!(directory.roles_of(&address("social.worker@hackney.gov.uk")), vec![Role::LocalAuthority]);
        assert_eq!(directory.roles_of(&address("support@hackney.gov.uk")), vec![Role::BusinessSupport]);
        assert!(directory.roles_of(&address("chscp@hackney.gov.uk")).is_empty());
        directory.roles.get_mut(&Role::LocalAuthority).unwrap().domains.push("chscp.org.uk".into());
        assert!(directory.roles_of(&address("officer@chscp.org.uk")).is_empty());
    }
}
