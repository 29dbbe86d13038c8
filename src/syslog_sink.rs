//! Syslog over a unix datagram socket that survives the syslog daemon going
//! away: lines that cannot be sent are held, in order, and delivered when the
//! socket comes back, so a restart of rsyslog or journald under traffic loses
//! no audit line.
//!
//! Every line is sent with `send_to` on an unconnected, non-blocking socket,
//! so a socket file recreated by a restarted daemon is found again, and a
//! stalled daemon (full receive queue) never blocks the milter: the line is
//! held instead. Held lines are bounded ([`MAX_HELD_BYTES`]); past that,
//! lines go to stderr (the service manager's journal) rather than nowhere.
//! A background thread retries every [`RETRY_INTERVAL`] and, once the
//! backlog is delivered, logs how long syslog was unreachable.

use log::{Level, Log, Metadata, Record};
use std::collections::VecDeque;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use syslog::{Formatter3164, LogFormat, Severity};

/// Held lines, at most (then stderr).
pub const MAX_HELD_BYTES: usize = 32 * 1024 * 1024;
/// How often delivery of held lines is retried.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(100);
/// How long `flush` (at shutdown) keeps trying before writing what is still
/// held to stderr.
const FLUSH_PATIENCE: Duration = Duration::from_secs(2);

/// The usual places of the local syslog socket.
pub const DEFAULT_SOCKETS: &[&str] = &["/dev/log", "/var/run/syslog", "/var/run/log"];

struct Held {
    lines: VecDeque<Vec<u8>>,
    bytes: usize,
    /// Since when lines are held (syslog unreachable).
    since: Option<Instant>,
    /// Lines sent to stderr because the backlog was full.
    spilled: u64,
    /// Lines held in this outage.
    held_total: u64,
}

struct Inner {
    socket: UnixDatagram,
    path: PathBuf,
    held: Mutex<Held>,
    wake: Condvar,
}

/// A `log::Log` writing RFC 3164 lines to a syslog socket.
pub struct SyslogSink {
    formatter: Formatter3164,
    inner: Arc<Inner>,
}

impl SyslogSink {
    /// Checks that `path` (or the first default socket that exists) takes
    /// a datagram now; errors when no syslog is listening.
    pub fn open(formatter: Formatter3164, path: Option<&Path>) -> std::io::Result<SyslogSink> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => DEFAULT_SOCKETS
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no syslog socket found")
                })?,
        };
        // A probe: fails now, like a connect would, when nothing listens.
        UnixDatagram::unbound()?.connect(&path)?;
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        let inner = Arc::new(Inner {
            socket,
            path,
            held: Mutex::new(Held {
                lines: VecDeque::new(),
                bytes: 0,
                since: None,
                spilled: 0,
                held_total: 0,
            }),
            wake: Condvar::new(),
        });
        let retry = inner.clone();
        let retry_formatter = formatter.clone();
        std::thread::Builder::new()
            .name("syslog-retry".into())
            .spawn(move || retry.retry_loop(&retry_formatter))?;
        Ok(SyslogSink { formatter, inner })
    }

    fn line(&self, severity: Severity, message: &str) -> Vec<u8> {
        format_line(&self.formatter, severity, message)
    }
}

fn format_line(f: &Formatter3164, severity: Severity, message: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(message.len() + 48);
    if f.format(&mut buf, severity, message).is_err() {
        buf.clear();
        buf.extend_from_slice(message.as_bytes());
    }
    buf
}

impl Inner {
    fn send(&self, line: &[u8]) -> bool {
        self.socket.send_to(line, &self.path).is_ok()
    }

