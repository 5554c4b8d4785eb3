//! The daemon's database as the commands reach it: opened, never created by a command
//! that only works on it; and who is running a command, for the chronology.

use super::CliError;
use crate::config::Config;
use crate::store::Store;

/// The person running a command: `--by`, else the login name (through sudo, the one
/// who ran sudo).
pub(super) fn operator(by: Option<&str>, how: &str) -> String {
    let named = by.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    named
        .or_else(|| {
            ["SUDO_USER", "LOGNAME", "USER"].iter().find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        })
        .map_or_else(|| format!("an operator ({how})"), |who| format!("{who} ({how})"))
}

/// The store of a command that works on the daemon's database: never creates one (a
/// command pointed at the wrong configuration would otherwise print an empty list).
pub async fn open_store(config: &Config) -> Result<Store, CliError> {
    if let Some(path) = crate::store::sqlite_file(&config.store_url)
        && !std::path::Path::new(path).exists()
    {
        return Err(CliError::Usage(format!(
            "no database at {path} (store.url = {}): cspr creates one only when the daemon runs or `cspr migrate` \
             is run. Point --config at the daemon's configuration, or set CSPR__STORE__URL",
            crate::store::redact(&config.store_url)
        )));
    }
    create_store(config).await
}

/// The store, created if there is none (`cspr migrate`).
pub async fn create_store(config: &Config) -> Result<Store, CliError> {
    Store::open(&config.store_url).await.map_err(|e| CliError::Failed(anyhow::Error::new(e)))
}

pub(super) fn failed(e: impl std::error::Error + Send + Sync + 'static) -> CliError {
    CliError::Failed(anyhow::Error::new(e))
}
