//! An outage of the watched mailbox: since when it has been out of reach, and whether
//! anyone was told (once, past the configured time; and again when it is back).

use std::time::Duration;

use chrono::Utc;

use crate::domain::mailbox::Outage as OutageReport;
use crate::sources::Sink;

/// How long the mailbox has been out of reach, and whether anyone was told.
#[derive(Debug, Default)]
pub struct Outage {
    since: Option<chrono::DateTime<Utc>>,
    alerted: bool,
}

impl Outage {
    fn report(&self, mailbox: &str, error: Option<String>) -> Option<OutageReport> {
        Some(OutageReport { mailbox: mailbox.to_owned(), since: self.since?, now: Utc::now(), error })
    }

    /// A connection or sync of `mailbox` failed with `error`: past `alert_after`, the
    /// sink is told once.
    pub async fn failed(&mut self, mailbox: &str, alert_after: Duration, sink: &impl Sink, error: &str) {
        let now = Utc::now();
        let since = *self.since.get_or_insert(now);
        let after = chrono::Duration::from_std(alert_after).unwrap_or(chrono::Duration::MAX);
        if self.alerted || now - since < after {
            return;
        }
        let Some(report) = self.report(mailbox, Some(error.to_owned())) else { return };
        if sink.unreachable(&report).await {
            tracing::error!(source = %mailbox, %error, since = %since, "mailbox unreachable: alert queued");
            self.alerted = true;
        }
    }

    /// A sync of `mailbox` worked: the outage, if any, is over (and is reported over, if
    /// alerted).
    pub async fn ended(&mut self, mailbox: &str, sink: &impl Sink) {
        let Some(report) = self.report(mailbox, None) else { return };
        if self.alerted {
            if !sink.reachable_again(&report).await {
                return;
            }
            tracing::info!(source = %mailbox, since = %report.since, "mailbox reachable again");
        }
        *self = Outage::default();
    }
}
