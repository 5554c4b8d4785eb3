//! Reading the configuration: the TOML file, environment overrides, the files that
//! keys point at (holidays, secrets). All of this module's I/O is file reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml::Table;

use super::build::{self, Files};
use super::raw::RawConfig;
use super::{Config, ConfigErrors, ConfigIssue, env};

/// Keys that hold secrets: only their `*_file` form may be in the file; the value
/// itself only in the environment.
const SECRET_KEYS: &[&str] = &[
    "approvals.token_secret",
    "mailbox.password",
    "mailbox.oauth2.client_secret",
    "mailbox.oauth2.refresh_token",
    "outbound.password",
    "outbound.oauth2.client_secret",
    "outbound.oauth2.refresh_token",
    "http.calendar_token",
];

/// Where configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    /// The process environment (only `CSPR__…` variables are read).
    pub env: Vec<(String, String)>,
    /// `$CREDENTIALS_DIRECTORY`, where relative `*_file` secrets are looked for.
    pub credentials_dir: Option<PathBuf>,
}

impl Sources {
    /// The file given, with this process's environment.
    pub fn from_process(file: Option<PathBuf>) -> Self {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with(env::PREFIX)).collect();
        let credentials_dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        Self { file, env, credentials_dir }
    }
}

fn issue(path: impl Into<String>, message: impl Into<String>) -> ConfigIssue {
    ConfigIssue { path: path.into(), message: message.into() }
}

/// Keys whose files hold secrets (beside `SECRET_KEYS`' `*_file` forms): not read by
/// `load_without_secrets`.
const SECRET_FILES: &[&str] = &[
    "mailbox.oauth2.certificate_file",
    "mailbox.oauth2.private_key_file",
    "outbound.oauth2.certificate_file",
    "outbound.oauth2.private_key_file",
];

/// Loads and checks the configuration, returning every problem found.
pub fn load(sources: &Sources) -> Result<Config, ConfigErrors> {
    load_with(sources, true)
}

/// Loads the configuration for a command that reads the store and sends nothing
/// (`cases`, `case`, the listings of `triage` and `outbox`, `deadlines`, `report`,
/// `inspect`): no secret file is read and none is required, so such a command runs with
/// only the configuration file readable. The secrets in the result are placeholders.
pub fn load_without_secrets(sources: &Sources) -> Result<Config, ConfigErrors> {
    load_with(sources, false)
}

fn is_secret(path: &str) -> bool {
    SECRET_KEYS.iter().chain(SECRET_FILES).any(|key| path.starts_with(key))
}

fn load_with(sources: &Sources, secrets: bool) -> Result<Config, ConfigErrors> {
    let mut table = match &sources.file {
        Some(path) => read_table(path)?,
        None => Table::new(),
    };
    let mut issues = Vec::new();
    for key in SECRET_KEYS {
        if lookup(&table, key).is_some() {
            issues.push(issue(
                *key,
                format!(
                    "secrets are not written in the file: use {key}_file, or the environment variable {}",
                    env_name(key)
                ),
            ));
        }
    }
    // A command that reads no secret is built with placeholders where none is given.
    let environment = if secrets { sources.env.clone() } else { with_placeholders(&sources.env) };
    env::apply(&mut table, &environment);
    let mut unknown = BTreeSet::new();
    let mut note_unknown = |path: serde_ignored::Path<'_>| {
        unknown.insert(path.to_string());
    };
    let deserializer = serde_ignored::Deserializer::new(toml::Value::Table(table), &mut note_unknown);
    let raw: Result<RawConfig, _> = serde_path_to_error::deserialize(deserializer);
    // (serde_ignored writes `?` for an optional table's contents: not part of the key.)
    issues.extend(unknown.into_iter().map(|path| path.replace(".?", "")).map(|path| {
        let message = match suggestion(&path) {
            Some(known) => format!("unknown key (did you mean `{known}`?)"),
            None => "unknown key".to_owned(),
        };
        issue(path, message)
    }));
    let raw = match raw {
        Ok(raw) => raw,
        Err(error) => {
            let path = error.path().to_string();
            issues.push(issue(if path == "." { String::new() } else { path }, error.into_inner().message().to_owned()));
            return Err(ConfigErrors(issues));
        }
    };
    let base_dir = sources.file.as_deref().and_then(Path::parent).map(Path::to_path_buf);
    let files = DiskFiles { base_dir, credentials_dir: sources.credentials_dir.clone(), secrets };
    let built = build::build(raw, &files);
    if !secrets {
        issues.retain(|i| !is_secret(&i.path));
    }
    match built {
        Ok(config) if issues.is_empty() => Ok(config),
        Ok(_) => Err(ConfigErrors(issues)),
        Err(more) => {
            issues.extend(more.into_iter().filter(|i| secrets || !is_secret(&i.path)));
            if issues.is_empty() {
                issues.push(issue(
                    "",
                    "the configuration cannot be built without reading its secrets (an OAuth2 certificate?): run this command where they are readable",
                ));
            }
            Err(ConfigErrors(issues))
        }
    }
}

