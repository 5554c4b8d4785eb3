//! The daemon configuration the tests and the benchmarks start from (one copy, so
//! that what is measured is what is tested).

/// The `cspr.toml` a daemon test on the stack starts from: chscp's mailbox as the
/// partnership's (short name `prefix`), cases numbered `prefix`, roles at test.local,
/// digests off, mail sent at any hour of any day (the daemon reads the real clock, and
/// the suite must pass at night, at weekends and on bank holidays); `mailbox` and
/// `outbound` are those tables' bodies (sub-tables last).
pub fn daemon_config(prefix: &str, db: &str, mailbox: &str, outbound: &str) -> String {
    format!(
        r#"
[partnership]
mailbox = "chscp@test.local"
short_name = "{prefix}"
[cases]
reference_prefix = "{prefix}"
[store]
url = "{db}"
[intake]
authserv_id = "mx.chscp.test"
own_message_id_domain = "cspr.chscp.test"
[roles.local_authority]
domains = ["test.local"]
[roles.spa]
addresses = ["spa@test.local"]
[roles.icsc]
addresses = ["icsc@test.local"]
[roles.slt]
addresses = ["slt@test.local"]
[roles.duty]
addresses = ["duty@test.local"]
[mailbox]
{mailbox}
[outbound]
{outbound}
[scheduler]
digest_roles = []
weekly_roles = []
[sending_window]
start = "00:00"
end = "24:00"
working_days_only = false
"#
    )
}
