//! Who is who: role members, local authorities, who is alerted, who may give each
//! command, and the label vocabulary.

use super::*;

/// The placeholder addresses of the shipped defaults; `check-config` warns about them.
pub(super) fn default_roles() -> BTreeMap<Role, RawRole> {
    let role = |addresses: &[&str]| RawRole {
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        domains: Vec::new(),
    };
    BTreeMap::from([
        (Role::Spa, role(&["spa@example.org"])),
        (Role::Icsc, role(&["icsc@example.org"])),
        (Role::Slt, role(&["slt.chair@example.org"])),
        (Role::BusinessSupport, role(&[])),
        (Role::CaseReviewSubgroup, role(&["case-review-subgroup@example.org"])),
        (Role::Duty, role(&["duty@example.org"])),
        (
            Role::LocalAuthority,
            RawRole { addresses: Vec::new(), domains: vec!["hackney.gov.uk".into(), "cityoflondon.gov.uk".into()] },
        ),
        (Role::Panel, role(&["Mailbox.NationalReviewPanel@education.gov.uk"])),
        (Role::SecretaryOfState, role(&["Mailbox.CPOD@education.gov.uk"])),
        (Role::Ofsted, role(&["SCR.SIN@ofsted.gov.uk"])),
    ])
}

pub(super) fn build_roles(configured: BTreeMap<String, RawRole>, issues: &mut Issues) -> BTreeMap<Role, RoleMembers> {
    let mut raw = default_roles();
    for (key, role) in configured {
        match key.parse::<Role>() {
            Ok(parsed) => {
                raw.insert(parsed, role);
            }
            Err(e) => issues.push(format!("roles.{key}"), e.to_string()),
        }
    }
    raw.into_iter()
        .map(|(role, members)| {
            let addresses = members
                .addresses
                .iter()
                .enumerate()
                .filter_map(|(i, a)| issues.take(format!("roles.{role}.addresses[{i}]"), EmailAddress::parse(a)))
                .collect();
            let mut domains = Vec::new();
            for (i, domain) in members.domains.iter().enumerate() {
                let probe = format!("x@{domain}");
                match EmailAddress::parse(&probe) {
                    Ok(address) => domains.push(address.domain().to_owned()),
                    Err(_) => issues.push(format!("roles.{role}.domains[{i}]"), format!("'{domain}' is not a domain")),
                }
            }
            (role, RoleMembers { addresses, domains })
        })
        .collect()
}

pub(super) fn local_authorities(raw: Vec<super::super::raw::RawAuthority>, issues: &mut Issues) -> Vec<LocalAuthority> {
    let mut local_authorities = Vec::new();
    for (i, la) in raw.into_iter().enumerate() {
        if la.name.trim().is_empty() {
            issues.push(format!("local_authorities[{i}].name"), "must not be empty");
        }
        local_authorities.push(LocalAuthority { name: la.name, aliases: la.aliases });
    }
    if local_authorities.is_empty() {
        local_authorities = vec![
            LocalAuthority {
                name: "London Borough of Hackney".into(),
                aliases: vec!["Hackney".into(), "LB Hackney".into(), "Hackney Council".into()],
            },
            LocalAuthority {
                name: "City of London Corporation".into(),
                aliases: vec!["City of London".into(), "Corporation of London".into()],
            },
        ];
    }

    local_authorities
}

