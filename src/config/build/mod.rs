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

/// The placeholder addresses of the shipped defaults; `check-config` warns about them.
fn default_roles() -> BTreeMap<Role, RawRole> {
    let role = |addresses: &[&str]| RawRole {
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        domains: Vec::new(),
    };
    BTreeMap::from([
        (Role::Spa, role(&["spa@example.org"])),
        (Role::Icsc, role(&["icsc@example.org"])),
        (Role::Slt, role(&["slt.chair@example.org"])),
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
    let sending_window = window(&raw.sending_window, "sending_window", &mut issues, SendingWindow::default());
    let roles = build_roles(raw.roles, &mut issues);
    let clocks = build_clocks(raw.clocks, sending_window, &mut issues);

    let mut token_secret = raw.approvals.token_secret.map(SecretString::from);
    if let Some(name) = &raw.approvals.token_secret_file {
        token_secret = issues.take("approvals.token_secret_file", files.read_secret(name)).map(SecretString::from);
    }
    if let Some(secret) = &token_secret
        && secret.expose_secret().trim().len() < 32
    {
        let key = if raw.approvals.token_secret_file.is_some() { "token_secret_file" } else { "token_secret" };
        issues.push(
            format!("approvals.{key}"),
            "the secret that signs approval tokens must be at least 32 bytes (e.g. `openssl rand -base64 48`)",
        );
    }
    if raw.approvals.quorum == 0 {
        issues.push("approvals.quorum", "must be at least 1");
    }
    if raw.approvals.token_valid_days == 0 {
        issues.push("approvals.token_valid_days", "must be at least 1");
    }
    if raw.approvals.request_at >= 0 {
        issues.push("approvals.request_at", "must be negative: working days before C6 is due");
    }

    let compile = |issues: &mut Issues, key: &str, patterns: &[String]| -> Vec<regex::Regex> {
        patterns
            .iter()
            .enumerate()
            .filter_map(|(i, p)| issues.take(format!("references.{key}[{i}]"), regex::Regex::new(p)))
            .collect()
    };
    let panel_patterns = compile(&mut issues, "panel_patterns", &raw.references.panel_patterns);
    let la_patterns = compile(&mut issues, "la_patterns", &raw.references.la_patterns);
    if raw.intake.authserv_id.as_deref().is_some_and(|id| id.trim().is_empty() || id.contains(';')) {
        issues.push("intake.authserv_id", "must be a host name, as the receiving server writes it");
    }
    let results_from = match raw.intake.results_from.as_str() {
        "authserv-id" => ResultsFrom::AuthservId,
        "microsoft365" => ResultsFrom::Microsoft365,
        other => {
            issues.push("intake.results_from", format!("'{other}' is not one of authserv-id, microsoft365"));
            ResultsFrom::AuthservId
        }
    };
    for (key, domains) in [("tenant_domains", &raw.intake.tenant_domains), ("arc_signers", &raw.intake.arc_signers)] {
        if domains.iter().any(|d| d.trim().is_empty() || d.contains(['@', ' ', ';'])) {
            issues.push(format!("intake.{key}"), "must be domain names (hackney.gov.uk)");
        }
    }
    if raw.intake.processing_budget_seconds == 0 {
        issues.push("intake.processing_budget_seconds", "must be at least 1");
    }
    if raw.retention.unlinked_after_days == 0 {
        issues.push("retention.unlinked_after_days", "must be at least 1");
    }
    if raw.intake.max_message_bytes < 1024 {
        issues.push("intake.max_message_bytes", "must be at least 1024");
    }
    let mut local_authorities = Vec::new();
    for (i, la) in raw.local_authorities.into_iter().enumerate() {
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

    let mailbox = build_mailbox(&raw.mailbox, files, &mut issues);
    let listen = if raw.http.enabled {
        issues.take(
            "http.listen",
            raw.http
                .listen
                .parse::<std::net::SocketAddr>()
                .map_err(|_| format!("'{}' is not an address and port", raw.http.listen)),
        )
    } else {
        None
    };
    let mut calendar_token = raw.http.calendar_token.clone().map(SecretString::from);
    if let Some(name) = &raw.http.calendar_token_file {
        calendar_token = issues.take("http.calendar_token_file", files.read_secret(name)).map(SecretString::from);
    }
    let http = super::HttpSettings { listen, calendar_token };
    let mailbox_oauth = (raw.mailbox.auth == "oauth2").then_some(raw.mailbox.oauth2.as_ref()).flatten();
    let outbound = build_outbound(&raw.outbound, mailbox_oauth, files, &mut issues);
    let tick = issues.take("scheduler.tick", CronSchedule::parse(&raw.scheduler.tick));
    let mut digests = Vec::new();
    for (name, schedule, roles) in [
        ("digest", &raw.scheduler.digest, &raw.scheduler.digest_roles),
        ("weekly", &raw.scheduler.weekly, &raw.scheduler.weekly_roles),
    ] {
        let schedule = issues.take(format!("scheduler.{name}"), CronSchedule::parse(schedule));
        let key = if name == "digest" { "digest_roles" } else { "weekly_roles" };
        let roles: Vec<Role> = roles
            .iter()
            .enumerate()
            .filter_map(|(i, r)| issues.take(format!("scheduler.{key}[{i}]"), r.parse::<Role>()))
            .collect();
        if let Some(schedule) = schedule
            && !roles.is_empty()
        {
            digests.push(super::Digest { name, schedule, roles });
        }
    }
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
            mailbox: mailbox_address,
            referral_advice: raw.partnership.referral_advice,
        },
        cases: CaseNumbering { pattern: case_pattern, prefix, digits: raw.cases.reference_digits as usize },
        calendar,
        calendar_source,
        sending_window,
        roles,
        clocks,
        approvals: Approvals {
            quorum: raw.approvals.quorum,
            token_valid_days: raw.approvals.token_valid_days,
            request_at: raw.approvals.request_at,
            token_secret,
            send_statutory_notices: raw.approvals.send_statutory_notices,
            default_extension_months: raw.approvals.default_extension_months,
        },
        intake: Intake {
            authserv_id: raw.intake.authserv_id.map(|id| id.trim().to_owned()),
            results_from,
            tenant_domains: lower_domains(&raw.intake.tenant_domains),
            arc_signers: lower_domains(&raw.intake.arc_signers),
            require_authentication: raw.intake.require_authentication,
            max_message_bytes: raw.intake.max_message_bytes,
            own_message_id_domain: raw.intake.own_message_id_domain.trim().to_ascii_lowercase(),
            processing_budget: std::time::Duration::from_secs(raw.intake.processing_budget_seconds),
        },
        local_authorities,
        labels: Labels::from_raw(raw.labels),
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
    })
}

