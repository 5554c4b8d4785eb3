//! The README's install steps, taken from the README itself and run into a temporary
//! root as written: the unit verifies, and the service's dynamic user — a uid that owns
//! nothing — can read the configuration, get its secrets from `$CREDENTIALS_DIRECTORY`
//! the way systemd hands them over, check the configuration and start a dry run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: &str = "65534";

/// The shell lines of the README's "Install with systemd" block.
fn install_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme.split("## Install with systemd").nth(1).expect("the install section");
    section
        .lines()
        .skip_while(|l| !l.starts_with("    "))
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim().to_owned())
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `binary args` as the unprivileged uid, with `CREDENTIALS_DIRECTORY`.
fn as_service(binary: &Path, args: &[&str], credentials: &Path, cwd: &Path) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args([&format!("--reuid={NOBODY}"), &format!("--regid={NOBODY}"), "--clear-groups", "--"])
        .arg(binary)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("CREDENTIALS_DIRECTORY", credentials)
        .env("CSPR_LOG", "warn");
    command
}

#[test]
fn the_readme_install_steps_give_a_service_its_dynamic_user_can_run() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::set_permissions(r, std::fs::Permissions::from_mode(0o755)).unwrap();
    // What any Linux host has before the steps run.
    for dir in ["usr/local/bin", "etc/systemd/system", "etc/bash_completion.d", "usr/local/share", "var/lib/cspr"] {
        std::fs::create_dir_all(r.join(dir)).unwrap();
    }
    let binary = env!("CARGO_BIN_EXE_cspr");
    let lines = install_lines();
    assert!(lines.iter().any(|l| l.starts_with("install -m 0644 config/cspr.example.toml")), "{lines:#?}");
    let mut ran = 0;
    for line in &lines {
        // Building and starting belong to the host; the rest runs as written, into the root.
        if line.starts_with("cargo build") || line.starts_with("systemctl") {
            continue;
        }
        let line = line
            .replace("target/release/cspr", binary)
            .replace(" /usr/local/", &format!(" {}/usr/local/", r.display()))
            .replace(" /etc/", &format!(" {}/etc/", r.display()))
            .replace("&& cspr ", &format!("&& {binary} "));
        let line = match line.strip_prefix("cspr ") {
            Some(rest) => format!("{binary} {rest}"),
            None => line,
        };
        let status = Command::new("bash")
            .args(["-ec", &line])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("IMAP_PASSWORD", "imap-secret")
            .status()
            .unwrap();
        assert!(status.success(), "README step failed: {line}");
        ran += 1;
    }
    assert!(ran >= 8, "{ran} steps");
    let etc = r.join("etc/cspr");
    assert_eq!(mode(&etc), 0o755);
    assert_eq!(mode(&etc.join("cspr.toml")), 0o644);
    assert_eq!(mode(&etc.join("credentials")), 0o700);
    assert_eq!(mode(&etc.join("credentials/approval-token-secret")), 0o600);
    assert!(r.join("usr/local/share/man/man1/cspr.1").exists() && r.join("etc/bash_completion.d/cspr").exists());

    // The unit verifies, its binary and files where the steps put them (the unit read
    // with the root's paths; the manual page is checked above, where the steps put it).
    let installed_unit = std::fs::read_to_string(r.join("etc/systemd/system/cspr.service")).unwrap();
    let unit = r.join("cspr.service");
    std::fs::write(
        &unit,
        installed_unit
            .replace("/usr/local/bin/cspr", &r.join("usr/local/bin/cspr").display().to_string())
            .replace("/etc/cspr/", &format!("{}/", r.join("etc/cspr").display())),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&unit).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    assert!(verify.status.success(), "systemd-analyze verify: {said}");

    // The operator's edits the steps call for: the database in the state directory, the
    // approval secret from the credentials.
    let config = etc.join("cspr.toml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("url = \"sqlite://cspr.db\"", &format!("url = \"sqlite://{}/var/lib/cspr/cspr.db\"", r.display()))
        .replace("# token_secret_file = \"approval-token-secret\"", "token_secret_file = \"approval-token-secret\"");
    std::fs::write(&config, text).unwrap();
    // systemd hands each LoadCredential= file to the service's user in a folder of its own.
    let credentials = r.join("run/credentials/cspr.service");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::copy(etc.join("credentials/approval-token-secret"), credentials.join("approval-token-secret")).unwrap();
    let state = r.join("var/lib/cspr");
    std::fs::create_dir_all(state.join("maildir/new")).unwrap();
    for path in [
        credentials.as_path(),
        r.join("run/credentials").as_path(),
        r.join("run").as_path(),
        state.as_path(),
        state.join("maildir").as_path(),
        state.join("maildir/new").as_path(),
    ] {
        Command::new("chown").args([&format!("{NOBODY}:{NOBODY}"), &path.display().to_string()]).status().unwrap();
    }
    Command::new("chown")
        .args(["-R", &format!("{NOBODY}:{NOBODY}"), &credentials.display().to_string()])
        .status()
        .unwrap();
    let installed: PathBuf = r.join("usr/local/bin/cspr");
    let config_arg = config.display().to_string();

    let check =
        as_service(&installed, &["check-config", "--config", &config_arg], &credentials, &state).output().unwrap();
    assert!(
        check.status.success(),
        "check-config as the service's user: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let rehearsal = format!("sqlite://{}/rehearsal.db", state.display());
    let outbox = state.join("would-send").display().to_string();
    let mut dry = as_service(
        &installed,
        &["run", "--dry-run", "--config", &config_arg, "--state", &rehearsal, "--outbox", &outbox],
        &credentials,
        &state,
    )
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) && dry.try_wait().unwrap().is_none() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_running = dry.try_wait().unwrap().is_none();
    let _ = Command::new("kill").args(["-TERM", &dry.id().to_string()]).status();
    let output = dry.wait_with_output().unwrap();
    assert!(still_running, "the dry run stopped by itself: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}
