//! The daemon binary under SIGHUP: a good file takes effect for new
//! transactions, a bad file is refused with its line and column while the
//! milter keeps serving on the old configuration.

mod support;

use indymilter_test::{Status, TestConnection};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::daemon::Daemon;
use support::free_port;
use support::inprocess::InProcess;

fn config(port: u16, retired: &str) -> String {
    format!("listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [nyborg.dk]\nrecipients:\n  retired:\n{retired}log:\n  destination: stderr\n")
}

async fn rcpt_status(port: u16, rcpt: &str) -> Status {
    rcpt_status_at(([127, 0, 0, 1], port).into(), rcpt).await
}

async fn rcpt_status_at(addr: std::net::SocketAddr, rcpt: &str) -> Status {
    let mut c = TestConnection::open(addr).await.unwrap();
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
    let d = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    d.wait_tcp(port);
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
    // A change the running daemon cannot apply (the log facility) is named.
    let facility =
        config(port, "    a@nyborg.dk: ~\n").replace("log:\n", "log:\n  facility: local0\n");
    std::fs::write(&cfg, facility).unwrap();
    d.hup();
    d.wait_for_log("listen and log.* changes take effect only at restart");
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
    // The effective policy, with the example's values and the defaults.
    let shown = String::from_utf8_lossy(&out.stdout);
    for line in [
        "listen:               inet:127.0.0.1:8899",
        "mode:                 enforce (rejects)",
        "own domains:          nyborg.dk",
        "partner domains:      fredericia.dk",
        "outgoing networks:    127.0.0.0/8, ::1/128 (plus SASL-authenticated sessions)",
        "secure destinations:  sikker.partner.dk",
        "lookalike recipients: reject (550 5.1.2)",
        "retired mailboxes:    2",
        "unscannable content:  encrypted accept, limit reject, broken accept, unsupported accept",
        "fingerprints:         off",
        "  tempfail     451 4.7.1 Midlertidig fejl i mailfilteret.",
    ] {
        assert!(
            shown.contains(line),
            "check-config output lacks {line:?}:\n{shown}"
        );
    }
}

/// Polls (bounded) until RCPT to `rcpt` is answered with `want`'s kind.
async fn wait_rcpt(m: &InProcess, rcpt: &str, rejected: bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = rcpt_status_at(m.addr, rcpt).await;
        if matches!(s, Status::Reject { .. }) == rejected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "RCPT {rcpt}: still {s:?} after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn in_process_reload_applies_good_files_and_keeps_serving_on_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(&cfg, config(0, "    a@nyborg.dk: ~\n")).unwrap();
    let m = InProcess::start_reloading(&cfg).await;
    wait_rcpt(&m, "a@nyborg.dk", true).await;
    wait_rcpt(&m, "b@nyborg.dk", false).await;

    std::fs::write(
        &cfg,
        config(0, "    a@nyborg.dk: ~\n    b@nyborg.dk: c@nyborg.dk\n"),
    )
    .unwrap();
    m.reload();
    wait_rcpt(&m, "b@nyborg.dk", true).await;

    // A bad file is refused: b@ stays retired.
    std::fs::write(&cfg, config(0, "    not-an-address: ~\n")).unwrap();
    m.reload();
    // A FIFO in place of the file is refused without waiting for a writer.
    std::fs::remove_file(&cfg).unwrap();
    let made = Command::new("mkfifo").arg(&cfg).status().unwrap();
    assert!(made.success());
    m.reload();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(
        rcpt_status_at(m.addr, "b@nyborg.dk").await,
        Status::Reject { .. }
    ));
    // The listen address is restart-only: the running one is kept.
    assert_eq!(m.shared.daemon().listen.to_string(), "inet:127.0.0.1:0");
    let stopping = Instant::now();
    m.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(10),
        "shutdown waited for a reload"
    );
}
