//! Fault points for crash tests: when `CSPR_FAULT_AT` names a point, the process
//! aborts there (no unwinding, no clean-up), as a power cut or SIGKILL would.

/// Stops the process (SIGSTOP, as a long GC pause, a frozen VM or a debugger would) if
/// `CSPR_PAUSE_AT` equals `name`; it goes on when sent SIGCONT.
pub fn pause(name: &str) {
    if std::env::var("CSPR_PAUSE_AT").is_ok_and(|at| at == name) {
        let _ = std::process::Command::new("kill").args(["-STOP", &std::process::id().to_string()]).status();
    }
}

/// Aborts the process if `CSPR_FAULT_AT` equals `name`.
pub fn point(name: &str) {
    if std::env::var("CSPR_FAULT_AT").is_ok_and(|at| at == name) {
        std::process::abort();
    }
}
