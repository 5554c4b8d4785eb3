//! Golden tests: every `.eml` under `tests/fixtures/inspect/` through `cspr inspect
//! --json`, compared with its hand-written `.json`, in LF and in CRLF. A mismatch
//! writes `NAME.failed` beside the fixture with what was printed.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{cspr, stderr, stdout};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect")
}

/// Compares the keys the expected file names; `problems` entries are substrings of
/// what was reported, and their count must match.
fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(expected) = expected.as_object() else { return vec!["expected file is not an object".into()] };
    for (key, want) in expected {
        let got = actual.get(key).unwrap_or(&Value::Null);
        if key == "problems" {
            let want: Vec<&str> =
                want.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let got: Vec<&str> =
                got.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let all_found = want.iter().all(|w| got.iter().any(|g| g.contains(w)));
            if want.len() != got.len() || !all_found {
                out.push(format!("problems: expected {want:?}, got {got:?}"));
            }
            continue;
        }
        match (want, got) {
            (Value::Object(w), Value::Object(_)) => {
                for (inner, inner_want) in w {
                    let inner_got = got.get(inner).unwrap_or(&Value::Null);
                    if inner_want != inner_got {
                        out.push(format!("{key}.{inner}: expected {inner_want}, got {inner_got}"));
                    }
                }
            }
            _ if want != got => out.push(format!("{key}: expected {want}, got {got}")),
            _ => {}
        }
    }
    out
}

/// Runs every `.eml` in `dir` through `cspr inspect --json` with `dir/cspr.toml`, in LF
/// and CRLF: (runs, mismatches).
fn goldens(dir: &Path) -> (usize, Vec<String>) {
    let config = dir.join("cspr.toml").display().to_string();
    let scratch = tempfile::tempdir().unwrap();
    let mut ran = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().filter_map(|e| Some(e.ok()?.path())).collect();
    entries.sort();
    for eml in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "eml")) {
        let expected_path = eml.with_extension("json");
        let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        let lf = std::fs::read(eml).unwrap();
        let text = String::from_utf8_lossy(&lf).replace("\r\n", "\n");
        let crlf_path = scratch.path().join(eml.file_name().unwrap());
        std::fs::write(&crlf_path, text.replace('\n', "\r\n")).unwrap();
        for (label, path) in [("LF", eml.as_path()), ("CRLF", crlf_path.as_path())] {
            let file = path.display().to_string();
            let output = cspr(&["inspect", &file, "--config", &config, "--json"]);
            assert_eq!(output.status.code(), Some(0), "{file}: {}", stderr(&output));
            let actual: Value = serde_json::from_str(&stdout(&output)).unwrap();
            let diffs = differences(&expected, &actual);
            if !diffs.is_empty() {
                let name = eml.file_stem().unwrap().to_string_lossy();
                std::fs::write(eml.with_extension("failed"), stdout(&output)).unwrap();
                failures.push(format!("{name} ({label}):\n  {}", diffs.join("\n  ")));
            }
            ran += 1;
        }
    }
    (ran, failures)
}

#[test]
fn every_fixture_is_understood_as_worked_out_by_hand() {
    let (ran, failures) = goldens(&fixtures());
    assert!(ran > 0, "no fixture ran");
    println!("{ran} fixture runs");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_sender_is_judged_as_worked_out_by_hand_on_each_receiving_platform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/trust");
    let mut ran = 0;
    let mut failures = Vec::new();
    for platform in ["authserv_id", "google", "microsoft365"] {
        let (n, mut f) = goldens(&root.join(platform));
        assert!(n > 0, "{platform}: no fixture ran");
        ran += n;
        failures.append(&mut f);
    }
    assert!(ran >= 2 * 20, "at least 20 trust fixtures: {ran} runs");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn an_unreadable_file_is_exit_code_2() {
    let output = cspr(&["inspect", "/nonexistent/message.eml", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn every_field_says_where_it_was_read() {
    let set = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/understanding");
    let config = set.join("cspr.toml").display().to_string();
    let file = set.join("la-camden-nextline-01.eml").display().to_string();
    let output = cspr(&["inspect", &file, "--config", &config, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let actual: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let sources = &actual["field_sources"];
    assert_eq!(sources["notified_date"], "label 'Submitted to the Panel on'", "{sources}");
    assert_eq!(sources["panel_reference"], "label 'Panel ref'");
    assert_eq!(sources["local_authority"], "the sender's domain (camden.gov.uk)");
    let file = set.join("la-newham-prose-01.eml").display().to_string();
    let actual: Value =
        serde_json::from_str(&stdout(&cspr(&["inspect", &file, "--config", &config, "--json"]))).unwrap();
    assert_eq!(actual["field_sources"]["aware_date"], "a sentence of the letter");
    assert_eq!(actual["field_sources"]["incident_type"], "the subject");
}
