//! Configuration from outside: the example file, check-config's reports, environment
//! overrides and secrets read from files.

use crate::support::{cspr, cspr_with_env, stdout, write};

fn example() -> String {
    format!("{}/config/cspr.example.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_configuration_is_valid() {
    let output = cspr(&["check-config", "--config", &example()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).ends_with("ok\n"));
}

#[test]
fn the_embedded_defaults_are_valid_and_warn_about_placeholders() {
    let output = cspr(&["check-config"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.contains("warning: roles.spa.addresses: still a placeholder"));
    assert!(text.ends_with("ok\n"));
}

#[test]
fn every_problem_is_reported_with_its_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "bad.toml",
        r#"
[partnership]
mailbox = "not-an-address"
colour = "blue"

[sending_window]
start = "8am"

[roles.spa]
addresses = ["spa@hackney.gov.uk", "nobody"]

[roles.chair]
addresses = ["chair@hackney.gov.uk"]

[clocks.c3]
working_days = 15
months = 6

[clocks.c7]
schedule = "every tuesday"

[clocks.c9]
working_days = 3

[clocks.c4]
escalations = [{ to = "mayor", at = 1 }]

[calendar]
extra_non_working_days = ["2026-02-30"]
"#,
    );
    let output = cspr(&["check-config", "--config", &file]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    for expected in [
        "error: partnership.colour: unknown key",
        "error: partnership.mailbox: 'not-an-address' is not an email address",
        "error: sending_window.start: '8am' is not a time (expected HH:MM)",
        "error: roles.spa.addresses[1]: 'nobody' is not an email address",
        "error: roles.chair: 'chair' is not a role",
        "error: clocks.c3: give one of working_days, working_days_before, months or schedule, not working_days and months",
        "error: clocks.c7.schedule: 'every tuesday' is not a cron expression",
        "error: clocks.c9: 'c9' is not a clock",
        "error: clocks.c4.escalations[0].to: 'mayor' is not a role",
        "error: calendar.extra_non_working_days[0]: '2026-02-30' is not a date",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("\nok\n"));
}

#[test]
fn a_wrong_type_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "typed.toml", "[clocks.c3]\nworking_days = \"fifteen\"\n");
    let output = cspr(&["check-config", "--config", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).starts_with("error: clocks.c3.working_days: "), "{}", stdout(&output));
}

#[test]
fn environment_overrides_win_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "c.toml", "[clocks.c3]\nworking_days = 15\n");
    let output = cspr_with_env(
        &["clocks", "--json", "--config", &file, "--start", "2026-11-26"],
        &[("CSPR__CLOCKS__C3__WORKING_DAYS", "20")],
    );
    assert!(output.status.success());
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let c3 = rows.as_array().unwrap().iter().find(|r| r["clock"] == "C3").unwrap();
    assert_eq!(c3["due"]["n"], 20);
    assert_eq!(c3["due_if_started"], "2026-12-24");
    // Through the environment alone, an unknown key is still an error.
    let output = cspr_with_env(&["check-config"], &[("CSPR__CLOCKS__C3__WORKING_DAZE", "20")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("error: clocks.c3.working_daze: unknown key"));
}

