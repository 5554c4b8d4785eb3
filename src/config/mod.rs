//! Configuration: one TOML file, `CSPR__SECTION__KEY` environment overrides, secrets
//! from `*_file` keys (resolved in `$CREDENTIALS_DIRECTORY` when relative) or the
//! environment. Reads those files; everything it builds is checked once, here.

mod build;
mod env;
mod load;
mod raw;

use std::fmt;
use std::path::PathBuf;

use secrecy::SecretString;

use crate::domain::{Calendar, ClockDef, ClockId, Directory, EmailAddress, Role, SendingWindow};

pub use crate::domain::directory::{LocalAuthority, RoleMembers};
pub use crate::domain::policy::{Approvals, CaseNumbering, Intake, ResultsFrom};
pub use crate::protocol::alerts::AlertRecipients;

pub use crate::understand::Labels;
pub use load::{Sources, load, load_without_secrets};

/// The partnership whose mailbox this is.
#[derive(Debug, Clone)]
pub struct Partnership {
    pub name: String,
    pub short_name: String,
    pub mailbox: EmailAddress,
    /// Where referrals go: said in every acknowledgement (protocol 1.2).
    pub referral_advice: String,
}

/// Where the calendar's data came from.
#[derive(Debug, Clone, Default)]
pub struct CalendarSource {
    pub holidays_file: Option<PathBuf>,
    pub extra_non_working_days: usize,
}

/// The whole, checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub partnership: Partnership,
    pub cases: CaseNumbering,
    pub calendar: Calendar,
    pub calendar_source: CalendarSource,
    pub sending_window: SendingWindow,
    pub directory: Directory,
    pub clocks: Vec<ClockDef>,
    pub approvals: Approvals,
    pub intake: Intake,
    pub labels: Labels,
    pub panel_patterns: Vec<regex::Regex>,
    pub la_patterns: Vec<regex::Regex>,
    pub store_url: String,
    pub mailbox: MailboxSource,
    pub outbound: OutboundSettings,
    /// When the scheduler ticks (London time).
    pub tick: crate::domain::clock::CronSchedule,
    pub digests: Vec<Digest>,
    /// Raw message bodies are removed this many days after their case closes.
    pub retention_days: u32,
    /// Raw text of messages tied to no case (ignored triage, referrals, spam) is removed
    /// this many days after it was stored.
    pub unlinked_retention_days: u32,
    pub http: HttpSettings,
    /// Who is told of triage, dead letters, mailbox outages and a full disk.
    pub alerts: AlertRecipients,
    /// Who may give each staff command (the table's defaults unless configured).
    pub commands: crate::domain::command::CommandRoles,
    /// `[duties.<name>]`: when each duty without a deadline is chased, and who is told.
    pub duties: crate::domain::duty::DutySchedules,
}

/// The optional HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where to listen, if at all.
    pub listen: Option<std::net::SocketAddr>,
    /// Protects `/calendar.ics`; without it the feed is refused.
    pub calendar_token: Option<SecretString>,
}

/// A summary email on a schedule.
#[derive(Debug, Clone)]
pub struct Digest {
    /// `digest` or `weekly`: the template and the dedupe key.
    pub name: &'static str,
    pub schedule: crate::domain::clock::CronSchedule,
    pub roles: Vec<Role>,
}

/// How mail leaves.
#[derive(Debug, Clone)]
pub enum Transport {
    /// One `.eml` file per message in a folder (the demo, dry runs).
    File(PathBuf),
    Smtp(Box<SmtpSettings>),
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    /// `None`: no AUTH (a relay that trusts the connection).
    pub credential: Option<Credential>,
    pub ca_file: Option<PathBuf>,
}

/// How a mail server is logged in to.
#[derive(Debug, Clone)]
pub enum Credential {
    Password(SecretString),
    /// SASL XOAUTH2 or OAUTHBEARER with an access token from a token endpoint.
    OAuth2(std::sync::Arc<OAuth2Settings>),
}

/// Which SASL mechanism carries an OAuth2 access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslChoice {
    /// OAUTHBEARER (RFC 7628) when the server offers it, else XOAUTH2.
    Auto,
    XOAuth2,
    OAuthBearer,
}

/// How an access token is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthGrant {
    /// The application's own credentials (Microsoft identity platform, app-only access).
    ClientCredentials,
    /// A long-lived refresh token issued to the mailbox's user (Google Workspace).
    RefreshToken,
}

/// A token endpoint and the credentials it takes. Cloned configuration shares one
/// token cache (keyed by endpoint, client and scope).
#[derive(Clone)]
pub struct OAuth2Settings {
    /// `microsoft`, `google` or `generic`: for messages and metrics.
    pub provider: String,
    pub token_url: String,
    pub client_id: String,
    pub grant: OAuthGrant,
    pub client_secret: Option<SecretString>,
    /// A certificate (DER) and its private key (PEM) to sign a client assertion with,
    /// instead of a secret (Microsoft's recommended client credential).
    pub client_certificate: Option<(Vec<u8>, SecretString)>,
    pub refresh_token: Option<SecretString>,
    pub scope: Option<String>,
    pub mechanism: SaslChoice,
    /// Extra certificate authorities for the token endpoint (PEM).
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for OAuth2Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Settings")
            .field("provider", &self.provider)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("grant", &self.grant)
            .field("scope", &self.scope)
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct OutboundSettings {
    pub transport: Transport,
    /// Where a copy of each sent email is appended (with an IMAP mailbox); `None` for none.
    pub sent_folder: Option<String>,
    pub templates_dir: Option<PathBuf>,
    pub max_attempts: u32,
    /// The first pause after a failed send (doubling with each attempt, to an hour).
    pub retry_base: std::time::Duration,
}

/// How the connection to an IMAP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain connect, then STARTTLS before anything else (port 143).
    StartTls,
    /// No TLS: only to a loopback address, and only when configured.
    Plain,
}

