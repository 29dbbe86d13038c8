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

    send_cpr_subject_mail(port, "5A6B7C8D").await;

    let lines = receive_until(&sock, "action=reject");
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
    daemon.wait_for_log("warning: syslog unavailable (no syslog socket at ");
    daemon.wait_for_log("starting on inet:127.0.0.1");
}

/// A socket file nobody listens on (a syslog daemon that died) is named as
/// such, not as a missing socket.
#[test]
fn stale_syslog_socket_is_reported_as_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    drop(UnixDatagram::bind(&sock_path).unwrap()); // leaves the file behind
    let port = support::free_port();
    let cfg = write_config(dir.path(), port, &sock_path);
    let daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    daemon.wait_tcp(port);
    daemon.wait_for_log(&format!(
        "warning: syslog unavailable (nothing listening on {}",
        sock_path.display()
    ));
}

/// No syslog at start; the syslog daemon comes up later: the audit lines
/// after that arrive there, without restarting the milter, and stderr says
/// that logging moved back.
#[tokio::test]
async fn syslog_that_appears_later_gets_later_audit_lines_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let port = support::free_port();
    let cfg = write_config(dir.path(), port, &sock_path);
    let daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    daemon.wait_tcp(port);
    daemon.wait_for_log("warning: syslog unavailable (no syslog socket at ");

    // Before syslog exists, the audit line goes to stderr.
    send_cpr_subject_mail(port, "1A2B3C4D").await;
    daemon.wait_for_log("1A2B3C4D: action=reject");

    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send_cpr_subject_mail(port, "5E6F7A8B").await;
    let lines = receive_until(&sock, "5E6F7A8B: action=reject");
    assert!(
        lines.iter().any(|l| l.contains("syslog reachable again")),
        "{lines:?}"
    );
    daemon.wait_for_log("syslog reachable again");
    assert!(
        !daemon.log_text().contains("5E6F7A8B"),
        "the line after syslog came back also went to stderr:\n{}",
        daemon.log_text()
    );
}

/// Syslog works, and the milter cannot start (its port is taken): the error
/// is in syslog and also on stderr, where whoever started it looks.
#[test]
fn fatal_start_up_error_is_on_stderr_while_syslog_works() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let cfg = write_config(dir.path(), port, &sock_path);
    let mut daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    let status = daemon
        .wait_exit()
        .expect("the milter exits when it cannot listen");
    assert_eq!(status.code(), Some(1), "{}", daemon.log_text());

    let stderr = daemon.log_text();
    assert!(
        stderr.contains(&format!("error: cannot listen on inet:127.0.0.1:{port}")),
        "{stderr}"
    );
    let lines = receive_until(&sock, "cannot listen on");
    // <19> = facility mail (2) * 8 + severity error (3).
    assert!(lines.last().unwrap().starts_with("<19>"), "{lines:?}");
    // Ordinary lines stay in syslog only.
    assert!(!stderr.contains("starting on"), "{stderr}");
}

/// A configuration logging to syslog at `socket`, listening on `port`.
fn write_config(dir: &std::path::Path, port: u16, socket: &std::path::Path) -> std::path::PathBuf {
    let cfg = dir.join("milter.yaml");
    std::fs::write(
        &cfg,
        format!(
            "listen: inet:127.0.0.1:{port}\norganisation:\n  domains: [nyborg.dk]\nlog:\n  destination: syslog\n  facility: mail\n  syslog_socket: {}\n",
            socket.display()
        ),
    )
    .unwrap();
    cfg
}

/// One outgoing mail with a CPR number in the Subject, which is rejected.
async fn send_cpr_subject_mail(port: u16, queue_id: &str) {
    let mut c = TestConnection::open(("127.0.0.1", port)).await.unwrap();
    c.connect("client", ([127, 0, 0, 1], 40000)).await.unwrap();
    c.helo("client").await.unwrap();
    c.macros(indymilter::MacroStage::Mail, [("i", queue_id)])
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
}

/// Lines received on `sock` up to and including the first containing
/// `needle` (each receive bounded by the socket's read timeout).
fn receive_until(sock: &UnixDatagram, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut buf = vec![0u8; 8192];
    while !lines.iter().any(|l: &String| l.contains(needle)) {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no {needle:?} on the socket ({e}); got {lines:?}"));
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    lines
}
