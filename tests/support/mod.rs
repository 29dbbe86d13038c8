//! Shared helpers for the end-to-end tests: a private Postfix instance, the
//! cpr-milter daemon on a free port, and a small SMTP client.
//!
//! Everything here talks to 127.0.0.1 only, every wait is bounded, and every
//! process started is stopped again when its guard is dropped.

#![allow(dead_code)]

pub mod compose;
pub mod daemon;
pub mod inprocess;
pub mod milter;
pub mod postfix;
pub mod scans;
pub mod sendmail;
pub mod skip;
pub mod smtp;
pub mod stack;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago. The caller binds it
/// soon after; a clash is detected by the caller (banner check, retry).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local_addr").port()
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Polls `f` every 50 ms until it returns `Some`, or `timeout` has passed.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The contents of `files` in file-name order (delivered mail, oldest
/// first); a file that vanished meanwhile is left out.
pub fn read_in_name_order(mut files: Vec<std::path::PathBuf>) -> Vec<Vec<u8>> {
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Reads a file as (lossy) UTF-8; a missing file reads as empty.
pub fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// True when the current process runs as root (owner of /proc/self).
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Sends a signal with kill(1); std has no portable signal API and the tests
/// do not depend on libc.
pub fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

/// True while `pid` exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Format: "pid (comm) STATE ..."; comm may contain spaces/parens.
        Ok(stat) => match stat.rfind(')') {
            Some(i) => !stat[i + 1..].trim_start().starts_with('Z'),
            None => true,
        },
        Err(_) => false,
    }
}

/// Where test instances live: `CPR_E2E_TMPDIR`, else `/tmp` (world
/// traversable, so the unprivileged Postfix daemons can reach their files).
pub fn shared_tmp() -> std::path::PathBuf {
    std::env::var_os("CPR_E2E_TMPDIR")
        .map(Into::into)
        .unwrap_or_else(|| "/tmp".into())
}

/// Keep temporary directories after the test (for debugging) when
/// `CPR_E2E_KEEP=1` is set.
pub fn keep_tempdirs() -> bool {
    std::env::var_os("CPR_E2E_KEEP").is_some_and(|v| v == "1")
}

/// Standard base64 (RFC 4648) with padding, for building test messages.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
