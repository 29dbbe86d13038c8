//! Log output: syslog (facility from the config) or stderr for foreground
//! use and tests. Audit lines and operational messages share the logger so
//! they interleave in the order they happened.
//!
//! No line may vanish. When syslog cannot be reached the line goes to stderr
//! (under systemd that is the journal) together with the true reason (no
//! socket, nothing listening, permission denied); every later line tries
//! syslog again, so once the syslog daemon is (back) up, lines go there
//! without a restart. Fatal errors go to stderr as well, so whoever started
//! the milter sees why it stopped (see [`fatal`]).

use crate::settings::LogDestination;
use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::{self, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;
use syslog::LogFormat;

/// Where syslog daemons listen when the config names no socket (Linux, then
/// the BSDs and macOS), in the order tried.
const DEFAULT_SOCKETS: [&str; 3] = ["/dev/log", "/var/run/syslog", "/var/run/log"];

/// A stalled syslog daemon must not stall the milter's threads for long.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// One connection to the syslog socket; datagram first, stream for daemons
/// that listen on a stream socket.
enum Connection {
    Datagram(UnixDatagram),
    Stream(UnixStream),
}

impl Connection {
    fn open(path: &Path) -> io::Result<Connection> {
        let sock = UnixDatagram::unbound()?;
        match sock.connect(path) {
            Ok(()) => {
                sock.set_write_timeout(Some(SEND_TIMEOUT))?;
                Ok(Connection::Datagram(sock))
            }
            // A stream socket answers a datagram connect with EPROTOTYPE;
            // the usual failures (missing, refused, denied) are final.
            Err(e)
                if !matches!(
                    e.kind(),
                    io::ErrorKind::NotFound
                        | io::ErrorKind::ConnectionRefused
                        | io::ErrorKind::PermissionDenied
                ) =>
            {
                let stream = UnixStream::connect(path)?;
                stream.set_write_timeout(Some(SEND_TIMEOUT))?;
                Ok(Connection::Stream(stream))
            }
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Connection::Datagram(s) => s.send(line).map(drop),
            // Stream framing as syslog daemons expect it: NUL-terminated.
            Connection::Stream(s) => s.write_all(line).and_then(|()| s.write_all(&[0])),
        }
    }
}

/// Why `path` cannot take syslog lines, in words an operator can act on.
fn unavailable_reason(path: &Path, err: &io::Error) -> String {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            format!(
                "no syslog socket at {} (is a syslog daemon running?)",
                path.display()
            )
        }
        Ok(m) if !m.file_type().is_socket() && !m.file_type().is_symlink() => {
            format!("{} is not a socket", path.display())
        }
        _ => match err.kind() {
            io::ErrorKind::ConnectionRefused => format!(
                "nothing listening on {} (connection refused; a stale socket?)",
                path.display()
            ),
            io::ErrorKind::PermissionDenied => {
                format!("permission denied on {}", path.display())
            }
            _ => format!("{}: {err}", path.display()),
        },
    }
}

struct SyslogState {
    /// Candidate sockets, first one preferred; never empty.
    paths: Vec<PathBuf>,
    conn: Option<Connection>,
    /// Why the last attempt failed; `Some` while lines go to stderr.
    down_since: Option<String>,
    /// Lines written to stderr because syslog was unreachable.
    diverted: u64,
}

impl SyslogState {
    /// Connects to the first socket that accepts; the error names the
    /// reason for the preferred one.
    fn connect(&mut self) -> Result<(), String> {
        let mut first_reason = None;
        for path in &self.paths {
            match Connection::open(path) {
                Ok(c) => {
                    self.conn = Some(c);
                    return Ok(());
                }
                Err(e) => {
                    first_reason.get_or_insert_with(|| unavailable_reason(path, &e));
                }
            }
        }
        Err(first_reason.unwrap_or_else(|| "no syslog socket configured".into()))
    }

    /// Sends one formatted line: on the open connection, else (or when that
    /// fails) on a fresh one. Errors carry the reason.
    fn send(&mut self, line: &[u8]) -> Result<(), String> {
        if let Some(c) = &mut self.conn {
            if c.send(line).is_ok() {
                return Ok(());
            }
            // The daemon restarted or went away: reconnect once.
            self.conn = None;
        }
        self.connect()?;
        let c = self.conn.as_mut().expect("connected");
        c.send(line).map_err(|e| {
            let path = &self.paths[0];
            self.conn = None;
            format!("cannot send to {}: {e}", path.display())
        })
    }
}

struct Logger {
    pid: u32,
    /// `None`: stderr by configuration.
    syslog: Option<(syslog::Formatter3164, Mutex<SyslogState>)>,
}

/// Lines from our own code and audit lines always; from libraries only
/// warnings and errors (they may explain a failure).
fn wanted(m: &Metadata<'_>) -> bool {
    m.level() <= Level::Info
        && (m.target().starts_with("cpr_milter")
            || m.target() == "audit"
            || m.level() <= Level::Warn)
}

