//! The `cpr-milter run` binary on a configuration the test writes itself
//! (any listen address, any log destination), for tests of the daemon's own
//! behaviour: signals, sockets, logging. Killed when dropped.

use super::{poll, port_accepts, read_lossy, signal};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `cpr-milter run --config cfg` with stderr going to `log`.
    pub fn spawn(cfg: &Path, log: &Path) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
            .args(["run", "--config"])
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("spawn cpr-milter");
        Daemon {
            child,
            log: log.to_path_buf(),
        }
    }

    /// Waits (bounded) until the daemon accepts TCP on 127.0.0.1:`port`.
    pub fn wait_tcp(&self, port: u16) {
        if poll(WAIT, || port_accepts(port).then_some(())).is_none() {
            panic!("milter did not listen on {port}:\n{}", self.log_text());
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn hup(&self) {
        signal(self.pid(), "HUP");
    }

    /// SIGTERM, then the exit status (bounded by the test's own timeout).
    pub fn terminate(mut self) -> ExitStatus {
        signal(self.pid(), "TERM");
        self.child.wait().expect("wait for cpr-milter")
    }

    /// The exit status once the daemon has exited by itself, or `None`
    /// when it is still running after the bounded wait.
    pub fn wait_exit(&mut self) -> Option<ExitStatus> {
        poll(WAIT, || self.child.try_wait().ok().flatten())
    }

    pub fn log_text(&self) -> String {
        read_lossy(&self.log)
    }

    /// Waits (bounded) until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        if poll(WAIT, || self.log_text().contains(needle).then_some(())).is_none() {
            panic!("no {needle:?} in the milter log:\n{}", self.log_text());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
