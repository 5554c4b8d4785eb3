//! Fault points for crash tests: when `CSPR_FAULT_AT` names a point, the process
//! aborts there (no unwinding, no clean-up), as a power cut or SIGKILL would.

/// Aborts the process if `CSPR_FAULT_AT` equals `name`.
pub fn point(name: &str) {
    if std::env::var("CSPR_FAULT_AT").is_ok_and(|at| at == name) {
        std::process::abort();
    }
}
