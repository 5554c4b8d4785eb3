//! The command line: clap definitions and dispatch into the library. Each command
//! writes its report to the given output; errors come back as `CliError`.

mod calendar;
mod cases;
mod check_config;
mod clocks;
mod connectivity;
mod database;
mod inspect;
mod listing;
mod open;
mod outbox;
mod packaging;
pub mod printable;
mod reports;
mod simulate;
mod status;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{self, Config, Sources};

/// Keeps the statutory clocks of Child Safeguarding Practice Reviews.
#[derive(Debug, Parser)]
#[command(name = "cspr", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML); embedded defaults when absent.
    #[arg(long, global = true, env = "CSPR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Working days, bank holidays and calendar months.
    #[command(subcommand)]
    Calendar(calendar::CalendarCommand),
    /// The clocks in force: start events, due rules, reminders and escalations.
    Clocks(clocks::ClocksArgs),
    /// Checks the configuration and prints `ok` or every problem with its key path.
    CheckConfig,
    /// Shows what the pipeline understands of one message file.
    Inspect(inspect::InspectArgs),
    /// Runs the daemon: watches the mailbox and processes every message.
    Run(RunArgs),
    /// Lists cases: reference, type, stage, next due date and status.
    Cases(cases::CasesArgs),
    /// One case: its clocks and its whole chronology.
    Case(cases::CaseArgs),
    /// Messages held for a person, and resolving them.
    Triage(cases::TriageArgs),
    /// What the daemon is doing now: running or not, the mailbox and its last sync, the
    /// last tick, the outbox by status, open triage.
    Status(status::StatusArgs),
    /// A stored message: its headers and what was understood of it (never its body).
    Message(listing::MessageArgs),
    /// Opens a case by hand, as the OPEN command does by email:
    /// `cspr open notification Hackney aware 18/11/2026 notified 20/11/2026 ref SIN-2026-0412`.
    Open(open::OpenArgs),
    /// Applies database migrations (also done at every start).
    Migrate,
    /// Outgoing mail: every email and its status; `retry ID` re-queues a dead letter.
    Outbox(outbox::OutboxArgs),
    /// What would happen: a folder of messages run through the daemon's own steps with a
    /// simulated clock, in a throwaway database; emails written as files.
    Simulate(simulate::SimulateArgs),
    /// A whole case from notification to publication, simulated with no servers and no setup.
    Demo,
    /// Open deadlines, soonest first; `--ics` for a calendar feed.
    Deadlines(reports::DeadlinesArgs),
    /// A year's figures for each clock: met on time, late (by how many working days), open.
    Report(reports::ReportArgs),
    /// Removes the raw text of messages of cases closed longer ago than retention allows.
    Purge(reports::PurgeArgs),
    /// Connects to the mailbox, logs in and opens the folder: reports IDLE support and the
    /// message count, or what is wrong and what to do about it.
    CheckMailbox,
    /// Sends one test email through the configured outbound transport.
    SendTestEmail(SendTestArgs),
    /// Writes the manual page, cspr(1), in roff: `cspr man > /usr/local/share/man/man1/cspr.1`.
    Man,
    /// Writes shell completions: `cspr completions bash > /etc/bash_completion.d/cspr`.
    Completions(packaging::CompletionsArgs),
}

/// `cspr send-test-email` options.
#[derive(Debug, clap::Args)]
pub struct SendTestArgs {
    /// Who gets the test email.
    #[arg(long, value_name = "ADDRESS")]
    pub to: String,
}

/// `cspr run` options.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Read the real mailbox without changing it, keep all state in a separate database
    /// and write would-be emails to a folder instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: the database to keep state in (a temporary one when left out).
    #[arg(long, requires = "dry_run", value_name = "URL")]
    pub state: Option<String>,
    /// With --dry-run: where would-be emails are written (a temporary folder when left out).
    #[arg(long, requires = "dry_run", value_name = "DIR")]
    pub outbox: Option<PathBuf>,
}

/// How a command failed, and so the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage or input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Anything else: exit 1.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

/// Runs one command, writing its report to `out` with control characters dropped.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let mut printable = printable::Printable::new(out);
    let result = run_command(cli, &mut printable);
    let _ = printable.flush();
    result
}

