//! The databases the store's contract runs against: a fresh SQLite file, and a fresh
//! PostgreSQL database on the server `CSPR_TEST_DATABASE_URL` names (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; `scripts/test` makes sure one answers).

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// A database for one test, dropped (best effort) when the value goes.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

fn admin_url() -> String {
    std::env::var("CSPR_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The SQLite database at `url`, kept by whoever owns its folder.
pub fn at(url: &str) -> TestDb {
    TestDb { name: "sqlite", url: url.to_owned(), _dir: None }
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cspr.db").display());
    TestDb { name: "sqlite", url, _dir: Some(dir) }
}

pub async fn postgres() -> TestDb {
    let admin = admin_url();
    let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin} answers: {e}"));
    let db = format!("cspr_test_{}_{}", std::process::id(), fastrand::u32(..));
    sqlx::query(&format!("CREATE DATABASE {db}")).execute(&mut conn).await.unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin.clone());
    TestDb { name: "postgres", url: format!("{base}/{db}"), _dir: None }
}

/// Both engines, for contract tests.
pub async fn both() -> Vec<TestDb> {
    vec![sqlite(), postgres().await]
}
