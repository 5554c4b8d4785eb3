//! The `cspr` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use cspr::cli::{Cli, Command, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon reports what it does; one-shot commands only what goes wrong.
    let default = if matches!(cli.command, Command::Run(_)) { "info" } else { "warn" };
    let filter = cspr::logging::filter(std::env::var("CSPR_LOG").ok().as_deref(), default);
    let format = cspr::logging::format(
        std::env::var("CSPR_LOG_FORMAT").ok().as_deref(),
        std::env::var_os("JOURNAL_STREAM").is_some(),
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        cspr::logging::Format::Json => logs.json().flatten_event(true).with_current_span(false).init(),
        cspr::logging::Format::Text { colour } => logs.with_ansi(colour).init(),
    }
    let mut stdout = std::io::stdout().lock();
    match run(cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cspr::cli::printable::clean(&format!("{error:#}")));
            ExitCode::from(error.exit_code())
        }
    }
}
