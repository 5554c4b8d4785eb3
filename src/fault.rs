//! Fault points for crash tests: when `CSPR_FAULT_AT` names a point, the process
//! aborts there (no unwinding, no clean-up), as a power cut or SIGKILL would; faults in
//! processing one message are named with its stored id (`panic:ID`, `slow:ID`).

/// Stops the process (SIGSTOP, as a long GC pause, a frozen VM or a debugger would) if
/// `CSPR_PAUSE_AT` equals `name`; it goes on when sent SIGCONT.
pub fn pause(name: &str) {
    if std::env::var("CSPR_PAUSE_AT").is_ok_and(|at| at == name) {
        let _ = std::process::Command::new("kill").args(["-STOP", &std::process::id().to_string()]).status();
    }
}

/// `CSPR_FAULT_AT` names `name` (it holds one name or several, comma-separated).
fn named(name: &str) -> bool {
    std::env::var("CSPR_FAULT_AT").is_ok_and(|at| at.split(',').any(|n| n.trim() == name))
}

/// Aborts the process if `CSPR_FAULT_AT` names `name`.
pub fn point(name: &str) {
    if named(name) {
        std::process::abort();
    }
}

/// Whether `CSPR_FAULT_AT` names `fault` for the stored message `id` (`panic:17`,
/// `slow:18`): faults are injected by stored id, never by what a message says.
pub fn at_message(fault: &str, id: i64) -> bool {
    named(&format!("{fault}:{id}"))
}
