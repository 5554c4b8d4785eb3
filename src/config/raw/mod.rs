//! The configuration file as written: plain strings and numbers, every field optional
//! with the CHSCP defaults, checked and turned into typed values by `build`.

use std::collections::BTreeMap;

use serde::Deserialize;

mod mail;

pub use mail::{RawMailbox, RawOAuth2, RawOutbound};

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
    pub alerts: RawAlerts,
    /// `[commands.DELAY] roles = ["icsc"]`: who may give a staff command.
    pub commands: BTreeMap<String, RawCommand>,
    /// `[duties.sos_notified] first_after = 5, every = 5, to = ["spa"]`.
    pub duties: BTreeMap<String, RawDuty>,
}

/// When a duty without a deadline is chased: working days after it arose, then every
/// so many working days, and who is reminded.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDuty {
    pub first_after: Option<i32>,
    pub every: Option<i32>,
    pub to: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCommand {
    pub roles: Option<Vec<String>>,
}

/// `[alerts]`: who is told of what goes wrong with the service itself.
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawAlerts {
    pub triage_roles: Vec<String>,
    pub dead_letter_roles: Vec<String>,
    pub storage_roles: Vec<String>,
}

impl Default for RawAlerts {
    fn default() -> Self {
        Self {
            triage_roles: vec!["spa".into()],
            dead_letter_roles: vec!["spa".into()],
            storage_roles: vec!["spa".into()],
        }
    }
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
pub struct RawIntake {
    pub authserv_id: Option<String>,
    pub results_from: String,
    pub tenant_domains: Vec<String>,
    pub arc_signers: Vec<String>,
    /// Partner agencies' mail domains (NHS, police, schools): an authenticated sender
    /// from one may open a provisional request for consideration (11.1).
    pub partner_domains: Vec<String>,
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
            partner_domains: Vec::new(),
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
    /// The partnership's own mail domains (its staff's, not a local authority's): mail
    /// from them, or from the mailbox itself, is never a local authority's.
    pub domains: Vec<String>,
    pub referral_advice: String,
}

impl Default for RawPartnership {
    fn default() -> Self {
        Self {
            name: "City & Hackney Safeguarding Children Partnership".into(),
            short_name: "CHSCP".into(),
            mailbox: "chscp@hackney.gov.uk".into(),
            domains: Vec::new(),
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
