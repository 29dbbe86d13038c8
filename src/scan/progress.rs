//! A one-line progress display on stderr, for a terminal only: messages,
//! bytes read from disk, rate and, once the archive's size is known, ETA.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(200);

pub struct Progress {
    enabled: bool,
    started: Instant,
    last_draw: Option<Instant>,
    messages: u64,
    disk_bytes: Arc<AtomicU64>,
    total_bytes: Arc<AtomicU64>,
    total_known: Arc<AtomicBool>,
    drawn: bool,
}

impl Progress {
    /// `disk_bytes` is advanced by the readers; the archive's total size is
    /// summed by a background walk so the scan does not wait for it.
    pub fn new(enabled: bool, disk_bytes: Arc<AtomicU64>, sources: &[String]) -> Self {
        let total_bytes = Arc::new(AtomicU64::new(0));
        let total_known = Arc::new(AtomicBool::new(false));
        if enabled && !sources.iter().any(|s| s == "-") {
            let (t, k, s) = (total_bytes.clone(), total_known.clone(), sources.to_vec());
            std::thread::spawn(move || {
                for src in s {
                    add_sizes(Path::new(&src), &t);
                }
                k.store(true, Ordering::Relaxed);
            });
        }
        Progress {
            enabled,
            started: Instant::now(),
            last_draw: None,
            messages: 0,
            disk_bytes,
            total_bytes,
            total_known,
            drawn: false,
        }
    }

    pub fn message(&mut self) {
        self.messages += 1;
    }

    /// Redraws at most every 200 ms.
    pub fn tick(&mut self) {
        if !self.enabled || self.last_draw.is_some_and(|t| t.elapsed() < REDRAW) {
            return;
        }
        self.last_draw = Some(Instant::now());
        let line = self.line();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Draws the final figures, then removes the line for the summary.
    pub fn finish(&mut self) {
        if self.enabled {
            self.last_draw = None;
            self.tick();
            self.clear();
        }
    }

    /// Removes the line (before other output).
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
            // Redraw at the next tick, not 200 ms later.
            self.last_draw = None;
        }
    }

    fn line(&self) -> String {
        let done = self.disk_bytes.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / secs;
        let mut s = format!("scanning: {} messages, {}", self.messages, megabytes(done));
        if self.total_known.load(Ordering::Relaxed) {
            let total = self.total_bytes.load(Ordering::Relaxed).max(done);
            s.push_str(&format!(
                " of {} ({}%)",
                megabytes(total),
                (done * 100).checked_div(total).unwrap_or(100)
            ));
            if rate > 0.0 {
                let left = ((total - done) as f64 / rate) as u64;
                s.push_str(&format!(
                    ", {}/s, ETA {}:{:02}:{:02}",
                    megabytes(rate as u64),
                    left / 3600,
                    left / 60 % 60,
                    left % 60
                ));
                return s;
            }
        }
        s.push_str(&format!(", {}/s", megabytes(rate as u64)));
        s
    }
}

fn megabytes(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// Sums file sizes under `path` as the readers will see them (Maildir
/// `tmp/` left out, directory links not followed).
fn add_sizes(path: &Path, total: &AtomicU64) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    if meta.is_file() {
        total.fetch_add(meta.len(), Ordering::Relaxed);
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    let maildir = path.join("cur").is_dir() || path.join("new").is_dir();
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_symlink() && e.path().is_dir() || maildir && e.file_name() == "tmp" {
            continue;
        }
        add_sizes(&e.path(), total);
    }
}
