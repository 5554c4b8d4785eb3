//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the built `cspr` binary with `args`, no inherited configuration.
pub fn cspr(args: &[&str]) -> Output {
    cspr_with_env(args, &[])
}

/// Runs the built `cspr` binary with `args` and extra environment variables.
pub fn cspr_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cspr"));
    command.args(args).env_remove("CSPR_CONFIG").env_remove("CREDENTIALS_DIRECTORY");
    for (name, _) in std::env::vars().filter(|(k, _)| k.starts_with("CSPR__")) {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the cspr binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The subject tag of case `seq` under `prefix`, whatever year numbered it: cases are
/// numbered in the London year in which they are opened, and a daemon test reads the
/// real (or `scripts/test --at`) clock. Match it with [`tagged`].
pub fn case_tag(prefix: &str, seq: u32) -> String {
    format!("[{prefix}-YYYY-{seq:03}]")
}

/// Whether `text` holds `tag`, where `YYYY` in the tag stands for any year.
pub fn tagged(text: &str, tag: &str) -> bool {
    match tag.split_once("YYYY") {
        None => text.contains(tag),
        Some((before, after)) => text.match_indices(before).any(|(at, _)| {
            let rest = &text[at + before.len()..];
            rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) && rest[4..].starts_with(after)
        }),
    }
}

/// The London year now, by the clock this test process reads (the one a daemon it
/// starts reads too): the year a case opened now is numbered in.
pub fn this_year() -> i32 {
    use chrono::Datelike;
    cspr::domain::london_date(&chrono::Utc::now()).year()
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("test file written");
    path.display().to_string()
}