/// An IMAP mailbox to watch.
#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub credential: Credential,
    /// Extra certificate authorities to trust (PEM), beside the public roots.
    pub ca_file: Option<PathBuf>,
    pub folder: String,
    pub idle: bool,
    pub idle_reissue: std::time::Duration,
    pub poll_interval: std::time::Duration,
    /// Where stored messages are moved (keeping their flags); `None` leaves them.
    pub processed_folder: Option<String>,
    /// After this long without a working connection, one alert email goes out.
    pub unreachable_alert_after: std::time::Duration,
    pub alert_roles: Vec<Role>,
    /// Every IMAP command (connecting and logging in too) is answered within this, or
    /// the connection is given up and made again.
    pub command_timeout: std::time::Duration,
}

/// Where mail comes from.
#[derive(Debug, Clone)]
pub enum MailboxSource {
    Maildir { path: PathBuf, poll_interval: std::time::Duration, read_only: bool },
    Imap(Box<ImapSettings>),
}

impl Config {
    /// The same configuration for a dry run: the real mailbox read without any change
    /// (no moves), all state in `store_url` (never the production database), emails
    /// written to `outbox` instead of sent.
    pub fn for_dry_run(mut self, store_url: String, outbox: PathBuf) -> Result<Self, String> {
        if store_url == self.store_url {
            return Err("a dry run never uses the production database: give another --state".into());
        }
        self.store_url = store_url;
        self.outbound.transport = Transport::File(outbox);
        self.outbound.sent_folder = None;
        // Beside the live daemon: its HTTP port stays the daemon's.
        self.http.listen = None;
        match &mut self.mailbox {
            MailboxSource::Imap(settings) => settings.processed_folder = None,
            MailboxSource::Maildir { read_only, .. } => *read_only = true,
        }
        Ok(self)
    }

    /// What understanding a message consults.
    pub fn understanding(&self) -> crate::understand::Rules<'_> {
        crate::understand::Rules {
            directory: &self.directory,
            intake: &self.intake,
            case_pattern: &self.cases.pattern,
            labels: &self.labels,
            panel_patterns: &self.panel_patterns,
            la_patterns: &self.la_patterns,
        }
    }

    /// What the protocol's decisions consult.
    pub fn protocol_rules(&self) -> crate::protocol::Rules<'_> {
        crate::protocol::Rules {
            directory: &self.directory,
            calendar: &self.calendar,
            clocks: &self.clocks,
            approvals: &self.approvals,
            require_authentication: self.intake.require_authentication,
            alerts: &self.alerts,
            commands: &self.commands,
            partner_domains: &self.intake.partner_domains,
            duties: &self.duties,
        }
    }

    /// The most working days before a due date at which anything is sent.
    pub fn longest_lead(&self) -> crate::domain::WorkingDays {
        self.protocol_rules().longest_lead()
    }

    /// The canonical name of an authority written as `written`, else `written` itself.
    pub fn canonical_authority(&self, written: &str) -> String {
        self.directory.canonical_authority(written)
    }

    /// The roles whose allowlist holds `address` (by address or domain).
    pub fn roles_of(&self, address: &EmailAddress) -> Vec<Role> {
        self.directory.roles_of(address)
    }

    /// The embedded defaults: every command works without a file.
    pub fn defaults() -> Self {
        match load(&Sources::default()) {
            Ok(config) => config,
            Err(errors) => unreachable!("the embedded defaults are valid: {errors}"),
        }
    }

    pub fn clock(&self, id: ClockId) -> Option<&ClockDef> {
        self.clocks.iter().find(|c| c.id == id)
    }

    pub fn members(&self, role: Role) -> Option<&RoleMembers> {
        self.directory.members(role)
    }

    /// Things that are allowed but probably wrong, for `check-config`: placeholder
    /// addresses, and clocks started `today` that run into years without published
    /// bank holidays.
    pub fn warnings(&self, today: chrono::NaiveDate) -> Vec<String> {
        let mut out = Vec::new();
        if self.intake.results_from == ResultsFrom::AuthservId && self.intake.authserv_id.is_none() {
            out.push(
                "intake.authserv_id: not set, so no sender can be authenticated and every message goes to triage; \
                 set the id your receiving server writes in Authentication-Results, or results_from = \"microsoft365\""
                    .to_owned(),
            );
        }
        if !self.intake.require_authentication {
            out.push(
                "intake.require_authentication: false, so a forged sender can run commands and approve delays; \
                 only for testing"
                    .to_owned(),
            );
        }
        for (role, members) in &self.directory.roles {
            if members.addresses.iter().any(EmailAddress::is_placeholder) {
                out.push(format!(
                    "roles.{role}.addresses: still a placeholder address; set the real one before going live"
                ));
            }
        }
        for def in self.clocks.iter().filter(|c| c.enabled) {
            if let Ok(due) = crate::domain::clock::due_date(def, today, &self.calendar)
                && self.calendar.runs_beyond_published(today, due)
            {
                let span = self.calendar.published_span().map(|(_, last)| last.to_string()).unwrap_or_default();
                out.push(format!(
                    "clocks.{}: a clock started today is due {due}, beyond the published bank holidays (last year {span}); \
                     later years use the statutory pattern: import the government's file (cspr calendar import-govuk)",
                    def.id.key()
                ));
            }
        }
        out
    }
}

/// One problem with the configuration, at a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

/// Every problem found, in the order found.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigIssue>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}
