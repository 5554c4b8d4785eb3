//! The store: every message stored before it is acted on, mailbox checkpoints, and
//! (later) cases, audit and outbox. All SQL lives here. SQLite by default: WAL,
//! synchronous writes, the file created with mode 0600.

mod audit;
mod batch;
mod cases;
mod deferred;
mod messages;
mod outbox;
mod retention;
mod rows;
pub mod schedule;
mod state;

use std::path::Path;
use std::sync::{Arc, Once, OnceLock};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use audit::{AuditRow, TriageRow};
pub use batch::{Batch, Processed};
pub use cases::{CaseRow, IntentRow};
pub use deferred::Ahead;
pub use messages::{Checkpoint, MessageInfo, NewMessage, Stored, StoredMessage};
pub use outbox::OutboxRow;
pub use retention::Purged;
pub use schedule::{ScheduledCase, Settled};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {cause}")]
    Open { url: String, cause: sqlx::Error },
    #[error("cannot create the database file {path}: {cause}")]
    CreateFile { path: String, cause: std::io::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error("cannot {action}: {cause}")]
    Query { action: &'static str, cause: sqlx::Error },
    #[error("cannot store the change: {0}")]
    Conflict(String),
    #[error("cannot encode {what}: {cause}")]
    Encode { what: &'static str, cause: serde_json::Error },
    #[error("unsupported database URL '{0}' (expected sqlite:PATH or postgres://…)")]
    Unsupported(String),
    #[error("cannot write: another instance leads now (its epoch {current}, ours {ours}); this one stops")]
    NotLeader { ours: i64, current: i64 },
}

impl StoreError {
    /// An error about what one change asked of the database (a constraint or trigger
    /// refused it, it could not be encoded), not about the database itself: undoing that
    /// change alone lets the rest of its transaction go on.
    pub fn is_about_the_change(&self) -> bool {
        match self {
            StoreError::Conflict(_) | StoreError::Encode { .. } => true,
            StoreError::Query { cause: sqlx::Error::Database(_), .. } => !self.is_disk_full(),
            _ => false,
        }
    }

    /// The disk holding the database is full (SQLite's SQLITE_FULL, PostgreSQL's
    /// disk_full, or the system's ENOSPC): transient, once space is made.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Query { cause: source, .. } | StoreError::Open { cause: source, .. } => match source {
                sqlx::Error::Io(e) => e.raw_os_error() == Some(28),
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    code.parse::<u32>().is_ok_and(|c| c & 0xff == 13) || code == "53100"
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// A busy or locked database, a lost connection or a full disk: worth trying again.
    pub fn is_transient(&self) -> bool {
        if self.is_disk_full() {
            return true;
        }
        match self {
            StoreError::Query { cause: source, .. } | StoreError::Open { cause: source, .. } => match source {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // SQLite busy or locked (extended codes keep the primary code in the low byte);
                    // PostgreSQL connection exceptions (class 08) and shutdowns (57P0x).
                    let sqlite_busy = code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                    sqlite_busy
                        || code.starts_with("08")
                        || code.starts_with("57P0")
                        || code == "40001"
                        || code == "40P01"
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// A moment as stored: RFC 3339 UTC text with milliseconds (sorts as time on both engines).
pub(crate) fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn query_error(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { action, cause: source }
}

/// The VALUES of a multi-row statement of `rows` rows of `columns` on `conn`'s engine:
/// `($1, $2), ($3, $4)` on PostgreSQL; `(?, ?), (?, ?)` on SQLite, whose lookup of
/// numbered parameters grows with their number (a long statement would bind in
/// quadratic time).
pub(crate) fn placeholders(conn: &sqlx::AnyConnection, rows: usize, columns: usize) -> String {
    let numbered = !conn.backend_name().eq_ignore_ascii_case("sqlite");
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        out.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            if numbered {
                out.push('$');
                out.push_str(&(row * columns + column + 1).to_string());
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The database behind the daemon: SQLite or PostgreSQL, chosen by the URL. Queries are
/// written once, in SQL both engines accept; times are stored as RFC 3339 UTC text.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// The leader's epoch, once this instance leads on PostgreSQL: every write of the
    /// daemon's checks it inside its transaction (see `leader`).
    fence: Arc<OnceLock<i64>>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    /// Opens the database at `url`, creating it (a SQLite file) if there is none, and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let open_error = |source| StoreError::Open { url: redact(url), cause: source };
        let engine = if url.starts_with("sqlite:") {
            if let Some(path) = sqlite_file(url) {
                create_private(Path::new(path))?;
            }
            Engine::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::Unsupported(redact(url)));
        };
        let options: AnyConnectOptions = url.parse().map_err(open_error)?;
        // Statements (SQL text, never the values bound to it) at TRACE; slow ones at WARN.
        let options = options
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, std::time::Duration::from_secs(2));
        let pool = AnyPoolOptions::new()
            .max_connections(if engine == Engine::Sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            // A connection whose transaction could neither commit nor roll back (a COMMIT
            // refused for want of space, after SQLite had already undone the transaction)
            // keeps a transaction depth it can never leave: every later BEGIN on it would
            // fail. Such a connection is closed, never handed out again.
            .before_acquire(|conn, _| Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(&*conn)) }))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        let migrator = match engine {
            Engine::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Engine::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        // Two processes opening a new SQLite database at once must not both apply a
        // migration (sqlx locks only on PostgreSQL): a file lock beside it, held meanwhile.
        let _migrating = match engine {
            Engine::Sqlite => sqlite_migration_lock(url).await?,
            Engine::Postgres => None,
        };
        migrator.run(&pool).await.map_err(StoreError::Migrate)?;
        Ok(Self { pool, engine, fence: Arc::new(OnceLock::new()) })
    }

    /// From now on every write of the daemon's (ingest, scheduler, delivery) commits
    /// only while the leader epoch is still `epoch`.
    pub fn fence(&self, epoch: i64) {
        let _ = self.fence.set(epoch);
    }

    /// Begins a write transaction; commit it with `commit_write`, which fences it.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        self.pool.begin().await.map_err(query_error("begin a transaction"))
    }

    /// Commits a write transaction, fenced: on PostgreSQL with a fence set, it first
    /// takes a share lock on the epoch row (a takeover's epoch change waits for the
    /// commit, and a commit after a takeover sees the new epoch) and rolls back if
    /// another instance has taken the lead since. The lock is held only for the commit,
    /// so a leader paused in the middle of its work does not hold up a takeover.
    pub(crate) async fn commit_write(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        action: &'static str,
    ) -> Result<(), StoreError> {
        check_fence(self.fence.get().copied(), &mut tx).await?;
        tx.commit().await.map_err(query_error(action))
    }

    /// The epoch this instance writes under, if fenced.
    pub(crate) fn fence_epoch(&self) -> Option<i64> {
        self.fence.get().copied()
    }

    /// Fails if another instance has taken the lead since this one's fence was set (a
    /// look without a lock: the last check before an email leaves).
    pub async fn still_fenced(&self) -> Result<(), StoreError> {
        let Some(&ours) = self.fence.get() else { return Ok(()) };
        let current: i64 = sqlx::query_scalar("SELECT epoch FROM leader_epoch WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("check the leader epoch"))?;
        if current == ours { Ok(()) } else { Err(StoreError::NotLeader { ours, current }) }
    }

    /// Runs one write statement in a fenced transaction.
    pub(crate) async fn write<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        action: &'static str,
    ) -> Result<sqlx::any::AnyQueryResult, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = query.execute(&mut *tx).await.map_err(query_error(action))?;
        self.commit_write(tx, action).await?;
        Ok(done)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Fails unless the leader epoch is still `fence` (nothing to check without one), with
/// a share lock on the epoch row until the transaction ends.
pub(crate) async fn check_fence(
    fence: Option<i64>,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<(), StoreError> {
    let Some(ours) = fence else { return Ok(()) };
    let current: i64 = sqlx::query_scalar("SELECT epoch FROM leader_epoch WHERE id = 1 FOR SHARE")
        .fetch_one(&mut **tx)
        .await
        .map_err(query_error("check the leader epoch"))?;
    if current == ours { Ok(()) } else { Err(StoreError::NotLeader { ours, current }) }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Creates the database file readable by its owner only (existing files are left).
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|source| StoreError::CreateFile { path: path.display().to_string(), cause: source })?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .or_else(|e| if e.kind() == std::io::ErrorKind::AlreadyExists { Ok(()) } else { Err(e) })
        .map_err(|source| StoreError::CreateFile { path: path.display().to_string(), cause: source })
}

/// An exclusive lock on `<database>.migrate.lock` (none for an in-memory database).
async fn sqlite_migration_lock(url: &str) -> Result<Option<std::fs::File>, StoreError> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(':') {
        return Ok(None);
    }
    let lock = format!("{path}.migrate.lock");
    let error = |source| StoreError::CreateFile { path: lock.clone(), cause: source };
    let locking = lock.clone();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&locking)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| error(std::io::Error::other(e)))?
    .map(Some)
    .map_err(error)
}

/// `value` as JSON text for a column; a value that cannot be written is an error, never
/// an empty string in the database.
pub(crate) fn encode(what: &'static str, value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|cause| StoreError::Encode { what, cause })
}

/// The file of a SQLite URL (`sqlite://PATH` or `sqlite:PATH`), if it names one (not
/// `:memory:`).
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (path != ":memory:" && !path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction whose COMMIT fails after the database has already ended it leaves
    /// its connection stuck "in a transaction"; such a connection is never used again.
    #[tokio::test]
    async fn a_connection_left_in_a_dead_transaction_is_not_handed_out_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("cspr.db").display())).await.unwrap();
        for _ in 0..8 {
            let mut tx = store.begin_write().await.expect("a transaction begins");
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
            assert!(tx.commit().await.is_err(), "the database has no transaction left to commit");
        }
        for _ in 0..8 {
            let tx = store.batch().await.expect("every later transaction begins");
            drop(tx);
        }
    }
}
