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
}

impl Directory {
    /// The roles whose allowlist holds `address` (by address or domain).
    pub fn roles_of(&self, address: &EmailAddress) -> Vec<Role> {
        self.roles
            .iter()
            .filter(|(_, m)| {
                m.addresses.iter().any(|a| a.same_mailbox(address)) || m.domains.iter().any(|d| d == address.domain())
            })
            .map(|(role, _)| *role)
            .collect()
    }

    pub fn members(&self, role: Role) -> Option<&RoleMembers> {
        self.roles.get(&role)
    }

    /// The addresses of a role's members, as text.
    pub fn addresses(&self, role: Role) -> Vec<String> {
        self.members(role).map(|m| m.addresses.iter().map(ToString::to_string).collect()).unwrap_or_default()
    }

    /// The canonical name of an authority written as `written`, else `written` itself.
    pub fn canonical_authority(&self, written: &str) -> String {
        let wanted = written.trim().trim_end_matches('.').to_lowercase();
        self.local_authorities
            .iter()
            .find(|la| la.name.to_lowercase() == wanted || la.aliases.iter().any(|a| a.to_lowercase() == wanted))
            .map(|la| la.name.clone())
            .unwrap_or_else(|| written.trim().to_owned())
    }
}