    /// Sends `line`, or holds it behind lines already held.
    fn submit(&self, line: Vec<u8>) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.lines.is_empty() && self.send(&line) {
            return;
        }
        if held.since.is_none() {
            held.since = Some(Instant::now());
            held.held_total = 0;
        }
        if held.bytes + line.len() > MAX_HELD_BYTES {
            held.spilled += 1;
            drop(held);
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&line);
            let _ = err.write_all(b"\n");
            return;
        }
        held.bytes += line.len();
        held.held_total += 1;
        held.lines.push_back(line);
        self.wake.notify_one();
    }

    /// Delivers held lines in order until one fails; true when none is left.
    fn drain(&self, held: &mut Held) -> bool {
        while let Some(line) = held.lines.front() {
            if !self.send(line) {
                return false;
            }
            held.bytes -= line.len();
            held.lines.pop_front();
        }
        true
    }

    fn retry_loop(&self, formatter: &Formatter3164) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            held = if held.lines.is_empty() {
                self.wake.wait(held).unwrap_or_else(|e| e.into_inner())
            } else {
                self.wake
                    .wait_timeout(held, RETRY_INTERVAL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            };
            if held.lines.is_empty() || !self.drain(&mut held) {
                continue;
            }
            if let Some(since) = held.since.take() {
                let spilled = std::mem::take(&mut held.spilled);
                let note = format!(
                    "syslog was unreachable for {:.1} s: {} lines were held and delivered late, {spilled} went to stderr",
                    since.elapsed().as_secs_f64(),
                    held.held_total,
                );
                let line = format_line(formatter, Severity::LOG_WARNING, &note);
                if !self.send(&line) {
                    held.bytes += line.len();
                    held.lines.push_back(line);
                }
            }
        }
    }
}

impl Log for SyslogSink {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let severity = match r.level() {
            Level::Error => Severity::LOG_ERR,
            Level::Warn => Severity::LOG_WARNING,
            Level::Info => Severity::LOG_INFO,
            Level::Debug | Level::Trace => Severity::LOG_DEBUG,
        };
        self.inner
            .submit(self.line(severity, &r.args().to_string()));
    }

    /// At shutdown: a bounded last try, then whatever is still held goes to
    /// stderr, so nothing is dropped on exit.
    fn flush(&self) {
        let deadline = Instant::now() + FLUSH_PATIENCE;
        loop {
            let mut held = self.inner.held.lock().unwrap_or_else(|e| e.into_inner());
            if self.inner.drain(&mut held) {
                return;
            }
            if Instant::now() >= deadline {
                let mut err = std::io::stderr().lock();
                for line in held.lines.drain(..) {
                    let _ = err.write_all(&line);
                    let _ = err.write_all(b"\n");
                }
                held.bytes = 0;
                return;
            }
            drop(held);
            std::thread::sleep(RETRY_INTERVAL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatter() -> Formatter3164 {
        Formatter3164 {
            facility: syslog::Facility::LOG_MAIL,
            hostname: None,
            process: "cpr-milter".into(),
            pid: 42,
        }
    }

    fn receive_all(sock: &UnixDatagram, want: usize) -> Vec<String> {
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while got.len() < want {
            let Ok(n) = sock.recv(&mut buf) else { break };
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got
    }

    #[test]
    fn lines_written_while_syslog_is_gone_arrive_in_order_when_it_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let first = UnixDatagram::bind(&path).unwrap();
        let sink = SyslogSink::open(formatter(), Some(&path)).unwrap();
        sink.inner.submit(b"<22>one".to_vec());
        assert_eq!(receive_all(&first, 1), ["<22>one"]);

        drop(first);
        std::fs::remove_file(&path).unwrap();
        for l in ["two", "three", "four"] {
            sink.inner.submit(format!("<22>{l}").into_bytes());
        }
        assert_eq!(sink.inner.held.lock().unwrap().lines.len(), 3);

        let second = UnixDatagram::bind(&path).unwrap();
        let got = receive_all(&second, 4);
        assert_eq!(&got[..3], ["<22>two", "<22>three", "<22>four"]);
        assert!(
            got[3].contains("syslog was unreachable") && got[3].contains("3 lines were held"),
            "{got:?}"
        );
        assert_eq!(sink.inner.held.lock().unwrap().bytes, 0);
    }

    #[test]
    fn no_listener_at_start_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SyslogSink::open(formatter(), Some(&dir.path().join("none.sock"))).is_err());
    }
}
