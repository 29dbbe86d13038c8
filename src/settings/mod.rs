//! Reading the configuration file into what the daemon runs on: the
//! policy, compiled into an `Inspector` (with the fingerprint key), and the
//! daemon's own settings. Errors are ones an operator can act on, and are
//! redacted like every log line.

mod daemon;
mod describe;

pub use daemon::{
    parse_listen, DaemonSettings, ListenAddr, LogDestination, DEFAULT_MAX_BUFFERED_BYTES,
};
pub use describe::describe;

use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::Inspector;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The largest configuration file read. A file with 100,000 partner domains
/// is about 2 MB; anything near this is a mistake, not a configuration.
pub const MAX_CONFIG_BYTES: u64 = 32 * 1024 * 1024;

/// Fewer bytes than this in the key file are refused.
const MIN_KEY_BYTES: usize = 16;

/// A loaded configuration file.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The policy, ready to inspect mail.
    pub inspector: Inspector,
    /// Where to listen and log, and the daemon's limits.
    pub daemon: DaemonSettings,
}

/// Loads, validates and compiles a configuration file.
pub fn load(path: &Path) -> Result<Loaded, String> {
    let text = read_config(path)?;
    parse(&text, &path.display().to_string())
}

/// Validates and compiles configuration text; `file` names it in errors
/// (and anchors nothing: the key file path is used as written).
pub fn parse(text: &str, file: &str) -> Result<Loaded, String> {
    let policy = cpr_milter_core::config::parse(text, file).map_err(|e| e.to_string())?;
    let daemon = daemon::parse(text, file).map_err(|e| e.to_string())?;
    let key = match &daemon.fingerprint_key_file {
        None => None,
        Some(p) => Some(read_key(file, p)?),
    };
    let mut inspector = Inspector::new(policy, key);
    if daemon.ocr.enabled {
        let tesseract = crate::ocr::Tesseract::new(&daemon.ocr);
        tesseract.probe().map_err(|e| format!("{file}: {e}"))?;
        inspector = inspector.with_image_text(std::sync::Arc::new(tesseract));
    }
    Ok(Loaded { inspector, daemon })
}

/// The file's text: a regular file of at most [`MAX_CONFIG_BYTES`]. A FIFO
/// or device is refused before it is opened for reading (opening a FIFO
/// waits for a writer that may never come).
pub fn read_config(path: &Path) -> Result<String, String> {
    let shown = redact_digits(&path.display().to_string());
    let fail = |what: &str| format!("{shown}: cannot read configuration: {what}");
    let meta = std::fs::metadata(path).map_err(|e| fail(&e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file"));
    }
    // Non-blocking, so that a FIFO swapped in after the check cannot hold
    // the open.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(&e.to_string()))?;
    // Checked again on the open file: the path may have been swapped.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(fail("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(fail(&format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text"))
}

fn read_key(file: &str, p: &Path) -> Result<Vec<u8>, String> {
    let key = std::fs::read(p)
        .map_err(|e| format!("{file}: audit.fingerprint_key_file {}: {e}", p.display()))?;
    let trimmed = key.trim_ascii().to_vec();
    if trimmed.len() < MIN_KEY_BYTES {
        return Err(format!(
            "{file}: audit.fingerprint_key_file {} holds {} bytes; use at least {MIN_KEY_BYTES} random bytes (e.g. head -c 32 /dev/urandom | base64)",
            p.display(),
            trimmed.len()
        ));
    }
    Ok(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("milter.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = read_config(&fifo).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("milter.yaml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        let e = read_config(&big).unwrap_err();
        assert!(e.contains("larger than"), "{e}");
    }

    #[test]
    fn policy_and_daemon_settings_come_from_one_text() {
        let l = parse(
            "listen: unix:/x\nlimits:\n  max_buffered_bytes: 2000\n  max_depth: 3\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(l.daemon.max_buffered_bytes, 2000);
        assert_eq!(l.inspector.policy().limits.max_depth, 3);
    }
}
