//! systemd's notification protocol: `READY=1`, `WATCHDOG=1`, `STOPPING=1` and `STATUS=`
//! as datagrams to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
//! Without the variable, nothing is sent.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (e.g. `READY=1`) to systemd, if it is listening.
pub fn notify(state: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let Ok(sender) = UnixDatagram::unbound() else { return };
    let path = socket.to_string_lossy().into_owned();
    let result = if let Some(name) = path.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
            .and_then(|addr| sender.send_to_addr(state.as_bytes(), &addr))
    } else {
        sender.send_to(state.as_bytes(), &path)
    };
    if let Err(error) = result {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

/// How often systemd expects `WATCHDOG=1` (half its `WatchdogSec`), if it does.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}
