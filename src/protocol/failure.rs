//! A message that could not be processed — it made processing panic, overran its
//! budget, or was interrupted too many times — is given up on: held in triage with the
//! reason, and the SPA told once. It never blocks the messages behind it.

use super::Outcome;
use super::alerts::{AlertRecipients, given_up};

/// Attempts after which a message that keeps interrupting processing is given up on.
pub const MAX_ATTEMPTS: i64 = 3;

/// Why processing a message failed (never its content: these reach logs and emails).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Processing panicked.
    Panicked,
    /// Processing went on past the budget, in seconds.
    Overran { budget_secs: u64 },
    /// The process stopped (crash, kill, watchdog) this many times while processing it.
    Interrupted { attempts: i64 },
    /// The message was over the size limit: only its start was downloaded.
    Oversized { bytes: i64, limit: u64 },
}

impl Failure {
    pub fn reason(self) -> String {
        match self {
            Failure::Panicked => "processing this message failed with an internal error".to_owned(),
            Failure::Overran { budget_secs } => {
                format!("processing this message took longer than its budget of {budget_secs} s")
            }
            Failure::Interrupted { attempts } => {
                format!(
                    "processing this message was interrupted {attempts} times (the service stopped while reading it)"
                )
            }
            Failure::Oversized { bytes, limit } => format!(
                "the message is {bytes} bytes, over the limit of {limit}: only its headers and the start of its text were downloaded"
            ),
        }
    }
}

/// The outcome for a message given up on: triage, and one alert to those told of
/// triage (its dedupe key is the message's, so a replay adds nothing).
pub fn failed(stored_id: i64, failure: Failure, recipients: &AlertRecipients) -> Outcome {
    let reason = failure.reason();
    let alert = given_up(recipients, stored_id, &reason);
    Outcome { intents: vec![alert], ..Outcome::triage(reason) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::protocol::Recipient;

    #[test]
    fn a_failed_message_is_triaged_and_reported_once_to_the_spa() {
        let outcome = failed(42, Failure::Overran { budget_secs: 10 }, &AlertRecipients::default());
        assert_eq!(outcome.triage.as_deref(), Some("processing this message took longer than its budget of 10 s"));
        assert!(outcome.case.is_none());
        assert_eq!(outcome.intents.len(), 1);
        assert_eq!(outcome.intents[0].to, vec![Recipient::Role(Role::Spa)]);
        assert_eq!(outcome.intents[0].dedupe_key, "message:42:failed");
    }
}