#[test]
fn secrets_come_from_files_or_the_environment_never_the_toml() {
    let dir = tempfile::tempdir().unwrap();
    let inline = write(dir.path(), "inline.toml", "[approvals]\ntoken_secret = \"hunter2\"\n");
    let output = cspr(&["check-config", "--config", &inline]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("error: approvals.token_secret: secrets are not written in the file"), "{text}");
    assert!(!text.contains("hunter2"));

    let creds = tempfile::tempdir().unwrap();
    write(creds.path(), "approval-secret", "s3cret-value-of-at-least-32-bytes\n");
    let by_file = write(dir.path(), "file.toml", "[approvals]\ntoken_secret_file = \"approval-secret\"\n");
    let creds_dir = creds.path().display().to_string();
    let output = cspr_with_env(&["check-config", "--config", &by_file], &[("CREDENTIALS_DIRECTORY", &creds_dir)]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // Without the credentials directory the relative name is looked for beside the file.
    let output = cspr(&["check-config", "--config", &by_file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("error: approvals.token_secret_file: cannot read secret file"));

    let output =
        cspr_with_env(&["check-config"], &[("CSPR__APPROVALS__TOKEN_SECRET", "from-env-and-at-least-32-bytes-long")]);
    assert_eq!(output.status.code(), Some(0));
    // A short secret signs tokens that can be guessed: refused, and not echoed.
    let output = cspr_with_env(&["check-config"], &[("CSPR__APPROVALS__TOKEN_SECRET", "short-secret")]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(
        text.contains("error: approvals.token_secret: the secret that signs approval tokens must be at least 32 bytes")
    );
    assert!(!text.contains("short-secret"), "{text}");
}

#[test]
fn a_broken_config_file_stops_every_command_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.toml", "[partnership\nname = 1\n");
    let output = cspr(&["--config", &file, "calendar", "is-working-day", "2026-11-26"]);
    assert_eq!(output.status.code(), Some(2));
    let output = cspr(&["check-config", "--config", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("cannot parse config file"));
}

#[test]
fn oauth2_settings_are_checked_by_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "oauth.toml",
        r#"
[mailbox]
source = "imap"
host = "outlook.office365.com"
username = "chscp@hackney.gov.uk"
auth = "oauth2"
[mailbox.oauth2]
provider = "microsoft"
client_id = "app"
mechanism = "cram-md5"
[outbound]
transport = "smtp"
host = "smtp.example.org"
auth = "oauth2"
[outbound.oauth2]
provider = "generic"
client_id = "app"
token_url = "http://tokens.example.org/token"
"#,
    );
    let output = cspr(&["check-config", "--config", &file]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    for expected in [
        "error: mailbox.oauth2.tenant: must be set for Microsoft",
        "error: mailbox.oauth2.client_secret_file: Microsoft needs a client secret file or a certificate_file",
        "error: mailbox.oauth2.mechanism: 'cram-md5' is not a mechanism",
        "error: outbound.oauth2.token_url: must be https:// (plain http only to a loopback address)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let inline = write(
        dir.path(),
        "inline.toml",
        "[mailbox]\nsource = \"imap\"\nhost = \"h\"\nusername = \"u\"\nauth = \"oauth2\"\n[mailbox.oauth2]\nprovider = \"google\"\nclient_id = \"c\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n",
    );
    let output = cspr(&["check-config", "--config", &inline]);
    let text = stdout(&output);
    assert!(text.contains("error: mailbox.oauth2.client_secret: secrets are not written in the file"), "{text}");
    assert!(text.contains("error: mailbox.oauth2.refresh_token: secrets are not written in the file"), "{text}");

    let google = write(
        dir.path(),
        "google.toml",
        "[mailbox]\nsource = \"imap\"\nhost = \"imap.gmail.com\"\nusername = \"u@example.org\"\nauth = \"oauth2\"\n[mailbox.oauth2]\nprovider = \"google\"\nclient_id = \"c\"\n",
    );
    let output = cspr(&["check-config", "--config", &google]);
    assert!(
        stdout(&output)
            .contains("error: mailbox.oauth2.refresh_token_file: Google needs the mailbox user's refresh token")
    );
    let output = cspr_with_env(
        &["check-config", "--config", &google],
        &[("CSPR__MAILBOX__OAUTH2__CLIENT_SECRET", "from-env"), ("CSPR__MAILBOX__OAUTH2__REFRESH_TOKEN", "from-env")],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn check_config_warns_when_no_sender_can_be_authenticated_or_authentication_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let bare = write(dir.path(), "bare.toml", "[intake]\nrequire_authentication = false\n");
    let output = cspr(&["check-config", "--config", &bare]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("warning: intake.authserv_id: not set, so no sender can be authenticated"), "{text}");
    assert!(text.contains("warning: intake.require_authentication: false"), "{text}");

    let microsoft = write(
        dir.path(),
        "m365.toml",
        "[intake]\nresults_from = \"microsoft365\"\ntenant_domains = [\"hackney.gov.uk\"]\n",
    );
    let text = stdout(&cspr(&["check-config", "--config", &microsoft]));
    assert!(!text.contains("intake.authserv_id"), "Exchange Online's verdict needs no authserv-id: {text}");

    let wrong = write(dir.path(), "wrong.toml", "[intake]\nresults_from = \"exchange\"\narc_signers = [\"x@y\"]\n");
    let output = cspr(&["check-config", "--config", &wrong]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("error: intake.results_from: 'exchange' is not one of authserv-id, microsoft365"), "{text}");
    assert!(text.contains("error: intake.arc_signers: must be domain names"), "{text}");
}

#[test]
fn who_may_give_each_command_and_who_is_alerted_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.toml",
        "[commands.DELAY]\nroles = [\"icsc\"]\n[alerts]\ntriage_roles = [\"spa\", \"duty\"]\n",
    );
    let output = cspr(&["check-config", "--config", &good]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let wrong = write(
        dir.path(),
        "wrong.toml",
        "[commands.POSTPONE]\nroles = [\"icsc\"]\n[commands.CLOSE]\nroles = []\n[alerts]\ndead_letter_roles = [\"boss\"]\n",
    );
    let output = cspr(&["check-config", "--config", &wrong]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("error: commands.POSTPONE: is not a staff command"), "{text}");
    assert!(text.contains("error: commands.CLOSE.roles: must name at least one role"), "{text}");
    assert!(text.contains("error: alerts.dead_letter_roles[0]:"), "{text}");
}

#[test]
fn a_misspelt_key_is_answered_with_the_key_it_was_meant_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "cspr.toml",
        "[mailbox]\nprocesed_folder = \"Done\"\n[outbound]\nsent_foldr = \"Sent\"\n[roles.business_support]\nadresses = []\n\
         [clocks.c3]\nreminder = []\n[commands.CLOSE]\nrole = [\"icsc\"]\n[mailbox.oauth2]\nclient_secrte_file = \"x\"\n\
         [partnership]\nwholly_unlike_anything = 1\n",
    );
    let output = cspr(&["check-config", "--config", &file]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    for expected in [
        "mailbox.procesed_folder: unknown key (did you mean `mailbox.processed_folder`?)",
        "outbound.sent_foldr: unknown key (did you mean `outbound.sent_folder`?)",
        "roles.business_support.adresses: unknown key (did you mean `roles.business_support.addresses`?)",
        "clocks.c3.reminder: unknown key (did you mean `clocks.c3.reminders`?)",
        "commands.CLOSE.role: unknown key (did you mean `commands.CLOSE.roles`?)",
        "mailbox.oauth2.client_secrte_file: unknown key (did you mean `mailbox.oauth2.client_secret_file`?)",
        "partnership.wholly_unlike_anything: unknown key\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn files_the_configuration_names_must_exist_be_readable_and_hold_something() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "empty-ca.pem", "");
    write(dir.path(), "imap-password", "\n");
    let file = write(
        dir.path(),
        "cspr.toml",
        "[mailbox]\nsource = \"imap\"\nhost = \"mail.example.org\"\nusername = \"u\"\npassword_file = \"imap-password\"\n\
         ca_file = \"empty-ca.pem\"\n[outbound]\ntransport = \"smtp\"\nhost = \"smtp.example.org\"\nusername = \"u\"\n\
         ca_file = \"no-such-ca.pem\"\ntemplates_dir = \"no-such-folder\"\n",
    );
    let output = cspr_with_env(&["check-config", "--config", &file], &[("CSPR__OUTBOUND__PASSWORD", "p")]);
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains("mailbox.password_file: the secret file") && text.contains("is empty"), "{text}");
    assert!(text.contains("mailbox.ca_file:") && text.contains("empty-ca.pem is empty"), "{text}");
    assert!(text.contains("outbound.ca_file: cannot read") && text.contains("no-such-ca.pem"), "{text}");
    assert!(text.contains("outbound.templates_dir:") && text.contains("no-such-folder"), "{text}");
}

#[test]
fn the_example_shows_every_section() {
    let text = std::fs::read_to_string(example()).unwrap();
    for section in [
        "[partnership]",
        "[store]",
        "[mailbox]",
        "[intake]",
        "[[local_authorities]]",
        "[references]",
        "[labels]",
        "[cases]",
        "[calendar]",
        "[sending_window]",
        "[roles.",
        "[outbound]",
        "[alerts]",
        "[scheduler]",
        "[approvals]",
        "[clocks.",
        "[retention]",
        "[duties.",
        "[commands.",
        "[http]",
    ] {
        assert!(text.contains(section), "the example has no {section}");
    }
}
