//! The daemon binary under SIGHUP: a good file takes effect for new
//! transactions, a bad file is refused with its line and column while the
//! milter keeps serving on the old configuration.

use indymilter_test::{Status, TestConnection};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(port: u16, retired: &str) -> String {
    format!("listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [nyborg.dk]\nrecipients:\n  retired:\n{retired}log:\n  destination: stderr\n")
}

struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(cfg: &Path, log: &Path, port: u16) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
            .args(["run", "--config"])
            .arg(cfg)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let d = Daemon {
            child,
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "milter did not start: {}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn hup(&self) {
        let ok = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn log_text(&self) -> String {
        let mut s = String::new();
        std::fs::File::open(&self.log)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

async fn rcpt_status(port: u16, rcpt: &str) -> Status {
    let mut c = TestConnection::open(("127.0.0.1", port)).await.unwrap();
    c.connect("client", ([127, 0, 0, 1], 40000)).await.unwrap();
    c.helo("client").await.unwrap();
    c.mail(["<a@nyborg.dk>"]).await.unwrap();
    let s = c.rcpt([format!("<{rcpt}>")]).await.unwrap();
    c.abort().await.unwrap();
    c.close().await.unwrap();
    s
}

#[tokio::test]
async fn sighup_reloads_good_files_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("milter.yaml");
    let port = free_port();
    std::fs::write(&cfg, config(port, "    a@nyborg.dk: ~\n")).unwrap();
    let d = Daemon::start(&cfg, &dir.path().join("stderr.log"), port);
    d.wait_for_log("starting on inet:127.0.0.1");

    assert!(matches!(
        rcpt_status(port, "a@nyborg.dk").await,
        Status::Reject { .. }
    ));
    assert_eq!(rcpt_status(port, "b@nyborg.dk").await, Status::Continue);

    // A good file: b@ is now retired as well.
    std::fs::write(
        &cfg,
        config(port, "    a@nyborg.dk: ~\n    b@nyborg.dk: c@nyborg.dk\n"),
    )
    .unwrap();
    d.hup();
    d.wait_for_log("configuration reloaded");
    assert!(matches!(
        rcpt_status(port, "b@nyborg.dk").await,
        Status::Reject { .. }
    ));

    // A bad file (line 4 has a bad address): refused, old config stays.
    std::fs::write(&cfg, config(port, "    not-an-address: ~\n")).unwrap();
    d.hup();
    d.wait_for_log("reload refused");
    let log = d.log_text();
    assert!(
        log.contains("milter.yaml:6:"),
        "error names file and line:\n{log}"
    );
    assert!(matches!(
        rcpt_status(port, "b@nyborg.dk").await,
        Status::Reject { .. }
    ));
    assert_eq!(rcpt_status(port, "x@nyborg.dk").await, Status::Continue);
}

#[test]
fn check_config_reports_errors_with_position_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(&cfg, "listen: inet:127.0.0.1:1\nreplies:\n  cpr_header:\n    code: \"550 4.7.1\"\n    text: [x]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["check-config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:4:") && err.contains("4.3.5"),
        "{err}"
    );

    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("milter.yaml.example");
    let out = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["check-config", "--config"])
        .arg(&example)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
