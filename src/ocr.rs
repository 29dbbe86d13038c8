//! The Tesseract provider of text in images: each image is piped through
//! `tesseract stdin stdout -l dan+eng` in its own process (no shell), under
//! the time the message's OCR budget has left (killed on expiry) and an
//! address-space cap, so a hostile image costs a bounded slice of one
//! inspection and never the daemon.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cpr_milter_core::config::ConfigError;
use cpr_milter_core::extract::{ImageKind, ImageText, OcrBudget, OcrError};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Address space one tesseract process may map.
const MEMORY_CAP_BYTES: u64 = 1024 * 1024 * 1024;
/// Text read back from one image; a page holds a few KiB.
const MAX_TEXT_BYTES: u64 = 4 * 1024 * 1024;
/// How often a running process is looked at.
const POLL: Duration = Duration::from_millis(10);

/// The `ocr:` keys as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOcr {
    enabled: Option<bool>,
    languages: Option<Spanned<Vec<String>>>,
    max_images: Option<Spanned<usize>>,
    timeout_seconds: Option<Spanned<u64>>,
}

/// Validated OCR settings (daemon side: the binary supplies the provider).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcrSettings {
    /// Images are read only when true.
    pub enabled: bool,
    /// Tesseract language packs, tried together.
    pub languages: Vec<String>,
    /// Images and time per message.
    pub budget: OcrBudget,
}

impl Default for OcrSettings {
    fn default() -> Self {
        OcrSettings {
            enabled: false,
            languages: vec!["dan".into(), "eng".into()],
            budget: OcrBudget::default(),
        }
    }
}

impl OcrSettings {
    /// The file's `ocr:` values over the defaults.
    pub fn from_raw(file: &str, raw: &RawOcr) -> Result<Self, ConfigError> {
        let mut s = OcrSettings {
            enabled: raw.enabled.unwrap_or(false),
            ..OcrSettings::default()
        };
        if let Some(l) = &raw.languages {
            let ok = |x: &String| {
                !x.is_empty() && x.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            };
            if l.value.is_empty() || !l.value.iter().all(ok) {
                return Err(ConfigError::at(
                    file,
                    l,
                    format!("invalid ocr.languages {:?}", l.value),
                    "Tesseract language codes such as [dan, eng]",
                ));
            }
            s.languages = l.value.clone();
        }
        if let Some(m) = &raw.max_images {
            if m.value == 0 {
                return Err(ConfigError::at(
                    file,
                    m,
                    "ocr.max_images must be at least 1".into(),
                    "set ocr.enabled: false to read no images",
                ));
            }
            s.budget.max_images = m.value;
        }
        if let Some(t) = &raw.timeout_seconds {
            if t.value == 0 || t.value > 3600 {
                return Err(ConfigError::at(
                    file,
                    t,
                    format!("ocr.timeout_seconds {} is out of range", t.value),
                    "1 to 3600 seconds per message; keep it below limits.scan_timeout_seconds",
                ));
            }
            s.budget.time = Duration::from_secs(t.value);
        }
        Ok(s)
    }
}

/// Runs the `tesseract` command line program.
#[derive(Clone, Debug)]
pub struct Tesseract {
    program: PathBuf,
    languages: String,
    budget: OcrBudget,
}

impl Tesseract {
    /// A provider for `settings`, running `tesseract` from `PATH`.
    pub fn new(settings: &OcrSettings) -> Self {
        Tesseract {
            program: "tesseract".into(),
            languages: settings.languages.join("+"),
            budget: settings.budget,
        }
    }

    /// The same provider running `program` instead.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Checks that the program runs and has every language pack, so a
    /// missing package is an error at load, not a stream of unscannables.
    pub fn probe(&self) -> Result<(), String> {
        let out = Command::new(&self.program)
            .arg("--list-langs")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                format!(
                    "ocr.enabled: cannot run {}: {e} (install tesseract-ocr)",
                    self.program.display()
                )
            })?;
        let listed = String::from_utf8_lossy(&out.stdout);
        let have: Vec<&str> = listed.lines().map(str::trim).collect();
        for lang in self.languages.split('+') {
            if !have.contains(&lang) {
                return Err(format!(
                    "ocr.languages: tesseract has no language {lang:?} (install tesseract-ocr-{lang})"
                ));
            }
        }
        Ok(())
    }

    fn spawn(&self) -> std::io::Result<Child> {
        let mut cmd = Command::new(&self.program);
        cmd.args(["stdin", "stdout", "-l", &self.languages])
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: only async-signal-safe calls (setrlimit) run in the child
        // between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                let cap = libc::rlimit {
                    rlim_cur: MEMORY_CAP_BYTES as libc::rlim_t,
                    rlim_max: MEMORY_CAP_BYTES as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &cap) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd.spawn()
    }
}

