//! Hostile input through the whole understanding pipeline: each handled in bounded time
//! without a panic, and structural abuse reported so that it goes to triage.

use std::sync::mpsc;
use std::time::Duration;

use cspr::config::Config;
use cspr::domain::message::Kind;
use cspr::understand::understand;

fn headers(extra: &str) -> String {
    format!(
        "From: someone@hackney.gov.uk\r\nTo: chscp@hackney.gov.uk\r\nSubject: hostile\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\nMessage-ID: <h@x.test>\r\n{extra}"
    )
}

fn nested(depth: usize) -> Vec<u8> {
    let mut text = headers("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
    for level in 0..depth {
        text.push_str(&format!("--b{level}\r\nContent-Type: multipart/mixed; boundary=\"b{}\"\r\n\r\n", level + 1));
    }
    text.push_str(&format!("--b{depth}\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n"));
    for level in (0..=depth).rev() {
        text.push_str(&format!("--b{level}--\r\n"));
    }
    text.into_bytes()
}

fn many_parts(parts: usize) -> Vec<u8> {
    let mut text = headers("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n");
    for n in 0..parts {
        text.push_str(&format!("--p\r\nContent-Type: text/plain\r\n\r\npart {n}\r\n"));
    }
    text.push_str("--p--\r\n");
    text.into_bytes()
}

fn run(raw: Vec<u8>) -> cspr::domain::message::Understood {
    let (done, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(understand(&raw, &Config::defaults().understanding()));
    });
    wait.recv_timeout(Duration::from_secs(10)).expect("understood within 10 s without panicking")
}

#[test]
fn deeply_nested_parts_are_reported_and_never_acted_on() {
    let understood = run(nested(500));
    assert_eq!(understood.kind, Kind::Unknown);
    assert!(understood.problems.iter().any(|p| p.contains("nest")), "{:?}", understood.problems);
}

#[test]
fn a_thousand_parts_are_reported_and_never_acted_on() {
    let understood = run(many_parts(1000));
    assert_eq!(understood.kind, Kind::Unknown);
    assert!(understood.problems.iter().any(|p| p.contains("parts")), "{:?}", understood.problems);
}

#[test]
fn an_oversized_message_is_refused_with_its_size() {
    let mut raw = headers("\r\n").into_bytes();
    raw.resize(26 * 1024 * 1024, b'a');
    let understood = run(raw);
    assert_eq!(understood.kind, Kind::Unknown);
    assert!(understood.problems.iter().any(|p| p.contains("over the limit")));
}

#[test]
fn huge_headers_nul_bytes_and_bad_charsets_pass_without_panic() {
    let huge = headers(&format!("X-Long: {}\r\n\r\nbody\r\n", "x".repeat(1024 * 1024)));
    run(huge.into_bytes());
    let mut nul = headers("\r\n").into_bytes();
    nul.extend_from_slice(b"Local authority: \0Hackney\0\r\n\0\0\0");
    run(nul);
    let charset = headers(
        "Content-Type: text/plain; charset=\"x-no-such-charset\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
    );
    run(charset.into_bytes());
    run(Vec::new());
    run(b"\xff\xfe\xfd".to_vec());
}

#[test]
fn a_fifty_megabyte_message_is_refused_with_its_size() {
    let mut raw = headers("\r\n").into_bytes();
    raw.resize(50 * 1024 * 1024, b'a');
    let understood = run(raw);
    assert_eq!(understood.kind, Kind::Unknown);
    assert!(
        understood.problems.iter().any(|p| p.contains("52428800 bytes, over the limit")),
        "{:?}",
        understood.problems
    );
}

/// The whole hostile set through storing, processing and committing, on both engines:
/// each message is processed (held for triage, never acted on) and nothing panics.
#[tokio::test(flavor = "multi_thread")]
async fn the_hostile_set_is_stored_processed_and_held_for_triage() {
    use crate::databases::both;
    use crate::scenarios::World;
    let mut fifty = headers("\r\n");
    fifty.push_str(&"a".repeat(50 * 1024 * 1024));
    let set: Vec<(&str, String)> = vec![
        ("50 MB", fifty),
        ("1,000 parts", String::from_utf8(many_parts(1000)).unwrap()),
        ("500 levels", String::from_utf8(nested(500)).unwrap()),
        ("1 MB header", headers(&format!("X-Long: {}\r\n\r\nbody\r\n", "x".repeat(1024 * 1024)))),
        (
            "bad charset",
            headers(
                "Content-Type: text/plain; charset=\"x-no-such-charset\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!\r\n",
            ),
        ),
        ("NUL bytes", headers("\r\nLocal authority: \0Hackney\0\r\n\0\0\0")),
    ];
    for db in both().await {
        let mut w = World::new(db).await;
        for (name, raw) in &set {
            let raw = raw.replace("<h@x.test>", &format!("<{}@x.test>", name.replace(' ', "-")));
            w.deliver(raw, "2026-11-26T10:00:00Z").await;
        }
        assert!(w.store.cases(false).await.unwrap().is_empty(), "{}: no case opened", w.db.name);
        assert_eq!(w.store.triage(true).await.unwrap().len(), set.len(), "{}: every one held for a person", w.db.name);
    }
}

/// Found by fuzzing: a nested multipart that makes the MIME parser panic.
#[test]
fn a_message_that_breaks_the_mime_parser_is_a_problem_not_a_crash() {
    let raw = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile/mail_parser_panic.eml"),
    )
    .unwrap();
    let understood = run(raw);
    assert_eq!(understood.kind, Kind::Unknown);
    assert_eq!(understood.problems, vec!["cannot parse the message (its MIME structure broke the parser)".to_owned()]);
}
