//! The daemon's own settings: where it listens, where it logs, the memory
//! for mail being received and the fingerprint key file. Read from the same
//! file as the policy (which has already checked that every key is known);
//! inspection never sees them.

use cpr_milter_core::config::{from_yaml, ConfigError};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;
use std::path::PathBuf;

/// Where the milter listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// `HOST:PORT` (IPv6 hosts in brackets).
    Inet(String),
    /// A unix socket's path.
    Unix(PathBuf),
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "inet:{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// Where log and audit lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogDestination {
    /// The syslog daemon.
    Syslog,
    /// Standard error (foreground use, tests).
    Stderr,
}

/// Memory for mail being received, all connections together, by default.
pub const DEFAULT_MAX_BUFFERED_BYTES: u64 = 1024 * 1024 * 1024;

/// The validated daemon settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSettings {
    pub listen: ListenAddr,
    pub log_destination: LogDestination,
    pub log_facility: String,
    /// The syslog daemon's socket; `None` looks in the usual places (/dev/log).
    pub log_syslog_socket: Option<PathBuf>,
    pub fingerprint_key_file: Option<PathBuf>,
    /// Bytes all transactions together may hold while mail arrives.
    pub max_buffered_bytes: u64,
    /// Where the metrics listener serves (Prometheus text); `None`: off.
    pub metrics_listen: Option<ListenAddr>,
}

const FACILITIES: &[&str] = &[
    "mail", "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

type S<T> = Spanned<T>;

/// The daemon's keys as written; the policy's are skipped here.
#[derive(Debug, Deserialize)]
struct RawDaemon {
    #[serde(default)]
    listen: Option<S<String>>,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    listen: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    destination: Option<S<String>>,
    facility: Option<S<String>>,
    syslog_socket: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    fingerprint_key_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RawLimits {
    max_buffered_bytes: Option<u64>,
}

/// Parses and validates the daemon's keys of a configuration file.
pub fn parse(text: &str, file: &str) -> Result<DaemonSettings, ConfigError> {
    let raw: RawDaemon = from_yaml(text, file)?;
    Ok(DaemonSettings {
        listen: listen(file, raw.listen.as_ref())?,
        log_destination: destination(file, raw.log.destination.as_ref())?,
        log_facility: facility(file, raw.log.facility.as_ref())?,
        log_syslog_socket: raw.log.syslog_socket.map(Into::into),
        fingerprint_key_file: raw.audit.fingerprint_key_file.map(Into::into),
        max_buffered_bytes: raw
            .limits
            .max_buffered_bytes
            .unwrap_or(DEFAULT_MAX_BUFFERED_BYTES),
        metrics_listen: metrics_listen(file, raw.metrics.listen.as_ref())?,
    })
}

fn metrics_listen(file: &str, raw: Option<&S<String>>) -> Result<Option<ListenAddr>, ConfigError> {
    let Some(l) = raw else { return Ok(None) };
    parse_listen(&l.value).map(Some).ok_or_else(|| {
        ConfigError::at(
            file,
            l,
            format!("invalid metrics listen address {:?}", l.value),
            "use inet:127.0.0.1:PORT or unix:/PATH",
        )
    })
}

fn listen(file: &str, raw: Option<&S<String>>) -> Result<ListenAddr, ConfigError> {
    let Some(l) = raw else {
        return Err(ConfigError {
            file: file.into(),
            line: 0,
            column: 0,
            message: "missing field `listen`".into(),
            hint: Some("`listen:` is required, e.g. listen: inet:127.0.0.1:8899".into()),
        });
    };
    parse_listen(&l.value).ok_or_else(|| {
        ConfigError::at(
            file,
            l,
            format!("invalid listen address {:?}", l.value),
            "use inet:HOST:PORT or unix:/PATH",
        )
    })
}

fn destination(file: &str, raw: Option<&S<String>>) -> Result<LogDestination, ConfigError> {
    match raw.map(|s| (s, s.value.as_str())) {
        None | Some((_, "syslog")) => Ok(LogDestination::Syslog),
        Some((_, "stderr")) => Ok(LogDestination::Stderr),
        Some((s, other)) => Err(ConfigError::at(
            file,
            s,
            format!("unknown log destination {other:?}"),
            "syslog or stderr",
        )),
    }
}

fn facility(file: &str, raw: Option<&S<String>>) -> Result<String, ConfigError> {
    match raw {
        None => Ok("mail".to_string()),
        Some(f) if FACILITIES.contains(&f.value.as_str()) => Ok(f.value.clone()),
        Some(f) => Err(ConfigError::at(
            file,
            f,
            format!("unknown syslog facility {:?}", f.value),
            "mail, daemon, user or local0..local7",
        )),
    }
}

/// `inet:HOST:PORT`, `inet:PORT@HOST` (Sendmail style), `inet6:[::1]:PORT` or `unix:/path`.
pub fn parse_listen(s: &str) -> Option<ListenAddr> {
    let s = s.trim();
    if let Some(path) = s.strip_prefix("unix:").or_else(|| s.strip_prefix("local:")) {
        return (!path.is_empty() && path.starts_with('/')).then(|| ListenAddr::Unix(path.into()));
    }
    let rest = s
        .strip_prefix("inet:")
        .or_else(|| s.strip_prefix("inet6:"))?;
    let addr = match rest.split_once('@') {
        Some((port, host)) if !host.contains(':') => format!("{host}:{port}"),
        Some((port, host)) => format!("[{host}]:{port}"),
        None => rest.to_string(),
    };
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    (!host.is_empty()).then_some(ListenAddr::Inet(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        assert_eq!(
            parse_listen("inet:127.0.0.1:8899"),
            Some(ListenAddr::Inet("127.0.0.1:8899".into()))
        );
        assert_eq!(
            parse_listen("inet:8899@127.0.0.1"),
            Some(ListenAddr::Inet("127.0.0.1:8899".into()))
        );
        assert_eq!(
            parse_listen("inet6:[::1]:8899"),
            Some(ListenAddr::Inet("[::1]:8899".into()))
        );
        assert_eq!(
            parse_listen("unix:/run/m.sock"),
            Some(ListenAddr::Unix("/run/m.sock".into()))
        );
        assert_eq!(parse_listen("inet:host"), None);
        assert_eq!(parse_listen("tcp:1"), None);
    }

    #[test]
    fn defaults_and_errors() {
        let d = parse(
            "listen: unix:/x\norganisation:\n  domains: [a.dk]\n",
            "m.yaml",
        )
        .unwrap();
        assert_eq!(d.log_destination, LogDestination::Syslog);
        assert_eq!(d.log_facility, "mail");
        assert_eq!(d.max_buffered_bytes, DEFAULT_MAX_BUFFERED_BYTES);
        let e = parse("mode: enforce\n", "m.yaml").unwrap_err();
        assert!(e.to_string().contains("missing field `listen`"), "{e}");
        let e = parse("listen: unix:/x\nlog:\n  facility: kern\n", "m.yaml").unwrap_err();
        assert!(e.to_string().starts_with("m.yaml:3:"), "{e}");
        let e = parse("listen: unix:/x\nlog:\n  bogus: 1\n", "m.yaml").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}
