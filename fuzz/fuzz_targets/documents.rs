//! Any bytes as an attached PDF, Word document and Outlook message, through the readers
//! within the daemon's limits: a reason or text, never a panic that escapes, never a hang.

#![no_main]

use cspr::understand::documents::{DocKind, Limits, read};
use libfuzzer_sys::fuzz_target;

static QUIET_HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // The readers' own panics are caught and become reasons; keep them quiet.
    QUIET_HOOK.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let limits = Limits::default();
    let kind = match data.first().map(|b| b % 3) {
        Some(0) => DocKind::Pdf,
        Some(1) => DocKind::Docx,
        _ => DocKind::Msg,
    };
    let _ = read(kind, data.get(1..).unwrap_or_default(), &limits);
});
