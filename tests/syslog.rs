//! Audit lines reach syslog: the daemon binary logs to a unix datagram socket
//! this test binds (the machines have no /dev/log, and a test must not touch
//! the real one), with facility mail, severity info, the program name and
//! pid, the masked number, and never the digits.

mod support;

use indymilter_test::{Status, TestConnection};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use support::daemon::Daemon;

#[tokio::test]
async fn audit_lines_go_to_syslog_with_facility_mail() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = support::free_port();
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(
        &cfg,
        format!(
            "listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [nyborg.dk]\nlog:\n  destination: syslog\n  facility: mail\n  syslog_socket: {}\n",
            sock_path.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    let pid = daemon.pid();
    daemon.wait_tcp(port);

    let mut c = TestConnection::open(("127.0.0.1", port)).await.unwrap();
    c.connect("client", ([127, 0, 0, 1], 40000)).await.unwrap();
    c.helo("client").await.unwrap();
    c.macros(indymilter::MacroStage::Mail, [("i", "5A6B7C8D")])
        .await
        .unwrap();
    c.mail(["<jens@nyborg.dk>"]).await.unwrap();
    c.rcpt(["<b@example.org>"]).await.unwrap();
    c.data().await.unwrap();
    c.header("Subject", "Borger 241085-1337").await.unwrap();
    c.eoh().await.unwrap();
    c.body(b"Hej\r\n".to_vec()).await.unwrap();
    let (_, status) = c.eom().await.unwrap();
    assert!(matches!(status, Status::Reject { .. }), "{status:?}");
    c.close().await.unwrap();

    let mut lines = Vec::new();
    let mut buf = vec![0u8; 8192];
    while !lines.iter().any(|l: &String| l.contains("action=reject")) {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no audit line on the socket ({e}); got {lines:?}"));
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    drop(daemon);

    assert!(lines[0].contains("starting on inet:127.0.0.1"), "{lines:?}");
    let audit = lines.iter().find(|l| l.contains("action=reject")).unwrap();
    // <22> = facility mail (2) * 8 + severity info (6), RFC 3164 framing.
    assert!(audit.starts_with("<22>"), "{audit}");
    assert!(
        audit.contains(&format!(
            "cpr-milter[{pid}]: 5A6B7C8D: action=reject rule=cpr.subject stage=eom"
        )),
        "{audit}"
    );
    assert!(audit.contains("cpr=2410XX-XXXX"), "{audit}");
    for l in &lines {
        assert!(
            !l.contains("241085-1337") && !l.contains("2410851337"),
            "digits in syslog: {l}"
        );
    }
}

/// No syslog daemon to talk to: the milter says so and logs to stderr
/// instead, so no audit line is lost.
#[test]
fn unreachable_syslog_falls_back_to_stderr_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let port = support::free_port();
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(
        &cfg,
        format!(
            "listen: inet:127.0.0.1:{port}\nlog:\n  destination: syslog\n  syslog_socket: {}\n",
            dir.path().join("no-such.sock").display()
        ),
    )
    .unwrap();
    let daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    daemon.wait_tcp(port);
    daemon.wait_for_log("warning: syslog unavailable");
    daemon.wait_for_log("starting on inet:127.0.0.1");
}
