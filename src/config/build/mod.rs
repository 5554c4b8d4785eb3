//! Turning the raw file into typed configuration, collecting every problem with its
//! key path instead of stopping at the first.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveTime;
use secrecy::{ExposeSecret, SecretString};

use super::raw::{RawClock, RawConfig, RawExtraDay, RawMailbox, RawOAuth2, RawOutbound, RawRole, RawStep, RawWindow};
use super::{
    Approvals, CalendarSource, CaseNumbering, Config, ConfigIssue, Credential, ImapSettings, Intake, Labels,
    LocalAuthority, MailboxSource, OAuth2Settings, OAuthGrant, OutboundSettings, Partnership, ResultsFrom, RoleMembers,
    SaslChoice, SmtpSettings, TlsMode, Transport,
};
use crate::domain::WorkingDays;
use crate::domain::calendar::govuk;
use crate::domain::clock::{CronSchedule, default_clocks};
use crate::domain::{
    Calendar, ClockDef, ClockId, DueRule, EmailAddress, Holiday, HolidaySource, Role, SendingWindow, StartEvent, Step,
    parse_iso_date,
};

/// Reads the files that keys name (the only I/O `build` needs, behind a seam).
pub trait Files {
    fn read_data(&self, name: &str) -> Result<String, String>;
    /// Where a data file named in configuration lives.
    fn resolve_data(&self, name: &str) -> PathBuf;
    fn read_secret(&self, name: &str) -> Result<String, String>;
}

mod mail;
mod people;
mod rules;

use mail::{build_mailbox, build_outbound};
use people::build_roles;
use rules::{build_calendar, build_clocks, window};

#[derive(Default)]
struct Issues(Vec<ConfigIssue>);

impl Issues {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigIssue { path: path.into(), message: message.into() });
    }

    fn take<T, E: ToString>(&mut self, path: impl Into<String>, result: Result<T, E>) -> Option<T> {
        result.map_err(|e| self.push(path, e.to_string())).ok()
    }
}

/// The partnership's own domains, as written (lower case, no leading `@`).
fn own_domains(written: &[String]) -> Vec<String> {
    written.iter().map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()).filter(|d| !d.is_empty()).collect()
}

pub fn build(raw: RawConfig, files: &dyn Files) -> Result<Config, Vec<ConfigIssue>> {
    let mut issues = Issues::default();

    let mailbox_address = issues.take("partnership.mailbox", EmailAddress::parse(&raw.partnership.mailbox));
    for (key, value) in [("name", &raw.partnership.name), ("short_name", &raw.partnership.short_name)] {
        if value.trim().is_empty() {
            issues.push(format!("partnership.{key}"), "must not be empty");
        }
    }

    let prefix = raw.cases.reference_prefix.trim().to_owned();
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        issues.push("cases.reference_prefix", format!("'{prefix}' must be capital letters and digits, e.g. CHSCP"));
    }
    if !(1..=6).contains(&raw.cases.reference_digits) {
        issues.push("cases.reference_digits", "must be from 1 to 6");
    }

    let calendar = build_calendar(&raw, files, &mut issues);
    let (intake, panel_patterns, la_patterns) = rules::intake(&raw, &mut issues);
    let alerts = people::alerts(&raw, &mut issues);
    let sending_window = window(&raw.sending_window, "sending_window", &mut issues, SendingWindow::default());
    let roles = build_roles(raw.roles, &mut issues);
    let clocks = build_clocks(raw.clocks, sending_window, &mut issues);
    let approvals = rules::approvals(&raw.approvals, files, &mut issues);
    let local_authorities = people::local_authorities(raw.local_authorities, &mut issues);

    let mailbox = build_mailbox(&raw.mailbox, files, &mut issues);
    let http = mail::http(&raw.http, files, &mut issues);
    let commands = people::commands(&raw.commands, &mut issues);
    let duties = people::duties(&raw.duties, &mut issues);
    let mailbox_oauth = (raw.mailbox.auth == "oauth2").then_some(raw.mailbox.oauth2.as_ref()).flatten();
    let outbound = build_outbound(&raw.outbound, mailbox_oauth, files, &mut issues);
    let tick = issues.take("scheduler.tick", CronSchedule::parse(&raw.scheduler.tick));
    let digests = rules::digests(&raw.scheduler, &mut issues);
    if !raw.store.url.starts_with("sqlite:")
        && !raw.store.url.starts_with("postgres:")
        && !raw.store.url.starts_with("postgresql:")
    {
        issues.push(
            "store.url",
            format!("'{}' is not a database URL (expected sqlite:PATH or postgres://…)", raw.store.url),
        );
    }

    let case_pattern = issues.take(
        "cases.reference_prefix",
        regex::Regex::new(&format!(r"\b{}-\d{{4}}-\d{{1,6}}\b", regex::escape(&prefix))),
    );

    let (
        Some(mailbox_address),
        Some((calendar, calendar_source)),
        Some(case_pattern),
        Some(mailbox),
        Some(outbound),
        Some(tick),
    ) = (mailbox_address, calendar, case_pattern, mailbox, outbound, tick)
    else {
        return Err(issues.0);
    };
    if !issues.0.is_empty() {
        return Err(issues.0);
    }
    Ok(Config {
        partnership: Partnership {
            name: raw.partnership.name,
            short_name: raw.partnership.short_name,
            mailbox: mailbox_address.clone(),
            referral_advice: raw.partnership.referral_advice,
        },
        cases: CaseNumbering { pattern: case_pattern, prefix, digits: raw.cases.reference_digits as usize },
        calendar,
        calendar_source,
        sending_window,
        directory: crate::domain::Directory {
            roles,
            local_authorities,
            own_mailbox: Some(mailbox_address.clone()),
            own_domains: own_domains(&raw.partnership.domains),
        },
        clocks,
        approvals,
        intake,
        labels: people::labels(raw.labels),
        panel_patterns,
        la_patterns,
        store_url: raw.store.url,
        mailbox,
        outbound,
        tick,
        digests,
        retention_days: raw.retention.raw_after_days,
        unlinked_retention_days: raw.retention.unlinked_after_days,
        http,
        alerts,
        commands,
        duties,
    })
}
