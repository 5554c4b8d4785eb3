//! `[mailbox]`, `[outbound]` and their `[*.oauth2]` sections as written.

use serde::Deserialize;

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
