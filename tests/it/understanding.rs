//! The understanding evaluation set (`tests/fixtures/understanding/`): messages written
//! the way authorities, agencies, the Panel and staff write, each with a careful
//! person's answer. Every field and kind is scored, in LF and in CRLF, and the score is
//! printed as `understanding: N/M fields, K/L kinds`. The floor below only rises: it is
//! what understanding reaches today, and the goal is 98% of fields and every kind.

use std::path::{Path, PathBuf};

use cspr::config::{Sources, load};
use cspr::understand::{to_json, understand};
use serde_json::Value;

/// Fields scored right at least (per cent), and kinds.
const FIELDS_AT_LEAST: f64 = 99.0;
const KINDS_AT_LEAST: f64 = 100.0;

fn set() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/understanding")
}

/// Our answer for one key of the expected file, from `inspect --json`'s shape.
fn answer(actual: &Value, key: &str) -> Value {
    match key {
        "panel_outcome" => actual["panel_response"]["outcome"].clone(),
        "external_refs" | "case_refs" => {
            let mut refs: Vec<String> = actual[key]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            refs.sort();
            refs.dedup();
            Value::from(refs)
        }
        other => actual[other].clone(),
    }
}

/// (fields right, fields, kind right, misreadings) for one message.
fn score(expected: &Value, actual: &Value, name: &str) -> (usize, usize, bool, Vec<String>) {
    let mut right = 0;
    let mut total = 0;
    let mut misread = Vec::new();
    let mut compare = |label: String, want: &Value, got: &Value| {
        total += 1;
        if want == got {
            right += 1;
        } else {
            misread.push(format!("{name}: {label}: expected {want}, got {got}"));
        }
    };
    for (key, want) in expected.as_object().into_iter().flatten() {
        match key.as_str() {
            "kind" => {}
            "notification" => {
                for (field, want) in want.as_object().into_iter().flatten() {
                    let got = actual["notification"].get(field).cloned().unwrap_or(Value::Null);
                    compare(format!("notification.{field}"), want, &got);
                }
            }
            _ => compare(key.clone(), want, &answer(actual, key)),
        }
    }
    let kind_right = expected["kind"] == actual["kind"];
    if !kind_right {
        misread.push(format!("{name}: kind: expected {}, got {}", expected["kind"], actual["kind"]));
    }
    (right, total, kind_right, misread)
}

#[test]
fn the_evaluation_set_is_understood() {
    let dir = set();
    let sources = Sources { file: Some(dir.join("cspr.toml")), env: Vec::new(), credentials_dir: None };
    let config = load(&sources).expect("the set's configuration");
    let rules = config.understanding();
    let mut messages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the set")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    messages.sort();
    let (mut fields, mut fields_total, mut kinds, mut kinds_total) = (0, 0, 0, 0);
    let mut misread = Vec::new();
    for path in &messages {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expect.json")).expect("every message has its answer"),
        )
        .unwrap_or_else(|e| panic!("{name}.expect.json: {e}"));
        let lf = std::fs::read(path).expect("the message");
        let text = String::from_utf8_lossy(&lf).replace("\r\n", "\n");
        for (ending, raw) in [("LF", text.clone().into_bytes()), ("CRLF", text.replace('\n', "\r\n").into_bytes())] {
            let actual = to_json(&understand(&raw, &rules));
            let (right, total, kind_right, wrong) = score(&expected, &actual, &format!("{name} ({ending})"));
            fields += right;
            fields_total += total;
            kinds += usize::from(kind_right);
            kinds_total += 1;
            if ending == "LF" {
                misread.extend(wrong);
            }
        }
    }
    for line in &misread {
        println!("misread: {line}");
    }
    println!("understanding: {fields}/{fields_total} fields, {kinds}/{kinds_total} kinds");
    assert!(messages.len() >= 150, "the set has {} messages", messages.len());
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 };
    assert!(share(fields, fields_total) >= FIELDS_AT_LEAST, "fields {:.1}%", share(fields, fields_total));
    assert!(share(kinds, kinds_total) >= KINDS_AT_LEAST, "kinds {:.1}%", share(kinds, kinds_total));
}
