//! The configuration file as written: plain strings and numbers, every field optional
//! with the CHSCP defaults, checked and turned into typed values by `build`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    pub partnership: RawPartnership,
    pub cases: RawCases,
    pub calendar: RawCalendar,
    pub sending_window: RawWindow,
    pub roles: BTreeMap<String, RawRole>,
    pub clocks: BTreeMap<String, RawClock>,
    pub approvals: RawApprovals,
    pub intake: RawIntake,
    pub local_authorities: Vec<RawAuthority>,
    pub labels: RawLabels,
    pub references: RawReferences,
    pub store: RawStore,
    pub mailbox: RawMailbox,
    pub outbound: RawOutbound,
    pub scheduler: RawScheduler,
    pub retention: RawRetention,
    pub http: RawHttp,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawHttp {
    pub enabled: bool,
    pub listen: String,
    pub calendar_token_file: Option<String>,
    /// Only from the environment (`CSPR__HTTP__CALENDAR_TOKEN`), never the file.
    pub calendar_token: Option<String>,
}

impl Default for RawHttp {
    fn default() -> Self {
        Self { enabled: false, listen: "127.0.0.1:9898".into(), calendar_token_file: None, calendar_token: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawRetention {
    pub raw_after_days: u32,
    pub unlinked_after_days: u32,
}

impl Default for RawRetention {
    fn default() -> Self {
        Self { raw_after_days: 365, unlinked_after_days: 90 }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawOutbound {
    pub transport: String,
    pub directory: String,
    pub host: String,
    pub port: Option<u16>,
    pub tls: String,
    pub username: String,
    /// `password` (the default when one is given), `oauth2` or `none`.
    pub auth: Option<String>,
    pub password_file: Option<String>,
    /// Only from the environment (`CSPR__OUTBOUND__PASSWORD`), never the file.
    pub password: Option<String>,
    /// Without its own table, `auth = "oauth2"` uses the mailbox's.
    pub oauth2: Option<RawOAuth2>,
    pub ca_file: Option<String>,
    pub sent_folder: String,
    pub templates_dir: Option<String>,
    pub max_attempts: u32,
    /// The first pause after a failed send; it doubles with each attempt (to an hour).
    pub retry_base_seconds: u64,
    pub triage_alerts: String,
}

impl Default for RawOutbound {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            directory: "outbox".into(),
            host: String::new(),
            port: None,
            tls: "starttls".into(),
            username: String::new(),
            auth: None,
            password_file: None,
            password: None,
            oauth2: None,
            ca_file: None,
            sent_folder: "Sent".into(),
            templates_dir: None,
            max_attempts: 8,
            retry_base_seconds: 30,
            triage_alerts: "digest".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawScheduler {
    pub tick: String,
    pub digest: String,
    pub digest_roles: Vec<String>,
    pub weekly: String,
    pub weekly_roles: Vec<String>,
}

impl Default for RawScheduler {
    fn default() -> Self {
        Self {
            tick: "0 */5 * * * *".into(),
            digest: "0 0 8 * * Mon-Fri".into(),
            digest_roles: vec!["spa".into(), "icsc".into()],
            weekly: "0 0 8 * * Mon".into(),
            weekly_roles: vec!["slt".into()],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawStore {
    pub url: String,
}

impl Default for RawStore {
    fn default() -> Self {
        Self { url: "sqlite://cspr.db".into() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawMailbox {
    pub source: String,
    pub maildir: String,
    pub poll_interval_seconds: u64,
    pub host: String,
    pub port: Option<u16>,
    pub tls: String,
    pub username: String,
    /// `password` or `oauth2`.
    pub auth: String,
    pub password_file: Option<String>,
    /// Only from the environment (`CSPR__MAILBOX__PASSWORD`), never the file.
    pub password: Option<String>,
    pub oauth2: Option<RawOAuth2>,
    pub ca_file: Option<String>,
    pub folder: String,
    pub idle: bool,
    pub idle_reissue_minutes: u64,
    pub processed_folder: Option<String>,
    pub unreachable_alert_seconds: u64,
    pub command_timeout_seconds: u64,
    pub alert_roles: Vec<String>,
}

/// `[mailbox.oauth2]` / `[outbound.oauth2]`.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawOAuth2 {
    /// `microsoft`, `google` or `generic`.
    pub provider: String,
    pub tenant: String,
    pub client_id: String,
    pub client_secret_file: Option<String>,
    /// Only from the environment, never the file.
    pub client_secret: Option<String>,
    pub certificate_file: Option<String>,
    pub private_key_file: Option<String>,
    pub refresh_token_file: Option<String>,
    /// Only from the environment, never the file.
    pub refresh_token: Option<String>,
    pub token_url: Option<String>,
    pub scope: Option<String>,
    /// `auto`, `xoauth2` or `oauthbearer`.
    pub mechanism: String,
    pub ca_file: Option<String>,
}

impl Default for RawOAuth2 {
    fn default() -> Self {
        Self {
            provider: String::new(),
            tenant: String::new(),
            client_id: String::new(),
            client_secret_file: None,
            client_secret: None,
            certificate_file: None,
            private_key_file: None,
            refresh_token_file: None,
            refresh_token: None,
            token_url: None,
            scope: None,
            mechanism: "auto".into(),
            ca_file: None,
        }
    }
}

impl Default for RawMailbox {
    fn default() -> Self {
        Self {
            source: "maildir".into(),
            maildir: "maildir".into(),
            poll_interval_seconds: 60,
            host: String::new(),
            port: None,
            tls: "implicit".into(),
            username: String::new(),
            auth: "password".into(),
            password_file: None,
            password: None,
            oauth2: None,
            ca_file: None,
            folder: "INBOX".into(),
            idle: true,
            idle_reissue_minutes: 25,
            processed_folder: None,
            unreachable_alert_seconds: 1800,
            command_timeout_seconds: 120,
            alert_roles: vec!["spa".into()],
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawIntake {
    pub authserv_id: Option<String>,
    pub results_from: String,
    pub tenant_domains: Vec<String>,
    pub arc_signers: Vec<String>,
    pub require_authentication: bool,
    pub max_message_bytes: u64,
    pub own_message_id_domain: String,
    pub processing_budget_seconds: u64,
}

impl Default for RawIntake {
    fn default() -> Self {
        Self {
            authserv_id: None,
            results_from: "authserv-id".into(),
            tenant_domains: Vec::new(),
            arc_signers: Vec::new(),
            require_authentication: true,
            max_message_bytes: 25 * 1024 * 1024,
            own_message_id_domain: "cspr.hackney.gov.uk".into(),
            processing_budget_seconds: 10,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuthority {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawLabels {
    pub local_authority: Option<Vec<String>>,
    pub incident_type: Option<Vec<String>>,
    pub aware_date: Option<Vec<String>>,
    pub notified_date: Option<Vec<String>>,
    pub panel_reference: Option<Vec<String>>,
    pub la_reference: Option<Vec<String>>,
    pub children: Option<Vec<String>>,
    pub looked_after: Option<Vec<String>>,
    pub abuse_or_neglect: Option<Vec<String>>,
    pub child_name: Option<Vec<String>>,
    pub date_of_birth: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawReferences {
    pub panel_patterns: Vec<String>,
    pub la_patterns: Vec<String>,
}

impl Default for RawReferences {
    fn default() -> Self {
        Self { panel_patterns: vec![r"\bSIN-\d{4}-\d{3,6}\b".into()], la_patterns: Vec::new() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawPartnership {
    pub name: String,
    pub short_name: String,
    pub mailbox: String,
    pub referral_advice: String,
}

impl Default for RawPartnership {
    fn default() -> Self {
        Self {
            name: "City & Hackney Safeguarding Children Partnership".into(),
            short_name: "CHSCP".into(),
            mailbox: "chscp@hackney.gov.uk".into(),
            referral_advice: "This mailbox is not the way to refer a child. If you are worried about a child, \
                contact the children's social care service of the area where the child lives (in Hackney, \
                Hackney Children and Families Service; in the City of London, the City of London Children's \
                Social Care team), following the Pan-London Child Protection procedures. If a child is in \
                immediate danger, call 999."
                .into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawCases {
    pub reference_prefix: String,
    pub reference_digits: u32,
}

impl Default for RawCases {
    fn default() -> Self {
        Self { reference_prefix: "CHSCP".into(), reference_digits: 3 }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCalendar {
    pub holidays_file: Option<String>,
    pub extra_non_working_days: Vec<RawExtraDay>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawExtraDay {
    Date(String),
    Titled { date: String, title: String },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RawWindow {
    pub start: String,
    pub end: String,
    pub working_days_only: bool,
}

impl Default for RawWindow {
    fn default() -> Self {
        Self { start: "08:00".into(), end: "18:00".into(), working_days_only: true }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRole {
    pub addresses: Vec<String>,
    pub domains: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawClock {
    pub enabled: Option<bool>,
    pub title: Option<String>,
    pub start: Option<String>,
    pub working_days: Option<u32>,
    pub working_days_before: Option<u32>,
    pub months: Option<u32>,
    pub schedule: Option<String>,
    pub amber_within: Option<u32>,
    pub reminders: Option<Vec<RawStep>>,
    pub escalations: Option<Vec<RawStep>>,
    pub sending_window: Option<RawWindow>,
}

#[derive(Debug, Deserialize)]
pub struct RawStep {
    pub to: String,
    pub at: i32,
    #[serde(default)]
    pub every: Option<u32>,
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawApprovals {
    pub quorum: u32,
    pub token_valid_days: u32,
    pub request_at: i32,
    pub token_secret_file: Option<String>,
    /// Only from the environment (`CSPR__APPROVALS__TOKEN_SECRET`), never the file.
    pub token_secret: Option<String>,
    pub send_statutory_notices: bool,
    pub default_extension_months: u32,
}

impl Default for RawApprovals {
    fn default() -> Self {
        Self {
            quorum: 1,
            token_valid_days: 10,
            request_at: -20,
            token_secret_file: None,
            token_secret: None,
            send_statutory_notices: false,
            default_extension_months: 3,
        }
    }
}
