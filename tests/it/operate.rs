//! Running it as a service: systemd's notifications (`READY=1`, `WATCHDOG=1`,
//! `STOPPING=1`), secrets from `$CREDENTIALS_DIRECTORY`, one instance per database, and
//! the unit's security exposure.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn daemon(dir: &std::path::Path, extra: &[(&str, String)]) -> std::process::Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command
        .args(["run", "--config", &dir.join("cspr.toml").display().to_string()])
        .env_remove("CSPR_CONFIG")
        .env("CSPR_LOG", "warn")
        .stderr(Stdio::piped());
    for (k, v) in extra {
        command.env(k, v);
    }
    command.spawn().expect("cspr run starts")
}

fn config(dir: &std::path::Path) {
    std::fs::write(
        dir.join("cspr.toml"),
        format!(
            "[store]\nurl = \"sqlite://{}\"\n[mailbox]\nsource = \"maildir\"\nmaildir = \"{}\"\npoll_interval_seconds = 1\n\
             [outbound]\ndirectory = \"{}\"\n[approvals]\ntoken_secret_file = \"approval-token-secret\"\n",
            dir.join("cspr.db").display(),
            dir.join("maildir").display(),
            dir.join("outbox").display()
        ),
    )
    .unwrap();
}

/// Datagrams received within `limit`, until `until` matches one.
fn listen(socket: &UnixDatagram, limit: Duration, until: &str) -> Vec<String> {
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    while started.elapsed() < limit {
        if let Ok(n) = socket.recv(&mut buf) {
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = message.contains(until);
            got.push(message);
            if done {
                break;
            }
        }
    }
    got
}

#[test]
fn the_daemon_tells_systemd_it_is_ready_alive_and_stopping_and_reads_its_secrets_from_credentials() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(credentials.path().join("approval-token-secret"), "a secret only systemd hands over\n").unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut child = daemon(
        dir.path(),
        &[
            ("NOTIFY_SOCKET", socket_path.display().to_string()),
            ("WATCHDOG_USEC", "1000000".into()),
            ("CREDENTIALS_DIRECTORY", credentials.path().display().to_string()),
        ],
    );
    let ready = listen(&socket, Duration::from_secs(15), "READY=1");
    assert!(ready.iter().any(|m| m.contains("READY=1")), "{ready:?}");
    let alive = listen(&socket, Duration::from_secs(10), "WATCHDOG=1");
    assert!(alive.iter().any(|m| m == "WATCHDOG=1"), "{alive:?}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let stopping = listen(&socket, Duration::from_secs(10), "STOPPING=1");
    assert!(stopping.iter().any(|m| m == "STOPPING=1"), "{stopping:?}");
    assert_eq!(child.wait().unwrap().code(), Some(0), "SIGTERM exits 0");

    // Without the credentials directory the secret file is not found: it was read from there.
    let output = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(["check-config", "--config", &dir.path().join("cspr.toml").display().to_string()])
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_second_instance_on_the_same_sqlite_database_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(credentials.path().join("approval-token-secret"), "a secret of at least thirty-two bytes\n")
        .unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let env = [
        ("NOTIFY_SOCKET", socket_path.display().to_string()),
        ("CREDENTIALS_DIRECTORY", credentials.path().display().to_string()),
    ];
    let mut first = daemon(dir.path(), &env);
    assert!(listen(&socket, Duration::from_secs(15), "READY=1").iter().any(|m| m.contains("READY=1")));
    let second = daemon(dir.path(), &env).wait_with_output().unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("another cspr is running on this database"));
    Command::new("kill").args(["-TERM", &first.id().to_string()]).status().unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(0));
}

#[test]
fn the_service_unit_passes_systemds_security_check() {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/cspr.service");
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=15"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze is installed (scripts/test installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    let level: f64 = text
        .lines()
        .find_map(|l| l.split("Overall exposure level for cspr.service:").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("an exposure level");
    println!("exposure level {level}");
    assert!(level <= 1.5, "exposure {level}");
}

fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn the_http_listener_reports_health_metrics_and_a_token_protected_calendar() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut text = std::fs::read_to_string(dir.path().join("cspr.toml")).unwrap();
    text.push_str(&format!("[http]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(dir.path().join("cspr.toml"), text).unwrap();
    let credentials = tempfile::tempdir().unwrap();
    std::fs::write(credentials.path().join("approval-token-secret"), "a secret of at least thirty-two bytes\n")
        .unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut child = daemon(
        dir.path(),
        &[
            ("NOTIFY_SOCKET", socket_path.display().to_string()),
            ("CREDENTIALS_DIRECTORY", credentials.path().display().to_string()),
            ("CSPR__HTTP__CALENDAR_TOKEN", "feed-token-123".into()),
        ],
    );
    assert!(listen(&socket, Duration::from_secs(15), "READY=1").iter().any(|m| m.contains("READY=1")));
    let health = get(port, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"), "{health}");
    let metrics = get(port, "/metrics");
    assert!(metrics.contains("cspr_mailbox_connected 1"), "{metrics}");
    assert!(metrics.contains("# TYPE cspr_last_tick_timestamp_seconds gauge"));
    assert!(get(port, "/calendar.ics").starts_with("HTTP/1.1 403"));
    assert!(get(port, "/calendar.ics?token=wrong-token-12").starts_with("HTTP/1.1 403"));
    let feed = get(port, "/calendar.ics?token=feed-token-123");
    assert!(feed.starts_with("HTTP/1.1 200") && feed.contains("BEGIN:VCALENDAR"), "{feed}");
    assert!(get(port, "/nothing").starts_with("HTTP/1.1 404"));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// The manual page and the completions come from the command line itself: every
/// subcommand is in both.
#[test]
fn the_manual_page_and_the_completions_name_every_command() {
    use clap::CommandFactory;
    let man = crate::support::cspr_with_env(&["man"], &[]);
    assert!(man.status.success());
    let page = String::from_utf8_lossy(&man.stdout).into_owned();
    assert!(page.starts_with(".ie") && page.contains(".TH cspr 1"), "roff: {}", &page[..200.min(page.len())]);
    let bash = crate::support::cspr_with_env(&["completions", "bash"], &[]);
    assert!(bash.status.success());
    let script = String::from_utf8_lossy(&bash.stdout).into_owned();
    let command = cspr::cli::Cli::command();
    let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).collect();
    assert!(names.len() >= 20, "{names:?}");
    for name in names {
        let section = format!(".SH \"CSPR {}\"", name.to_uppercase());
        assert!(page.contains(&section), "the manual page has no {section}");
        assert!(script.contains(name), "the bash completions do not know {name}");
    }
}
