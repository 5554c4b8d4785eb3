//! `cspr check-config`: loads everything the configuration names and reports every
//! problem with its key path, then warnings, then `ok`.

use std::io::Write;
use std::path::PathBuf;

use super::{CliError, write_failed};
use crate::config::{self, Sources};
use crate::domain::london_date;

pub fn run(file: Option<PathBuf>, out: &mut dyn Write) -> Result<(), CliError> {
    match config::load(&Sources::from_process(file)) {
        Ok(config) => {
            if let Err(e) = crate::outbound::Templates::load(config.outbound.templates_dir.as_deref()) {
                out.write_all(format!("error: outbound.templates_dir: {e}\n").as_bytes()).map_err(write_failed)?;
                return Err(CliError::Usage("1 problem(s) in the configuration".into()));
            }
            let today = london_date(&chrono::Utc::now());
            let mut text = String::new();
            for warning in config.warnings(today) {
                text.push_str(&format!("warning: {warning}\n"));
            }
            text.push_str("ok\n");
            out.write_all(text.as_bytes()).map_err(write_failed)
        }
        Err(errors) => {
            let text: String = errors.0.iter().map(|issue| format!("error: {issue}\n")).collect();
            out.write_all(text.as_bytes()).map_err(write_failed)?;
            Err(CliError::Usage(format!("{} problem(s) in the configuration", errors.0.len())))
        }
    }
}
