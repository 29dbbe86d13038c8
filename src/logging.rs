//! Log output: syslog (facility from the config) or stderr for foreground
//! use and tests. Audit lines and operational messages share the logger so
//! they interleave in the order they happened.

use cpr_milter_core::config::LogDestination;
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::str::FromStr;

struct StderrLogger {
    pid: u32,
}

impl Log for StderrLogger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= Level::Info
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata())
            || !r.target().starts_with("cpr_milter") && r.target() != "audit"
        {
            return;
        }
        let level = match r.level() {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            _ => "",
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "cpr-milter[{}]: {level}{}", self.pid, r.args());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the process-wide logger. Falls back to stderr (and says so) when
/// no syslog socket is available, so nothing is lost silently.
pub fn init(dest: LogDestination, facility: &str, socket: Option<&std::path::Path>) {
    let pid = std::process::id();
    let fallback = |why: String| {
        let _ = log::set_boxed_logger(Box::new(StderrLogger { pid }));
        log::set_max_level(LevelFilter::Info);
        if !why.is_empty() {
            log::warn!("syslog unavailable ({why}); logging to stderr");
        }
    };
    match dest {
        LogDestination::Stderr => fallback(String::new()),
        LogDestination::Syslog => {
            let facility =
                syslog::Facility::from_str(facility).unwrap_or(syslog::Facility::LOG_MAIL);
            let formatter = syslog::Formatter3164 {
                facility,
                hostname: None,
                process: "cpr-milter".into(),
                pid,
            };
            // Holds lines while syslog is away and delivers them when it is back.
            match crate::syslog_sink::SyslogSink::open(formatter, socket) {
                Ok(logger) => {
                    let _ = log::set_boxed_logger(Box::new(logger));
                    log::set_max_level(LevelFilter::Info);
                }
                Err(e) => fallback(e.to_string()),
            }
        }
    }
}
