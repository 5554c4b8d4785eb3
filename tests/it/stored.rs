//! A database written by an earlier release opens, and every case, list and triage
//! item in it reads back as that release showed them. The fixture is that release's
//! database (message texts removed) as SQL, and what its `cspr case/cases/triage
//! --json` printed.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stored").join(name)
}

/// The earlier release's database, loaded into a new SQLite file.
async fn earlier_database(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("earlier.db").display());
    let dump = std::fs::read_to_string(fixture("cspr-0.1.sql")).expect("the dump");
    let options: sqlx::sqlite::SqliteConnectOptions =
        url.parse::<sqlx::sqlite::SqliteConnectOptions>().expect("url").create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("a new database");
    sqlx::raw_sql(&dump).execute(&pool).await.expect("the dump loads");
    pool.close().await;
    url
}

fn cspr_json(url: &str, args: &[&str]) -> Value {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cspr.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_cspr"))
        .args(args)
        .arg("--json")
        .arg("--config")
        .arg(&config)
        .env("CSPR__STORE__URL", url)
        .output()
        .expect("cspr runs");
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// `status` in the case list is worked out from today's date, not read from the store.
fn without_status(mut list: Value) -> Value {
    for row in list.as_array_mut().expect("a list") {
        row.as_object_mut().expect("a row").remove("status");
    }
    list
}

#[tokio::test]
async fn a_database_written_by_the_earlier_release_opens_and_its_cases_read_back_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = earlier_database(dir.path()).await;
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("cspr-0.1.expected.json")).expect("expected"))
            .expect("JSON");
    let expected = expected.as_object().expect("an object");

    let cases = cspr_json(&url, &["cases"]);
    assert_eq!(without_status(cases.clone()), without_status(expected["cases"].clone()));
    assert_eq!(cspr_json(&url, &["triage"]), expected["triage"]);
    let references: Vec<&str> = cases.as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap()).collect();
    assert_eq!(references.len(), 14, "every case of the earlier database is listed");
    for reference in references {
        assert_eq!(cspr_json(&url, &["case", reference]), expected[reference], "{reference}");
    }
}
