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

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("test file written");
    path.display().to_string()
}
