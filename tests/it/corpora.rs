//! Real-world corpora from other projects, read in place from `../shared/corpora/`
//! (skipped with a notice when absent): forward detection scores, replies not taken for
//! forwards, and every message through the whole pipeline without a panic or a hang.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cspr::config::Config;
use cspr::understand::{forwarded_in_text, understand};
use serde_json::Value;

fn corpora() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("notice: ../shared/corpora is absent; corpus tests skipped");
        None
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn inline_forwards_are_found_with_the_exact_original_sender_and_subject() {
    let Some(root) = corpora() else { return };
    let base = root.join("email-forward-parser");
    let expected = json(&base.join("expected.json"));
    let (mut positives, mut exact, mut false_positives, mut negatives) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for case in expected["cases"].as_array().unwrap() {
        let Some(body_file) = case["body_file"].as_str() else { continue };
        let body = String::from_utf8_lossy(&std::fs::read(base.join(body_file)).unwrap()).into_owned();
        let subject = case["subject_file"].as_str().map(|f| std::fs::read_to_string(base.join(f)).unwrap());
        let found = forwarded_in_text(&body, subject.as_deref().map(str::trim));
        let want = &case["expected"];
        if want["forwarded"] == Value::Bool(true) {
            positives += 1;
            let ok = found.as_ref().is_some_and(|f| {
                f.from.address.as_deref() == want["email.from"]["address"].as_str()
                    && f.subject.as_deref() == want["email.subject"].as_str()
            });
            if ok {
                exact += 1;
            } else {
                misses.push(case["id"].as_str().unwrap_or("?").to_owned());
            }
        } else {
            negatives += 1;
            if found.is_some() {
                false_positives += 1;
            }
        }
    }
    let score = f64::from(exact) / f64::from(positives.max(1));
    println!(
        "forward detection: {exact}/{positives} exact ({:.1}%), {false_positives}/{negatives} negatives taken for forwards; missed: {misses:?}",
        score * 100.0
    );
    assert!(positives > 0, "no case ran");
    assert!(score >= 0.95, "forward detection {:.1}% is below 95%: missed {misses:?}", score * 100.0);
}

#[test]
fn no_talon_reply_is_taken_for_a_forward() {
    let Some(root) = corpora() else { return };
    let base = root.join("talon");
    let config = Config::defaults();
    let expected = json(&base.join("expected.json"));
    let mut ran = 0;
    let mut taken = Vec::new();
    for case in expected["cases"].as_array().unwrap() {
        let Some(file) = case["input_file"].as_str() else { continue };
        let raw = std::fs::read(base.join(file)).unwrap();
        let forwarded = if file.ends_with(".eml") {
            understand(&raw, &config.understanding()).forwarded.is_some()
        } else {
            let text = String::from_utf8_lossy(&raw);
            forwarded_in_text(&text, Some("Re: reply")).is_some()
        };
        ran += 1;
        if forwarded {
            taken.push(file.to_owned());
        }
    }
    println!("talon: {} of {ran} replies taken for forwards", taken.len());
    assert!(ran > 0, "no case ran");
    assert!(taken.is_empty(), "replies taken for forwards: {taken:?}");
}

fn emls(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            emls(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml" || e == "msg" || e == "txt")
            && !path.to_string_lossy().contains("email-forward-parser")
        {
            out.push(path);
        }
    }
}

#[test]
fn every_corpus_message_goes_through_the_pipeline_without_panic_or_hang() {
    let Some(root) = corpora() else { return };
    let mut files = Vec::new();
    for folder in ["mail-parser", "mailparser", "MimeKit"] {
        emls(&root.join(folder), &mut files);
    }
    files.sort();
    let mut slowest = (Duration::ZERO, PathBuf::new());
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let (done, wait) = mpsc::channel();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            let config = Config::defaults();
            let result = std::panic::catch_unwind(|| understand(&raw, &config.understanding()).kind);
            let _ = done.send(result.is_ok());
        });
        match wait.recv_timeout(Duration::from_secs(10)) {
            Ok(true) => {}
            Ok(false) => panic!("{} panicked", file.display()),
            Err(_) => panic!("{} took over 10 s", file.display()),
        }
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, file.clone());
        }
    }
    println!("pipeline: {} corpus files, slowest {:?} ({})", files.len(), slowest.0, slowest.1.display());
    assert!(!files.is_empty(), "no corpus file ran");
}

#[test]
fn attached_originals_listed_by_mail_parser_are_found() {
    let Some(root) = corpora() else { return };
    let base = root.join("mail-parser");
    let index = json(&base.join("rfc822_index.json"));
    let config = Config::defaults();
    let (mut checked, mut found) = (0, 0);
    let mut missing = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in index["entries"].as_array().unwrap() {
        let file = entry["file"].as_str().unwrap();
        if entry["part_path"].as_array().map(Vec::len) != Some(1) || !seen.insert(file.to_owned()) {
            continue;
        }
        let raw = std::fs::read(base.join(file)).unwrap();
        let understood = understand(&raw, &config.understanding());
        checked += 1;
        let ok = understood
            .forwarded
            .as_ref()
            .is_some_and(|f| entry["inner_subject"].as_str().is_none_or(|s| f.subject.as_deref() == Some(s)));
        if ok {
            found += 1;
        } else {
            missing.push(file.to_owned());
        }
    }
    println!("attached originals: {found}/{checked} found");
    assert!(checked > 0, "no indexed file ran");
    assert!(missing.is_empty(), "attached originals not found: {missing:?}");
}
