//! The daemon binary under SIGHUP: a good file takes effect for new
//! transactions, a bad file is refused with its line and column while the
//! milter keeps serving on the old configuration.

mod support;

use indymilter_test::{Status, TestConnection};
use std::path::Path;
use std::process::Command;
use support::daemon::Daemon;
use support::free_port;

fn config(port: u16, retired: &str) -> String {
    format!("listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [nyborg.dk]\nrecipients:\n  retired:\n{retired}log:\n  destination: stderr\n")
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
        "unscannable content:  accept",
        "fingerprints:         off",
        "  tempfail     451 4.7.1 Midlertidig fejl i mailfilteret.",
    ] {
        assert!(
            shown.contains(line),
            "check-config output lacks {line:?}:\n{shown}"
        );
    }
}
