//! One active instance per database: a file lock beside a SQLite database (a second
//! instance refuses to start), or a PostgreSQL advisory lock held on a connection of its
//! own (a second instance stands by and takes over when the first dies). The lock is
//! checked again before every email is sent. On PostgreSQL each new leader also takes a
//! new epoch, and every write transaction of the daemon's commits only while the epoch
//! is still its own, so an old leader that was paused (and lost its lock meanwhile)
//! cannot write after a takeover.

use std::fs::File;
use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::{Mutex, watch};

/// The advisory lock's key ("cspr").
const KEY: i64 = 0x6373_7072;

#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    #[error("another cspr is running on this database (lock {0})")]
    Busy(String),
    #[error("cannot take the instance lock {path}: {cause}")]
    Lock { path: String, cause: std::io::Error },
    #[error("cannot reach PostgreSQL for the leader lock: {0}")]
    Postgres(sqlx::Error),
    #[error("stopped while standing by")]
    Stopped,
}

/// Proof that this instance is the active one.
pub enum Leadership {
    File(#[allow(dead_code)] File),
    /// The lock's connection, and the epoch this instance took the lead at.
    Postgres(Mutex<PgConnection>, i64),
}

impl Leadership {
    /// Takes the lock for the database at `url`; on PostgreSQL, waits as a standby until
    /// it can (reporting `STATUS=standby`), or until `shutdown`.
    pub async fn acquire(url: &str, shutdown: &mut watch::Receiver<bool>) -> Result<Self, LeaderError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = format!("{}.lock", path.split('?').next().unwrap_or(path));
            let lock_error = |source| LeaderError::Lock { path: path.clone(), cause: source };
            let file =
                std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(lock_error)?;
            return match file.try_lock() {
                Ok(()) => Ok(Leadership::File(file)),
                Err(std::fs::TryLockError::WouldBlock) => Err(LeaderError::Busy(path)),
                Err(std::fs::TryLockError::Error(e)) => Err(lock_error(e)),
            };
        }
        let mut told = false;
        loop {
            match PgConnection::connect(url).await {
                Ok(mut conn) => {
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                        .bind(KEY)
                        .fetch_one(&mut conn)
                        .await
                        .map_err(LeaderError::Postgres)?;
                    if got {
                        // A new epoch fences off every instance that led before: their
                        // writes check it as they commit (store::commit_write).
                        let epoch: i64 = sqlx::query_scalar(
                            "UPDATE leader_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch",
                        )
                        .fetch_one(&mut conn)
                        .await
                        .map_err(LeaderError::Postgres)?;
                        tracing::info!(epoch, "this instance is the leader");
                        return Ok(Leadership::Postgres(Mutex::new(conn), epoch));
                    }
                    let _ = conn.close().await;
                }
                Err(error) => tracing::warn!(%error, "cannot reach PostgreSQL for the leader lock"),
            }
            if !told {
                told = true;
                tracing::info!("another instance is the leader: standing by");
                crate::notify::notify("READY=1\nSTATUS=standby");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return Err(LeaderError::Stopped);
            }
        }
    }

    /// Whether an instance holds the lock for the database at `url` now (`None`: it
    /// never ran here), looked at without keeping it: for `cspr status`.
    pub async fn held(url: &str) -> Result<Option<bool>, LeaderError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = format!("{}.lock", path.split('?').next().unwrap_or(path));
            let Ok(file) = std::fs::OpenOptions::new().write(true).open(&path) else { return Ok(None) };
            return match file.try_lock() {
                Ok(()) => Ok(Some(false)),
                Err(std::fs::TryLockError::WouldBlock) => Ok(Some(true)),
                Err(std::fs::TryLockError::Error(cause)) => Err(LeaderError::Lock { path, cause }),
            };
        }
        let mut conn = PgConnection::connect(url).await.map_err(LeaderError::Postgres)?;
        let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(KEY)
            .fetch_one(&mut conn)
            .await
            .map_err(LeaderError::Postgres)?;
        if free {
            let _: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                .bind(KEY)
                .fetch_one(&mut conn)
                .await
                .map_err(LeaderError::Postgres)?;
        }
        let _ = conn.close().await;
        Ok(Some(!free))
    }

    /// The fencing epoch this instance leads at (PostgreSQL only).
    pub fn epoch(&self) -> Option<i64> {
        match self {
            Leadership::File(_) => None,
            Leadership::Postgres(_, epoch) => Some(*epoch),
        }
    }

    /// Whether this instance still holds the lock.
    pub async fn still_leader(&self) -> bool {
        match self {
            Leadership::File(_) => true,
            Leadership::Postgres(conn, _) => {
                let mut conn = conn.lock().await;
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted AND objid = $1)",
                )
                .bind(KEY)
                .fetch_one(&mut *conn)
                .await
                .unwrap_or(false)
            }
        }
    }
}