/// What stands for a secret that is not read.
const PLACEHOLDER: &str = "(not read: this command uses no secret; placeholder)";

/// `env` with a placeholder for each password not given: what a command that reads no
/// secret is built with (a password file, when named, is not read either).
fn with_placeholders(env: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    for key in ["mailbox.password", "outbound.password"] {
        let name = env_name(key);
        if !env.iter().any(|(k, _)| *k == name) {
            env.push((name, PLACEHOLDER.to_owned()));
        }
    }
    env
}

/// Every key the example configuration shows (it lists every section, some keys only
/// in comments), as dotted paths: read line by line, each `key = …` under the table
/// header above it.
fn known_keys() -> Vec<String> {
    let key_chars = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let mut table = String::new();
    let mut out = Vec::new();
    for line in EXAMPLE.lines() {
        let line = line.trim_start_matches(['#', ' ']);
        let header = line.trim_start_matches('[').trim_end_matches(']');
        if line.starts_with('[') && line.ends_with(']') && key_chars(header) {
            table = header.to_owned();
            out.push(table.clone());
        } else if let Some((key, _)) = line.split_once(" = ").filter(|(k, _)| key_chars(k.trim())) {
            let key = key.trim();
            out.push(if table.is_empty() { key.to_owned() } else { format!("{table}.{key}") });
        }
    }
    out
}

const EXAMPLE: &str = include_str!(concat!(std::env!("CARGO_MANIFEST_DIR"), "/config/cspr.example.toml"));

/// The known key an unknown one was probably meant to be: the nearest in spelling among
/// the keys of the same table (a role, clock or command table stands for any other).
fn suggestion(unknown: &str) -> Option<String> {
    let parts: Vec<&str> = unknown.split('.').filter(|p| p.parse::<usize>().is_err()).collect();
    let (leaf, parent) = parts.split_last()?;
    let same_table = |known: &[&str]| {
        known.len() == parts.len()
            && known[..known.len() - 1]
                .iter()
                .zip(parent)
                .enumerate()
                .all(|(i, (k, u))| k == u || (i == 1 && parts.len() > 2))
    };
    known_keys()
        .iter()
        .filter_map(|k| {
            let known: Vec<&str> = k.split('.').collect();
            same_table(&known).then(|| (distance(leaf, known[known.len() - 1]), known))
        })
        .filter(|(d, _)| *d > 0 && *d <= 1.max(leaf.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| {
            let mut path: Vec<&str> = parent.to_vec();
            path.push(known[known.len() - 1]);
            path.join(".")
        })
}

/// Edit distance between two keys.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

fn read_table(path: &Path) -> Result<Table, ConfigErrors> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigErrors(vec![issue("", format!("cannot read config file {shown}: {e}"))]))?;
    text.parse::<Table>().map_err(|e| {
        let message = e.message().to_owned();
        let at = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].lines().count().max(1);
                format!(" (line {line})")
            })
            .unwrap_or_default();
        ConfigErrors(vec![issue("", format!("cannot parse config file {shown}{at}: {message}"))])
    })
}

fn lookup<'a>(table: &'a Table, dotted: &str) -> Option<&'a toml::Value> {
    let mut parts = dotted.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = value.as_table()?.get(part)?;
    }
    Some(value)
}

fn env_name(dotted: &str) -> String {
    format!("{}{}", env::PREFIX, dotted.replace('.', "__").to_ascii_uppercase())
}

/// Files named by configuration keys, read from disk.
struct DiskFiles {
    base_dir: Option<PathBuf>,
    credentials_dir: Option<PathBuf>,
    /// Whether secret files are read (else each stands as `PLACEHOLDER`).
    secrets: bool,
}

impl Files for DiskFiles {
    fn read_data(&self, name: &str) -> Result<String, String> {
        let path = resolve(self.base_dir.as_deref(), name);
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    fn resolve_data(&self, name: &str) -> PathBuf {
        resolve(self.base_dir.as_deref(), name)
    }

    fn read_secret(&self, name: &str) -> Result<String, String> {
        if !self.secrets {
            return Ok(PLACEHOLDER.to_owned());
        }
        let path = resolve(self.credentials_dir.as_deref().or(self.base_dir.as_deref()), name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
        let secret = text.trim_end_matches(['\r', '\n']).to_owned();
        if secret.trim().is_empty() {
            return Err(format!("the secret file {} is empty", path.display()));
        }
        Ok(secret)
    }
}

fn resolve(base: Option<&Path>, name: &str) -> PathBuf {
    let path = Path::new(name);
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}