fn build_calendar(raw: &RawConfig, files: &dyn Files, issues: &mut Issues) -> Option<(Calendar, CalendarSource)> {
    let mut failed = false;
    let imported = match &raw.calendar.holidays_file {
        Some(name) => match files.read_data(name).and_then(|text| govuk::parse(&text).map_err(|e| e.to_string())) {
            Ok(holidays) => holidays,
            Err(message) => {
                issues.push("calendar.holidays_file", message);
                failed = true;
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    let mut local = Vec::new();
    for (i, day) in raw.calendar.extra_non_working_days.iter().enumerate() {
        let (date, title) = match day {
            RawExtraDay::Date(date) => (date.as_str(), "Local non-working day"),
            RawExtraDay::Titled { date, title } => (date.as_str(), title.as_str()),
        };
        match parse_iso_date(date) {
            Ok(date) => {
                local.push(Holiday { date, title: title.to_owned(), substitute: false, source: HolidaySource::Local })
            }
            Err(e) => {
                issues.push(format!("calendar.extra_non_working_days[{i}]"), e.to_string());
                failed = true;
            }
        }
    }
    if failed {
        return None;
    }
    let source = CalendarSource {
        holidays_file: raw.calendar.holidays_file.as_ref().map(PathBuf::from),
        extra_non_working_days: local.len(),
    };
    Some((Calendar::new(imported, local), source))
}

fn lower_domains(domains: &[String]) -> Vec<String> {
    domains.iter().map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase()).collect()
}

fn window(raw: &RawWindow, path: &str, issues: &mut Issues, fallback: SendingWindow) -> SendingWindow {
    let time = |issues: &mut Issues, key: &str, text: &str| {
        let parsed =
            NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| format!("'{text}' is not a time (expected HH:MM)"));
        issues.take(format!("{path}.{key}"), parsed)
    };
    let start = time(issues, "start", &raw.start);
    // `24:00` closes the window at midnight: open to the end of the day.
    let end = if raw.end == "24:00" { Some(None) } else { time(issues, "end", &raw.end).map(Some) };
    match (start, end) {
        (Some(start), Some(end)) if end.is_none_or(|end| start < end) => {
            SendingWindow { start, end, working_days_only: raw.working_days_only }
        }
        (Some(_), Some(_)) => {
            issues.push(format!("{path}.end"), "must be later than start");
            fallback
        }
        _ => fallback,
    }
}

fn build_roles(configured: BTreeMap<String, RawRole>, issues: &mut Issues) -> BTreeMap<Role, RoleMembers> {
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

fn build_clocks(
    configured: BTreeMap<String, RawClock>,
    window_default: SendingWindow,
    issues: &mut Issues,
) -> Vec<ClockDef> {
    let mut clocks = default_clocks();
    for clock in &mut clocks {
        clock.sending_window = window_default;
    }
    for (key, over) in configured {
        let path = format!("clocks.{key}");
        let Some(id) = issues.take(&path, key.parse::<ClockId>()) else { continue };
        let Some(def) = clocks.iter_mut().find(|c| c.id == id) else { continue };
        apply_clock(def, over, &path, issues);
    }
    clocks
}

fn apply_clock(def: &mut ClockDef, over: RawClock, path: &str, issues: &mut Issues) {
    if let Some(enabled) = over.enabled {
        def.enabled = enabled;
    }
    if let Some(title) = over.title {
        def.title = title;
    }
    if let Some(start) = over.start {
        let parsed = serde_json::from_value::<StartEvent>(serde_json::Value::String(start.clone())).map_err(|_| {
            format!(
                "'{start}' is not a start event (expected la_aware, notified_to_panel, panel_disagrees, cspr_decision, request_received or planned_publication)"
            )
        });
        if let Some(start) = issues.take(format!("{path}.start"), parsed) {
            def.start = start;
        }
    }
    let mut rules = Vec::new();
    if let Some(n) = over.working_days {
        rules.push(("working_days", Some(DueRule::WorkingDaysAfter(n)), n));
    }
    if let Some(n) = over.working_days_before {
        rules.push(("working_days_before", Some(DueRule::WorkingDaysBefore(n)), n));
    }
    if let Some(n) = over.months {
        rules.push(("months", Some(DueRule::CalendarMonths(n)), n));
    }
    if let Some(text) = &over.schedule {
        let parsed = issues
            .take(format!("{path}.schedule"), CronSchedule::parse(text))
            .map(|s| DueRule::NextScheduled(Box::new(s)));
        rules.push(("schedule", parsed, 1));
    }
    match rules.as_slice() {
        [] => {}
        [(key, rule, n)] => {
            if *n == 0 {
                issues.push(format!("{path}.{key}"), "must be at least 1");
            } else if let Some(rule) = rule {
                def.due = rule.clone();
            }
        }
        many => {
            let keys: Vec<&str> = many.iter().map(|(k, _, _)| *k).collect();
            issues.push(
                path,
                format!(
                    "give one of working_days, working_days_before, months or schedule, not {}",
                    keys.join(" and ")
                ),
            );
        }
    }
    if let Some(amber) = over.amber_within {
        def.amber_within = amber;
    }
    if let Some(steps) = over.reminders {
        def.reminders = build_steps(&steps, &format!("{path}.reminders"), issues);
    }
    if let Some(steps) = over.escalations {
        def.escalations = build_steps(&steps, &format!("{path}.escalations"), issues);
    }
    if let Some(raw) = over.sending_window {
        def.sending_window = window(&raw, &format!("{path}.sending_window"), issues, def.sending_window);
    }
}

fn build_steps(raw: &[RawStep], path: &str, issues: &mut Issues) -> Vec<Step> {
    raw.iter()
        .enumerate()
        .filter_map(|(i, step)| {
            let to = issues.take(format!("{path}[{i}].to"), step.to.parse::<Role>())?;
            if step.every == Some(0) {
                issues.push(format!("{path}[{i}].every"), "must be at least 1");
                return None;
            }
            Some(Step { to, at: step.at, every: step.every, urgent: step.urgent })
        })
        .collect()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn build_mailbox(raw: &RawMailbox, files: &dyn Files, issues: &mut Issues) -> Option<MailboxSource> {
    let poll_interval = std::time::Duration::from_secs(raw.poll_interval_seconds);
    if raw.poll_interval_seconds == 0 {
        issues.push("mailbox.poll_interval_seconds", "must be at least 1");
    }
    match raw.source.as_str() {
        "maildir" => {
            Some(MailboxSource::Maildir { path: PathBuf::from(&raw.maildir), poll_interval, read_only: false })
        }
        "imap" => {
            let tls = match raw.tls.as_str() {
                "implicit" => Some(TlsMode::Implicit),
                "starttls" => Some(TlsMode::StartTls),
                "plain" if is_loopback(&raw.host) => Some(TlsMode::Plain),
                "plain" => {
                    issues.push("mailbox.tls", "plain (unencrypted) IMAP is allowed only to a loopback address");
                    None
                }
                other => {
                    issues.push(
                        "mailbox.tls",
                        format!("'{other}' is not a TLS mode (expected implicit, starttls or plain)"),
                    );
                    None
                }
            };
            if raw.host.trim().is_empty() {
                issues.push("mailbox.host", "must be set for an IMAP mailbox");
            }
            if raw.username.trim().is_empty() {
                issues.push("mailbox.username", "must be set for an IMAP mailbox");
            }
            let credential = match raw.auth.as_str() {
                "password" => match (&raw.password_file, &raw.password) {
                    (Some(name), _) => issues
                        .take("mailbox.password_file", files.read_secret(name))
                        .map(|p| Credential::Password(SecretString::from(p))),
                    (None, Some(value)) => Some(Credential::Password(SecretString::from(value.clone()))),
                    (None, None) => {
                        issues.push(
                            "mailbox.password_file",
                            "an IMAP mailbox needs a password file or CSPR__MAILBOX__PASSWORD (or auth = \"oauth2\")",
                        );
                        None
                    }
                },
                "oauth2" => match &raw.oauth2 {
                    Some(oauth) => build_oauth2("mailbox.oauth2", oauth, files, issues)
                        .map(|o| Credential::OAuth2(std::sync::Arc::new(o))),
                    None => {
                        issues.push("mailbox.oauth2", "auth = \"oauth2\" needs a [mailbox.oauth2] table");
                        None
                    }
                },
                other => {
                    issues
                        .push("mailbox.auth", format!("'{other}' is not a login method (expected password or oauth2)"));
                    None
                }
            };
            let alert_roles: Vec<Role> = raw
                .alert_roles
                .iter()
                .enumerate()
                .filter_map(|(i, r)| issues.take(format!("mailbox.alert_roles[{i}]"), r.parse::<Role>()))
                .collect();
            if raw.unreachable_alert_seconds == 0 {
                issues.push("mailbox.unreachable_alert_seconds", "must be at least 1");
            }
            if !(1..=25).contains(&raw.idle_reissue_minutes) {
                issues.push("mailbox.idle_reissue_minutes", "must be from 1 to 25 (servers end IDLE after 30 minutes)");
            }
            let tls = tls?;
            let port = raw.port.unwrap_or(if tls == TlsMode::Implicit { 993 } else { 143 });
            Some(MailboxSource::Imap(Box::new(ImapSettings {
                host: raw.host.trim().to_owned(),
                port,
                tls,
                username: raw.username.trim().to_owned(),
                credential: credential?,
                ca_file: raw.ca_file.as_ref().map(|f| files.resolve_data(f)),
                folder: raw.folder.clone(),
                idle: raw.idle,
                idle_reissue: std::time::Duration::from_secs(raw.idle_reissue_minutes * 60),
                poll_interval,
                processed_folder: raw.processed_folder.as_ref().map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()),
                unreachable_alert_after: std::time::Duration::from_secs(raw.unreachable_alert_seconds.max(1)),
                alert_roles,
                command_timeout: std::time::Duration::from_secs(raw.command_timeout_seconds.max(1)),
            })))
        }
        other => {
            issues.push("mailbox.source", format!("'{other}' is not a mail source (expected maildir or imap)"));
            None
        }
    }
}

fn build_outbound(
    raw: &RawOutbound,
    mailbox_oauth: Option<&RawOAuth2>,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<OutboundSettings> {
    if raw.max_attempts == 0 {
        issues.push("outbound.max_attempts", "must be at least 1");
    }
    if !(1..=3600).contains(&raw.retry_base_seconds) {
        issues.push("outbound.retry_base_seconds", "must be from 1 to 3600");
    }
    let transport = match raw.transport.as_str() {
        "file" => Transport::File(PathBuf::from(&raw.directory)),
        "smtp" => {
            let tls = match raw.tls.as_str() {
                "implicit" => TlsMode::Implicit,
                "starttls" => TlsMode::StartTls,
                "plain" if is_loopback(&raw.host) => TlsMode::Plain,
                "plain" => {
                    issues.push("outbound.tls", "plain (unencrypted) SMTP is allowed only to a loopback address");
                    return None;
                }
                other => {
                    issues.push(
                        "outbound.tls",
                        format!("'{other}' is not a TLS mode (expected implicit, starttls or plain)"),
                    );
                    return None;
                }
            };
            if raw.host.trim().is_empty() {
                issues.push("outbound.host", "must be set for SMTP");
            }
            let password = match (&raw.password_file, &raw.password) {
                (Some(name), _) => {
                    issues.take("outbound.password_file", files.read_secret(name)).map(SecretString::from)
                }
                (None, Some(value)) => Some(SecretString::from(value.clone())),
                (None, None) => None,
            };
            let auth = raw.auth.as_deref().unwrap_or(if password.is_some() { "password" } else { "none" });
            let credential = match auth {
                "none" => None,
                "password" => match password {
                    Some(p) => Some(Credential::Password(p)),
                    None => {
                        issues.push(
                            "outbound.password_file",
                            "auth = \"password\" needs a password file or CSPR__OUTBOUND__PASSWORD",
                        );
                        None
                    }
                },
                "oauth2" => match (&raw.oauth2, mailbox_oauth) {
                    (Some(oauth), _) => build_oauth2("outbound.oauth2", oauth, files, issues),
                    (None, Some(oauth)) => build_oauth2("mailbox.oauth2", oauth, files, issues),
                    (None, None) => {
                        issues.push(
                            "outbound.oauth2",
                            "auth = \"oauth2\" needs an [outbound.oauth2] table (or the mailbox's)",
                        );
                        None
                    }
                }
                .map(|o| Credential::OAuth2(std::sync::Arc::new(o))),
                other => {
                    issues.push(
                        "outbound.auth",
                        format!("'{other}' is not a login method (expected password, oauth2 or none)"),
                    );
                    None
                }
            };
            let port = raw.port.unwrap_or(match tls {
                TlsMode::Implicit => 465,
                TlsMode::StartTls => 587,
                TlsMode::Plain => 25,
            });
            Transport::Smtp(Box::new(SmtpSettings {
                host: raw.host.trim().to_owned(),
                port,
                tls,
                username: raw.username.trim().to_owned(),
                credential,
                ca_file: raw.ca_file.as_ref().map(|f| files.resolve_data(f)),
            }))
        }
        other => {
            issues.push("outbound.transport", format!("'{other}' is not a transport (expected file or smtp)"));
            return None;
        }
    };
    Some(OutboundSettings {
        transport,
        sent_folder: Some(raw.sent_folder.trim().to_owned()).filter(|f| !f.is_empty()),
        templates_dir: raw.templates_dir.as_ref().map(|d| files.resolve_data(d)),
        max_attempts: raw.max_attempts,
        retry_base: std::time::Duration::from_secs(raw.retry_base_seconds.clamp(1, 3600)),
        triage_alert_each: match raw.triage_alerts.as_str() {
            "each" => true,
            "digest" => false,
            other => {
                issues.push("outbound.triage_alerts", format!("'{other}' is not digest or each"));
                false
            }
        },
    })
}

fn secret_of(
    key: &str,
    file: &Option<String>,
    value: &Option<String>,
    files: &dyn Files,
    issues: &mut Issues,
) -> Option<SecretString> {
    match (file, value) {
        (Some(name), _) => issues.take(format!("{key}_file"), files.read_secret(name)).map(SecretString::from),
        (None, Some(value)) => Some(SecretString::from(value.clone())),
        (None, None) => None,
    }
}

/// A token endpoint's settings: provider defaults, then what is written.
fn build_oauth2(key: &str, raw: &RawOAuth2, files: &dyn Files, issues: &mut Issues) -> Option<OAuth2Settings> {
    let before = issues.0.len();
    let provider = raw.provider.trim().to_ascii_lowercase();
    if raw.client_id.trim().is_empty() {
        issues.push(format!("{key}.client_id"), "must be set");
    }
    let client_secret =
        secret_of(&format!("{key}.client_secret"), &raw.client_secret_file, &raw.client_secret, files, issues);
    let refresh_token =
        secret_of(&format!("{key}.refresh_token"), &raw.refresh_token_file, &raw.refresh_token, files, issues);
    let client_certificate = match (&raw.certificate_file, &raw.private_key_file) {
        (Some(cert), Some(private_key)) => {
            let cert = issues.take(format!("{key}.certificate_file"), files.read_secret(cert)).and_then(|pem| {
                use rustls_pki_types::pem::PemObject;
                issues.take(
                    format!("{key}.certificate_file"),
                    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
                        .map(|c| c.to_vec())
                        .map_err(|e| format!("not a PEM certificate: {e}")),
                )
            });
            let private_key = issues.take(format!("{key}.private_key_file"), files.read_secret(private_key));
            cert.zip(private_key).map(|(c, k)| (c, SecretString::from(k)))
        }
        (None, None) => None,
        _ => {
            issues.push(
                format!("{key}.certificate_file"),
                "a certificate needs its private_key_file, and the other way round",
            );
            None
        }
    };
    let tenant = raw.tenant.trim();
    let (default_url, default_scope, grant) = match provider.as_str() {
        "microsoft" => {
            if tenant.is_empty() && raw.token_url.is_none() {
                issues.push(format!("{key}.tenant"), "must be set for Microsoft (the directory (tenant) ID or domain)");
            }
            if client_secret.is_none() && client_certificate.is_none() {
                issues.push(
                    format!("{key}.client_secret_file"),
                    "Microsoft needs a client secret file or a certificate_file and private_key_file",
                );
            }
            (
                Some(format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")),
                Some("https://outlook.office365.com/.default".to_owned()),
                OAuthGrant::ClientCredentials,
            )
        }
        "google" => {
            if refresh_token.is_none() {
                issues.push(format!("{key}.refresh_token_file"), "Google needs the mailbox user's refresh token");
            }
            if client_secret.is_none() {
                issues.push(format!("{key}.client_secret_file"), "Google needs the OAuth client's secret");
            }
            (Some("https://oauth2.googleapis.com/token".to_owned()), None, OAuthGrant::RefreshToken)
        }
        "generic" => {
            if raw.token_url.is_none() {
                issues.push(format!("{key}.token_url"), "must be set for a generic provider");
            }
            let grant = if refresh_token.is_some() { OAuthGrant::RefreshToken } else { OAuthGrant::ClientCredentials };
            (None, None, grant)
        }
        other => {
            issues.push(
                format!("{key}.provider"),
                format!("'{other}' is not a provider (expected microsoft, google or generic)"),
            );
            (None, None, OAuthGrant::ClientCredentials)
        }
    };
    let token_url = raw.token_url.clone().or(default_url).unwrap_or_default();
    if !token_url.is_empty() {
        let loopback_http = token_url
            .strip_prefix("http://")
            .and_then(|rest| rest.split(['/', ':']).next())
            .is_some_and(|host| is_loopback(host.trim_matches(['[', ']'])));
        if !token_url.starts_with("https://") && !loopback_http {
            issues.push(format!("{key}.token_url"), "must be https:// (plain http only to a loopback address)");
        }
    }
    let mechanism = match raw.mechanism.as_str() {
        "auto" => SaslChoice::Auto,
        "xoauth2" => SaslChoice::XOAuth2,
        "oauthbearer" => SaslChoice::OAuthBearer,
        other => {
            issues.push(
                format!("{key}.mechanism"),
                format!("'{other}' is not a mechanism (expected auto, xoauth2 or oauthbearer)"),
            );
            SaslChoice::Auto
        }
    };
    if issues.0.len() > before {
        return None;
    }
    Some(OAuth2Settings {
        provider,
        token_url,
        client_id: raw.client_id.trim().to_owned(),
        grant,
        client_secret,
        client_certificate,
        refresh_token,
        scope: raw.scope.clone().or(default_scope).filter(|s| !s.trim().is_empty()),
        mechanism,
        ca_file: raw.ca_file.as_ref().map(|f| files.resolve_data(f)),
    })
}
