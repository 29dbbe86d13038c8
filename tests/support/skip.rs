//! Tests that need something a plain clone cannot have (a Docker engine, the
//! real-mail corpus) report themselves as skipped instead of passing quietly.
//!
//! When the requirement is missing, [`skip_unavailable`] prints the test's
//! name and the reason on stderr and appends them to the file named by
//! `CPR_MILTER_SKIP_LOG` (the test script lists that file in its summary).
//! Under CI (`CI` set and not empty) a missing requirement is a failure.

use std::io::Write;

/// Reports `test` as skipped because of `reason`, or panics under CI.
/// The caller returns right after.
pub fn skip_unavailable(test: &str, reason: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test}: required under CI but unavailable: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("CPR_MILTER_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{test}: {reason}");
        }
    }
}