fn run_command(cli: Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match cli.command {
        Command::Calendar(command) => calendar::run(command, &load(cli.config)?, out),
        Command::Clocks(args) => clocks::run(&args, &load(cli.config)?, out),
        Command::CheckConfig => check_config::run(cli.config, out),
        Command::Inspect(args) => inspect::run(&args, &load_reading(cli.config)?, out),
        Command::Run(args) => {
            let described =
                cli.config.as_ref().map_or_else(|| "none (embedded defaults)".to_owned(), |p| p.display().to_string());
            let mut config = load(cli.config)?;
            let mut kept = None;
            if args.dry_run {
                let work = tempfile::Builder::new()
                    .prefix("cspr-dry-run-")
                    .tempdir()
                    .map_err(|e| CliError::Failed(e.into()))?
                    .keep();
                let state =
                    args.state.clone().unwrap_or_else(|| format!("sqlite://{}", work.join("dry-run.db").display()));
                let outbox = args.outbox.clone().unwrap_or_else(|| work.join("outbox"));
                eprintln!("dry run: state in {state}, emails written to {}", outbox.display());
                config = config.for_dry_run(state, outbox).map_err(CliError::Usage)?;
                kept = Some(work);
            }
            let mailbox = match &config.mailbox {
                config::MailboxSource::Maildir { path, .. } => format!("maildir:{}", path.display()),
                config::MailboxSource::Imap(imap) => {
                    format!("imap:{}@{}:{}/{}", imap.username, imap.host, imap.port, imap.folder)
                }
            };
            let roles =
                config.directory.roles.values().filter(|m| !m.addresses.is_empty() || !m.domains.is_empty()).count();
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                config = %described,
                database = %crate::store::redact(&config.store_url),
                mailbox = %mailbox,
                roles,
                dry_run = args.dry_run,
                "cspr starting"
            );
            let result = runtime()?.block_on(crate::app::run(config)).map_err(CliError::Failed);
            drop(kept);
            result
        }
        Command::Cases(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(cases::cases(&args, &config, out))
        }
        Command::Case(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(cases::case(&args, &config, out))
        }
        Command::Triage(args) => {
            let config = if args.action.is_none() { load_reading(cli.config)? } else { load(cli.config)? };
            runtime()?.block_on(cases::triage(&args, &config, out))
        }
        Command::Man => packaging::man(out),
        Command::Completions(args) => packaging::completions(&args, out),
        Command::Status(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(status::status(&args, &config, out))
        }
        Command::Message(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(listing::message(&args, &config, out))
        }
        Command::Open(args) => {
            let config = load(cli.config)?;
            runtime()?.block_on(open::open(&args, &config, out))
        }
        Command::Outbox(args) => {
            let config = if args.action.is_none() { load_reading(cli.config)? } else { load(cli.config)? };
            runtime()?.block_on(outbox::run(&args, &config, out))
        }
        Command::Simulate(args) => {
            let config = load(cli.config)?;
            runtime()?.block_on(simulate::simulate_command(&args, config, out))
        }
        Command::Demo => runtime()?.block_on(simulate::demo(out)),
        Command::CheckMailbox => {
            let config = load(cli.config)?;
            runtime()?.block_on(connectivity::check_mailbox(&config, out))
        }
        Command::SendTestEmail(args) => {
            let config = load(cli.config)?;
            runtime()?.block_on(connectivity::send_test_email(&config, &args.to, out))
        }
        Command::Deadlines(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(reports::deadlines_command(&args, &config, out))
        }
        Command::Report(args) => {
            let config = load_reading(cli.config)?;
            runtime()?.block_on(reports::report(&args, &config, out))
        }
        Command::Purge(args) => {
            let config = load(cli.config)?;
            runtime()?.block_on(reports::purge(&args, &config, out))
        }
        Command::Migrate => {
            let config = load(cli.config)?;
            runtime()?.block_on(cases::migrate(&config, out))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(anyhow::Error::new(e).context("cannot start the runtime")))
}

/// The configuration for a command that reads the store and sends nothing: no secret
/// is read or required.
fn load_reading(file: Option<PathBuf>) -> Result<Config, CliError> {
    config::load_without_secrets(&Sources::from_process(file))
        .map_err(|errors| CliError::Usage(format!("invalid configuration: {errors} (run cspr check-config)")))
}

fn load(file: Option<PathBuf>) -> Result<Config, CliError> {
    config::load(&Sources::from_process(file))
        .map_err(|errors| CliError::Usage(format!("invalid configuration: {errors} (run cspr check-config)")))
}

fn write_failed(e: std::io::Error) -> CliError {
    CliError::Failed(anyhow::Error::new(e).context("cannot write output"))
}