pub(super) fn alerts(raw: &RawConfig, issues: &mut Issues) -> crate::protocol::alerts::AlertRecipients {
    let triage_each = match raw.outbound.triage_alerts.as_str() {
        "each" => true,
        "digest" => false,
        other => {
            issues.push("outbound.triage_alerts", format!("'{other}' is not digest or each"));
            false
        }
    };
    let mut role_list = |key: &str, names: &[String]| -> Vec<Role> {
        names.iter().enumerate().filter_map(|(i, r)| issues.take(format!("{key}[{i}]"), r.parse::<Role>())).collect()
    };
    crate::protocol::alerts::AlertRecipients {
        triage: role_list("alerts.triage_roles", &raw.alerts.triage_roles),
        triage_each,
        dead_letters: role_list("alerts.dead_letter_roles", &raw.alerts.dead_letter_roles),
        // Checked with the IMAP settings, where they belong.
        mailbox: raw.mailbox.alert_roles.iter().filter_map(|r| r.parse::<Role>().ok()).collect(),
        storage: role_list("alerts.storage_roles", &raw.alerts.storage_roles),
    }
}

pub(super) fn commands(
    raw: &BTreeMap<String, super::super::raw::RawCommand>,
    issues: &mut Issues,
) -> crate::domain::command::CommandRoles {
    let mut commands = crate::domain::command::CommandRoles::default();
    for (word, configured) in raw {
        let Some(command) = crate::domain::command::Command::parse(word) else {
            issues.push(format!("commands.{word}"), "is not a staff command (see the README's command table)");
            continue;
        };
        if let Some(names) = &configured.roles {
            let roles: Vec<Role> = names
                .iter()
                .enumerate()
                .filter_map(|(i, r)| issues.take(format!("commands.{word}.roles[{i}]"), r.parse::<Role>()))
                .collect();
            if roles.is_empty() {
                issues.push(format!("commands.{word}.roles"), "must name at least one role");
            }
            commands.set(command, roles);
        }
    }
    commands
}

/// Each duty's reminder schedule: the table's defaults with what `[duties.<name>]` changes.
pub(super) fn duties(
    raw: &BTreeMap<String, super::super::raw::RawDuty>,
    issues: &mut Issues,
) -> crate::domain::duty::DutySchedules {
    use crate::domain::WorkingDays;
    use crate::domain::duty::DutyKind;
    let mut schedules = crate::domain::duty::DutySchedules::default();
    for (name, configured) in raw {
        let Some(kind) = DutyKind::parse(name) else {
            issues.push(format!("duties.{name}"), "is not a duty (see the README's duties table)");
            continue;
        };
        let mut schedule = schedules.of(kind);
        if let Some(days) = configured.first_after {
            if days < 0 {
                issues.push(format!("duties.{name}.first_after"), "must be zero or more working days");
            }
            schedule.first_after = WorkingDays(days);
        }
        if let Some(days) = configured.every {
            if days < 1 {
                issues.push(format!("duties.{name}.every"), "must be at least 1 working day");
            }
            schedule.every = WorkingDays(days);
        }
        if let Some(names) = &configured.to {
            let roles: Vec<Role> = names
                .iter()
                .enumerate()
                .filter_map(|(i, r)| issues.take(format!("duties.{name}.to[{i}]"), r.parse::<Role>()))
                .collect();
            if roles.is_empty() {
                issues.push(format!("duties.{name}.to"), "must name at least one role");
            }
            schedule.to = roles;
        }
        schedules.set(kind, schedule);
    }
    schedules
}

/// The default label vocabulary with every configured list in place of its default.
pub(super) fn labels(raw: super::super::raw::RawLabels) -> Labels {
    let mut labels = Labels::defaults();
    let configured = [
        ("local_authority", raw.local_authority),
        ("incident_type", raw.incident_type),
        ("aware_date", raw.aware_date),
        ("notified_date", raw.notified_date),
        ("panel_reference", raw.panel_reference),
        ("la_reference", raw.la_reference),
        ("children", raw.children),
        ("looked_after", raw.looked_after),
        ("abuse_or_neglect", raw.abuse_or_neglect),
        ("child_name", raw.child_name),
        ("date_of_birth", raw.date_of_birth),
    ];
    for (field, words) in configured {
        if let Some(words) = words {
            let known = labels.replace(field, words);
            debug_assert!(known, "{field} is a notification field");
        }
    }
    labels
}
