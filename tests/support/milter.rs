//! The project's own daemon, `cpr-milter run --config FILE`, on a free port
//! of 127.0.0.1, logging to a file; killed when the guard is dropped.

use super::{free_port, keep_tempdirs, pid_alive, poll, port_accepts, read_lossy, signal};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tempfile::TempDir;

/// The organisation's own domain in the generated config.
pub const ORG_DOMAIN: &str = "nyborg.dk";
const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
const START_ATTEMPTS: usize = 3;

pub struct Milter {
    child: Option<Child>,
    tempdir: Option<TempDir>,
    root: PathBuf,
    port: u16,
}

impl Milter {
    /// Starts the milter with a minimal config (`listen`, the organisation's
    /// domains, log to stderr) plus `extra_yaml` (more top-level keys).
    pub fn start(extra_yaml: &str) -> Milter {
        Milter::start_with("", extra_yaml)
    }

    /// Like `start`, with `organisation` added inside the `organisation:`
    /// mapping (lines indented by two spaces, e.g.
    /// `"  partner_domains: [fredericia.dk]\n"`).
    pub fn start_with(organisation: &str, extra_yaml: &str) -> Milter {
        let mut last_error = String::new();
        for attempt in 1..=START_ATTEMPTS {
            match Milter::try_start(organisation, extra_yaml) {
                Ok(m) => return m,
                Err(e) => {
                    eprintln!("milter start attempt {attempt} failed: {e}");
                    last_error = e;
                }
            }
        }
        panic!("could not start cpr-milter: {last_error}");
    }

    fn try_start(organisation: &str, extra_yaml: &str) -> Result<Milter, String> {
        let tempdir = tempfile::Builder::new()
            .prefix("cpr-e2e-milter.")
            .tempdir_in(super::shared_tmp())
            .map_err(|e| format!("tempdir: {e}"))?;
        let root = tempdir.path().to_path_buf();
        let port = free_port();
        let config = config_text(port, organisation, extra_yaml);
        let config_path = root.join("milter.yaml");
        fs::write(&config_path, config).map_err(|e| format!("write config: {e}"))?;
        let stderr = fs::File::create(root.join("milter.stderr"))
            .map_err(|e| format!("create stderr file: {e}"))?;
        let child = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
            .arg("run")
            .arg("--config")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().map_err(|e| e.to_string())?)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn cpr-milter: {e}"))?;
        let mut m = Milter {
            child: Some(child),
            tempdir: Some(tempdir),
            root,
            port,
        };
        let ready = poll(READY_TIMEOUT, || {
            if let Some(status) = m.exited() {
                return Some(Err(format!("cpr-milter exited early ({status})")));
            }
            port_accepts(port).then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => Ok(m),
            Some(Err(e)) => Err(format!("{e}; its output:\n{}", m.log())),
            None => Err(format!(
                "cpr-milter did not listen on 127.0.0.1:{port} within {READY_TIMEOUT:?}; its output:\n{}",
                m.log()
            )),
        }
    }

    /// The daemon's process id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends SIGHUP: the daemon reloads its config file.
    pub fn reload(&self) {
        let pid = self.pid().expect("cpr-milter is running");
        assert!(pid_alive(pid), "cpr-milter {pid} is gone:\n{}", self.log());
        signal(pid, "HUP");
    }

    /// Replaces the config file (same `listen` and log settings) with
    /// `organisation` and `extra_yaml` as for `start_with`. Written to a
    /// temporary file and renamed, so a reload never reads half a file.
    pub fn rewrite_config(&self, organisation: &str, extra_yaml: &str) {
        self.write_config_raw(&config_text(self.port, organisation, extra_yaml));
    }

    /// Replaces the config file with `text` as given (e.g. a broken file).
    pub fn write_config_raw(&self, text: &str) {
        let tmp = self.root.join("milter.yaml.new");
        fs::write(&tmp, text).expect("write new config");
        fs::rename(&tmp, self.config_path()).expect("rename new config into place");
    }

    /// The config text `start_with(organisation, extra_yaml)` would write
    /// for this milter's port.
    pub fn config_text(&self, organisation: &str, extra_yaml: &str) -> String {
        config_text(self.port, organisation, extra_yaml)
    }

    /// How many times `needle` occurs in the log so far.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log().matches(needle).count()
    }

    /// Waits (bounded) until `needle` occurs at least `n` times in the log.
    pub fn wait_log_count(&self, needle: &str, n: usize, timeout: Duration) -> String {
        poll(timeout, || {
            let log = self.log();
            (log.matches(needle).count() >= n).then_some(log)
        })
        .unwrap_or_else(|| {
            panic!(
                "milter log has fewer than {n} {needle:?} after {timeout:?}:\n{}",
                self.log()
            )
        })
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `inet:127.0.0.1:PORT`, for `smtpd_milters`.
    pub fn socket(&self) -> String {
        format!("inet:127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("milter.yaml")
    }

    /// Everything the milter wrote to stdout/stderr so far.
    pub fn log(&self) -> String {
        read_lossy(&self.root.join("milter.stderr"))
    }

    /// Waits (bounded) until the milter's log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        poll(timeout, || {
            let log = self.log();
            log.contains(needle).then_some(log)
        })
        .unwrap_or_else(|| {
            panic!(
                "milter log has no {needle:?} after {timeout:?}:\n{}",
                self.log()
            )
        })
    }

    /// SIGTERM, a bounded wait, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id();
        if pid_alive(pid) {
            signal(pid, "TERM");
        }
        let done = poll(STOP_TIMEOUT, || child.try_wait().ok().flatten());
        if done.is_none() {
            eprintln!("cpr-milter {pid} ignored SIGTERM for {STOP_TIMEOUT:?}; killing it");
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The generated config: `listen` on `port`, the organisation's domain plus
/// `organisation` (indented lines inside the mapping), log to stderr, then
/// `extra_yaml` (top-level keys).
pub fn config_text(port: u16, organisation: &str, extra_yaml: &str) -> String {
    format!(
        "listen: inet:127.0.0.1:{port}\n\
         organisation:\n  domains: [{ORG_DOMAIN}]\n\
         {organisation}\
         log:\n  destination: stderr\n\
         {extra_yaml}"
    )
}

impl Drop for Milter {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = self.tempdir.take() {
            if keep_tempdirs() {
                eprintln!("keeping milter test dir {}", dir.keep().display());
            }
        }
    }
}