impl ImageText for Tesseract {
    fn budget(&self) -> OcrBudget {
        self.budget
    }

    fn read(
        &self,
        image: &[u8],
        _kind: ImageKind,
        time_left: Duration,
    ) -> Result<String, OcrError> {
        let deadline = Instant::now() + time_left;
        let mut child = self
            .spawn()
            .map_err(|e| OcrError::Failed(format!("cannot run tesseract: {e}")))?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(OcrError::Failed("no pipes to tesseract".into()));
        };
        let text = std::thread::scope(|s| {
            // Written and read on their own threads: a pipe fills up, and
            // the process may exit (or hang) before reading all of it.
            s.spawn(move || {
                let _ = stdin.write_all(image);
            });
            let out = s.spawn(move || drain(stdout, MAX_TEXT_BYTES));
            let err = s.spawn(move || drain(stderr, 4096));
            let status = wait_until(&mut child, deadline);
            let out = out.join().unwrap_or_default();
            let err = err.join().unwrap_or_default();
            (status, out, err)
        });
        match text {
            (None, _, _) => Err(OcrError::TimedOut),
            (Some(Ok(status)), out, _) if status.success() => {
                Ok(String::from_utf8_lossy(&out).into_owned())
            }
            (Some(Ok(status)), _, err) => {
                let first = String::from_utf8_lossy(&err);
                let first = first.lines().next().unwrap_or("").trim();
                Err(OcrError::Failed(format!("tesseract {status}: {first}")))
            }
            (Some(Err(e)), _, _) => Err(OcrError::Failed(format!("waiting for tesseract: {e}"))),
        }
    }
}

/// Up to `max` bytes of `r`; the rest is read and dropped so the writer
/// never blocks on a full pipe.
fn drain(mut r: impl Read, max: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = r.by_ref().take(max).read_to_end(&mut buf);
    let _ = std::io::copy(&mut r, &mut std::io::sink());
    buf
}

/// The exit status, or `None` after killing the process at `deadline`.
fn wait_until(
    child: &mut Child,
    deadline: Instant,
) -> Option<std::io::Result<std::process::ExitStatus>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Some(Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, body: &str) -> PathBuf {
        let p = dir.join("fake-tesseract");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n not really";

    #[test]
    fn a_hanging_engine_is_killed_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tesseract::new(&OcrSettings::default())
            .with_program(script(dir.path(), "exec sleep 30"));
        let started = Instant::now();
        let r = t.read(PNG, ImageKind::Png, Duration::from_millis(300));
        assert_eq!(r, Err(OcrError::TimedOut));
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_failing_or_missing_engine_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tesseract::new(&OcrSettings::default())
            .with_program(script(dir.path(), "echo 'Error: bad image' >&2; exit 1"));
        let r = t.read(PNG, ImageKind::Png, Duration::from_secs(20));
        assert!(
            matches!(&r, Err(OcrError::Failed(m)) if m.contains("bad image")),
            "{r:?}"
        );
        let t = Tesseract::new(&OcrSettings::default()).with_program(dir.path().join("absent"));
        assert!(matches!(
            t.read(PNG, ImageKind::Png, Duration::from_secs(5)),
            Err(OcrError::Failed(_))
        ));
        assert!(t.probe().is_err());
    }

    #[test]
    fn settings_are_validated() {
        let parse = |y: &str| {
            let raw: RawOcr = serde_saphyr::from_str(y).unwrap();
            OcrSettings::from_raw("t.yaml", &raw)
        };
        let d = parse("enabled: true\n").unwrap();
        assert!(d.enabled);
        assert_eq!(d.languages, ["dan", "eng"]);
        assert_eq!(d.budget, OcrBudget::default());
        assert!(parse("max_images: 0\n").is_err());
        assert!(parse("timeout_seconds: 0\n").is_err());
        assert!(parse("languages: [\"dan; rm\"]\n").is_err());
        assert!(parse("languages: []\n").is_err());
        assert_eq!(parse("max_images: 3\n").unwrap().budget.max_images, 3);
    }
}