fn severity(level: Level) -> syslog::Severity {
    match level {
        Level::Error => syslog::Severity::LOG_ERR,
        Level::Warn => syslog::Severity::LOG_WARNING,
        _ => syslog::Severity::LOG_INFO,
    }
}

impl Logger {
    fn stderr_line(&self, level: Level, msg: &dyn std::fmt::Display) {
        let prefix = match level {
            Level::Error => "error: ",
            Level::Warn => "warning: ",
            _ => "",
        };
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "cpr-milter[{}]: {prefix}{msg}", self.pid);
    }

    fn syslog_line(fmt: &syslog::Formatter3164, level: Level, msg: &str) -> Vec<u8> {
        let mut line = Vec::with_capacity(msg.len() + 64);
        // Formatting into a Vec cannot fail but for the formatter itself.
        let _ = fmt.format(&mut line, severity(level), msg);
        line
    }

    /// Writes `msg` to syslog, or to stderr with the reason when syslog is
    /// unreachable; announces each change between the two once.
    fn emit(&self, level: Level, msg: &str) {
        let Some((fmt, state)) = &self.syslog else {
            self.stderr_line(level, &msg);
            return;
        };
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        // After an outage, the first line syslog gets says what it missed.
        let sent = if st.down_since.is_some() {
            let back = format!(
                "syslog reachable again; {} line(s) went to stderr meanwhile",
                st.diverted
            );
            st.send(&Self::syslog_line(fmt, Level::Warn, &back))
                .map(|()| {
                    st.down_since = None;
                    st.diverted = 0;
                    self.stderr_line(Level::Warn, &format!("{back}; logging to syslog"));
                })
                .and_then(|()| st.send(&Self::syslog_line(fmt, level, msg)))
        } else {
            st.send(&Self::syslog_line(fmt, level, msg))
        };
        if let Err(reason) = sent {
            if st.down_since.as_deref() != Some(reason.as_str()) {
                self.stderr_line(
                    Level::Warn,
                    &format!(
                        "syslog unavailable ({reason}); logging to stderr, retrying syslog at every line"
                    ),
                );
                st.down_since = Some(reason);
            }
            st.diverted += 1;
            self.stderr_line(level, &msg);
        }
    }

    /// True when the last line reached syslog (so stderr has not seen it).
    fn on_syslog(&self) -> bool {
        self.syslog.as_ref().is_some_and(|(_, st)| {
            let st = st.lock().unwrap_or_else(|p| p.into_inner());
            st.down_since.is_none()
        })
    }
}

impl Log for Logger {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        wanted(m)
    }

    fn log(&self, r: &Record<'_>) {
        if wanted(r.metadata()) {
            self.emit(r.level(), &r.args().to_string());
        }
    }

    fn flush(&self) {
        let _ = io::stderr().flush();
    }
}

static LOGGER: std::sync::OnceLock<&'static Logger> = std::sync::OnceLock::new();

/// Installs the process-wide logger. With syslog configured it connects
/// right away, so a missing syslog is reported (on stderr, with the reason)
/// at start-up rather than at the first mail.
pub fn init(dest: LogDestination, facility: &str, socket: Option<&Path>) {
    let pid = std::process::id();
    let syslog = match dest {
        LogDestination::Stderr => None,
        LogDestination::Syslog => {
            let facility =
                syslog::Facility::from_str(facility).unwrap_or(syslog::Facility::LOG_MAIL);
            let formatter = syslog::Formatter3164 {
                facility,
                hostname: None,
                process: "cpr-milter".into(),
                pid,
            };
            let paths = match socket {
                Some(p) => vec![p.to_path_buf()],
                None => DEFAULT_SOCKETS.iter().map(PathBuf::from).collect(),
            };
            let state = SyslogState {
                paths,
                conn: None,
                down_since: None,
                diverted: 0,
            };
            Some((formatter, Mutex::new(state)))
        }
    };
    let logger: &'static Logger = Box::leak(Box::new(Logger { pid, syslog }));
    if log::set_logger(logger).is_err() {
        return; // already installed (a second init in one process)
    }
    let _ = LOGGER.set(logger);
    log::set_max_level(LevelFilter::Info);
    if let Some((_, state)) = &logger.syslog {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(reason) = st.connect() {
            logger.stderr_line(
                Level::Warn,
                &format!(
                    "syslog unavailable ({reason}); logging to stderr, retrying syslog at every line"
                ),
            );
            st.down_since = Some(reason);
        }
    }
}

/// Logs an error that ends the process: to the log as usual and, when that
/// was syslog, to stderr as well, so the terminal (or the journal) that
/// started the milter says why it stopped.
pub fn fatal(msg: &str) {
    log::error!("{msg}");
    match LOGGER.get() {
        Some(l) if !l.on_syslog() => {} // already on stderr
        Some(l) => l.stderr_line(Level::Error, &msg),
        None => eprintln!("cpr-milter: {msg}"),
    }
}
