//! A test-only hook that kills the process at a chosen step of a transaction, so tests can
//! check that every interruption is recovered.
//!
//! Debug builds read `TAIPAN_TEST_CRASH_AT=N`: the N-th call of [`hit`] sends SIGKILL to the
//! process itself (no destructor, no signal handler runs, as with `kill -9` or a power cut).
//! `TAIPAN_TEST_CRASH_LOG=FILE` appends the name of every step passed, so a test can see which
//! step it interrupted. `TAIPAN_TEST_PAUSE=STEP:MS` makes [`pause`] at `STEP` sleep that long
//! (`STEP DETAIL:MS`: only for that detail, e.g. one cache entry), so a test can line
//! processes up at one point. Release builds compile both to nothing.

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

/// How long a test wants the process held at this point (zero unless asked); see the
/// module documentation. `TAIPAN_TEST_PAUSE` is a comma-separated list of `STEP:MS` or
/// `STEP DETAIL:MS`. The caller sleeps (asynchronously, so other work of the process goes on).
#[cfg(debug_assertions)]
pub fn pause(step: &str, detail: &str) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    let Ok(value) = std::env::var("TAIPAN_TEST_PAUSE") else {
        return total;
    };
    for item in value.split(',') {
        let Some((name, ms)) = item.rsplit_once(':') else {
            continue;
        };
        let matches = match name.split_once(' ') {
            Some((s, d)) => s == step && d == detail,
            None => name == step,
        };
        if let (true, Ok(ms)) = (matches, ms.parse()) {
            total += std::time::Duration::from_millis(ms);
        }
    }
    total
}

/// A point where a test may hold the process (always zero in release builds).
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn pause(_step: &str, _detail: &str) -> std::time::Duration {
    std::time::Duration::ZERO
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
