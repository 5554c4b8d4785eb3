//! The partnership's settings the rules consult: how case references are made, how
//! incoming mail is judged and how delays are approved. Built once from configuration.

use secrecy::SecretString;

use super::WorkingDays;

/// How case references are made: `PREFIX-YYYY-NNN`.
#[derive(Debug, Clone)]
pub struct CaseNumbering {
    pub prefix: String,
    pub digits: usize,
    /// Finds our references (`PREFIX-YYYY-N…`) in text; built once from the prefix.
    pub pattern: regex::Regex,
}

/// Delay approvals by the SLT (protocol 8.1).
#[derive(Debug, Clone)]
pub struct Approvals {
    pub quorum: u32,
    pub token_valid_days: u32,
    /// Working days before C6 is due at which approval is requested automatically.
    pub request_at: WorkingDays,
    pub token_secret: Option<SecretString>,
    /// Send the notice of reasons for a delay straight to the Panel and the Secretary of
    /// State, instead of as a draft to the SPA.
    pub send_statutory_notices: bool,
    /// The new date an automatic delay request proposes: this many months later.
    pub default_extension_months: u32,
}

/// Whose `Authentication-Results` verdict counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultsFrom {
    /// The topmost header carrying our `authserv_id` (Postfix, Google Workspace, …).
    AuthservId,
    /// Exchange Online's: the topmost header (written with no authserv-id), and
    /// `X-MS-Exchange-Organization-AuthAs: Internal` for the tenant's own domains.
    Microsoft365,
}

/// How incoming mail is judged.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The authserv-id our own receiving server writes in `Authentication-Results`;
    /// without it (and without the Microsoft 365 profile), sender trust is `unknown`.
    pub authserv_id: Option<String>,
    pub results_from: ResultsFrom,
    /// The Microsoft 365 tenant's accepted domains: their internal mail is authenticated.
    pub tenant_domains: Vec<String>,
    /// ARC sealers whose results we accept when our own verdict says `arc=pass`.
    pub arc_signers: Vec<String>,
    /// Partner agencies' mail domains: their authenticated senders may open a
    /// provisional request for consideration, nothing else.
    pub partner_domains: Vec<String>,
    /// Untrusted or unknown senders change no case (they go to triage).
    pub require_authentication: bool,
    pub max_message_bytes: u64,
    /// The domain of the Message-IDs we send: replies to them are ours.
    pub own_message_id_domain: String,
    /// How long processing one message may take before it is given up on (triaged).
    pub processing_budget: std::time::Duration,
}
