//! A test-only hook that kills the process at a chosen step of a transaction, so tests can
//! check that every interruption is recovered.
//!
//! Debug builds read `TAIPAN_TEST_CRASH_AT=N`: the N-th call of [`hit`] sends SIGKILL to the
//! process itself (no destructor, no signal handler runs, as with `kill -9` or a power cut).
//! `TAIPAN_TEST_CRASH_LOG=FILE` appends the name of every step passed, so a test can see which
//! step it interrupted. Release builds compile [`hit`] to nothing.

#[cfg(debug_assertions)]
mod enabled {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::OnceLock;

    static COUNT: AtomicU64 = AtomicU64::new(0);

    fn target() -> Option<u64> {
        static TARGET: OnceLock<Option<u64>> = OnceLock::new();
        *TARGET.get_or_init(|| {
            std::env::var("TAIPAN_TEST_CRASH_AT")
                .ok()
                .and_then(|v| v.parse().ok())
        })
    }

    pub fn hit(step: &str) {
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(log) = std::env::var_os("TAIPAN_TEST_CRASH_LOG") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = writeln!(f, "{n} {step}");
            }
        }
        if target() == Some(n) {
            // SAFETY: kill(2) on our own pid with a constant signal.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// A step of a transaction passed; see the module documentation.
#[cfg(debug_assertions)]
pub fn hit(step: &str) {
    enabled::hit(step);
}

/// A step of a transaction passed (no-op in release builds).
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn hit(_step: &str) {}
