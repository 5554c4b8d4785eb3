//! Any bytes through parse → extract → classify → match → decide, as a new message and
//! as a reply to an open case: no panic, no hang. Attached documents are recognised but
//! not read (the `documents` target reads them), so that thousands of inputs a second
//! go through. Each input is understood twice: without a limit, and within a budget
//! spent after a number of checks taken from the input, so that stopping part-way is
//! exercised too.

#![no_main]

use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};
use cspr::config::Config;
use cspr::domain::case::{CaseRef, CaseState};
use cspr::protocol::{Context, Incoming, Lookups, Target, decide, match_message};
use cspr::understand::documents::{DocKind, Limits, Reader, Unread};
use cspr::understand::{Budget, to_json, understand_within};
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(Config::defaults);

/// Recognises documents and reads none.
struct Unopened;

impl Reader for Unopened {
    fn run(&self, kind: DocKind, _: &[u8], _: &Limits) -> Result<String, Unread> {
        Err(Unread::Unreadable(format!("{} not opened while fuzzing", kind.name())))
    }
}

fn understand(raw: &[u8], budget: &Budget) -> Option<cspr::domain::message::Understood> {
    understand_within(raw, &CONFIG.understanding(), budget, &Unopened).ok()
}

/// An open case made the ordinary way, from a notification.
static CASE: LazyLock<Option<CaseState>> = LazyLock::new(|| {
    let raw = include_bytes!("../../tests/fixtures/inspect/outlook_inline_forward.eml");
    let understood = understand(raw, &Budget::unlimited())?;
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).single()?;
    let incoming = Incoming { stored_id: 1, understood: &understood, arrived_at: now, cause: None };
    let ctx = Context { now, rules: CONFIG.protocol_rules(), released_by: Some("fuzz".into()) };
    decide(Target::New(CaseRef::parse("CHSCP-2026-001").ok()?), &incoming, &ctx).case
});

/// libFuzzer's panic hook aborts on every panic, caught or not. `understand` catches the
/// MIME parser's own panics on purpose (it has some): with a quiet hook those count as
/// handled, while a panic that escapes the target still fails the run.
static QUIET_HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET_HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Some(understood) = understand(data, &Budget::unlimited()) else { return };
    let _ = to_json(&understood);
    let checks = AtomicUsize::new(0);
    let allowed = usize::from(data.first().copied().unwrap_or(0) % 16);
    let spent = || checks.fetch_add(1, Ordering::Relaxed) >= allowed;
    let _ = understand(data, &Budget::new(&spent));
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).single().expect("a time");
    let incoming = Incoming { stored_id: 2, understood: &understood, arrived_at: now, cause: None };
    let ctx = Context { now, rules: CONFIG.protocol_rules(), released_by: None };
    // Matched as if its references found the open case, and as if they found nothing.
    let case = CASE.as_ref();
    let found = Lookups { by_tag: case.map(|c| c.reference.clone()).into_iter().collect(), ..Lookups::default() };
    let _ = match_message(&understood, &found);
    let _ = match_message(&understood, &Lookups::default());
    if let Ok(reference) = CaseRef::parse("CHSCP-2026-002") {
        let _ = decide(Target::New(reference), &incoming, &ctx);
    }
    let _ = decide(Target::None, &incoming, &ctx);
    if let Some(case) = case {
        let _ = decide(Target::Existing(Box::new(case.clone())), &incoming, &ctx);
    }
});
