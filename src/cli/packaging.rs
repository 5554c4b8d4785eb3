//! The manual page and shell completions, generated from the command line itself so
//! that they never fall behind it: `cspr man > cspr.1`, `cspr completions bash`.

use std::io::Write;

use clap::{Args, CommandFactory};

use super::{Cli, CliError, write_failed};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: clap_complete::Shell,
}

/// `cspr(1)`, in roff: every command and option, with the subcommands' own sections.
pub fn man(out: &mut dyn Write) -> Result<(), CliError> {
    let command = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page).map_err(write_failed)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let about = sub.get_long_about().or(sub.get_about()).map(ToString::to_string).unwrap_or_default();
        page.extend_from_slice(format!(".SH \"CSPR {}\"\n{}\n", name.to_uppercase(), roff(&about)).as_bytes());
        let usage = roff(&sub_usage(&command, name));
        page.extend_from_slice(format!(".PP\n\\fBUsage:\\fR {usage}\n").as_bytes());
    }
    out.write_all(&page).map_err(write_failed)
}

fn sub_usage(command: &clap::Command, name: &str) -> String {
    let mut sub = command.clone();
    sub.build();
    sub.find_subcommand_mut(name).map(|s| s.render_usage().to_string().replace("Usage: ", "")).unwrap_or_default()
}

/// Text made safe for roff: backslashes and hyphens escaped, no line starting with a dot.
fn roff(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('-', "\\-")
        .lines()
        .map(|l| if l.starts_with(['.', '\'']) { format!("\\&{l}") } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Completions for `shell`.
pub fn completions(args: &CompletionsArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cspr", &mut script);
    out.write_all(&script).map_err(write_failed)
}
