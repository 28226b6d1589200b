//! Clean interruption, as in cargo-nextest: the first SIGINT or SIGTERM
//! stops starting cases and the steps after the running ones (which finish,
//! bounded by `--timeout`); every started case still runs its cleanup, and
//! the reports are written marked interrupted. A second signal exits at
//! once. Signals are process-wide, so the state is one static.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// SIGINT's number (Ctrl-C).
pub const SIGINT: i32 = 2;
/// SIGTERM's number (`kill`, CI cancellation).
pub const SIGTERM: i32 = 15;

/// The signal that interrupted the run, if one did.
pub fn signal() -> Option<i32> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    }
}

/// Whether a signal asked the run to stop.
pub fn requested() -> bool {
    signal().is_some()
}

/// `SIGINT` or `SIGTERM`, for messages.
pub fn name(signal: i32) -> &'static str {
    if signal == SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// The shell's exit code for a run stopped by `signal`: 128 + its number
/// (130 for SIGINT, 143 for SIGTERM).
pub fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(130)
}

/// Records a signal; the second one ends the process at once.
fn received(signal: i32) {
    if SIGNAL
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        eprintln!("{}: second signal, exiting now", name(signal));
        std::process::exit(i32::from(exit_code(signal)));
    }
    eprintln!(
        "{}: stopping: no new cases; running steps finish (bounded by --timeout), then cleanup and reports. Send it again to exit at once.",
        name(signal)
    );
}

/// Starts listening for SIGINT and SIGTERM on `runtime` (call before the
/// run). Where the listeners cannot be set up, signals keep their default
/// effect.
pub fn install(runtime: &tokio::runtime::Runtime) {
    let _enter = runtime.enter();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, number) in [
            (SignalKind::interrupt(), SIGINT),
            (SignalKind::terminate(), SIGTERM),
        ] {
            let Ok(mut stream) = signal(kind) else {
                continue;
            };
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    received(number);
                }
            });
        }
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                received(SIGINT);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(exit_code(SIGINT), 130);
        assert_eq!(exit_code(SIGTERM), 143);
        assert_eq!(name(SIGTERM), "SIGTERM");
        assert_eq!(name(SIGINT), "SIGINT");
    }
}
