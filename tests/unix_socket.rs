//! The daemon on a unix socket (the recommended transport, docs/design.md): the
//! socket is created with mode 0660 whatever the umask, a stale socket file
//! from an earlier run does not stop it, mail is judged over it, and the file
//! is removed at SIGTERM. Over it the steps that only collect are not
//! answered when the MTA offers that, and are answered when it does not.

mod support;

use indymilter_test::{ProtoOpts, Status, TestConnection};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use support::daemon::Daemon;

#[tokio::test]
async fn unix_socket_serves_with_group_permissions_and_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("cpr-milter.sock");
    // A socket file left behind by a crashed run.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(
        &cfg,
        format!(
            "listen: unix:{}\nlog:\n  destination: stderr\n",
            sock.display()
        ),
    )
    .unwrap();
    let daemon = Daemon::spawn(&cfg, &dir.path().join("stderr.log"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        if let Ok(c) = TestConnection::configure().open_unix(&sock).await {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "milter did not come up on {}",
            sock.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);

    let quiet = ProtoOpts::NOREPLY_CONNECT
        | ProtoOpts::NOREPLY_HELO
        | ProtoOpts::NOREPLY_DATA
        | ProtoOpts::NOREPLY_HEADER
        | ProtoOpts::NOREPLY_EOH
        | ProtoOpts::NOREPLY_BODY;
    assert!(conn.negotiated_opts().contains(quiet));
    assert!(!conn.negotiated_opts().contains(ProtoOpts::NOREPLY_RCPT));
    assert_eq!(rejected_subject(&mut conn).await, Status::Noreply);
    conn.close().await.unwrap();

    // An MTA that offers no "no reply" options gets an answer at every step.
    let mut conn = TestConnection::configure()
        .available_opts(ProtoOpts::all().difference(quiet))
        .open_unix(&sock)
        .await
        .unwrap();
    assert!(!conn.negotiated_opts().intersects(quiet));
    assert_eq!(rejected_subject(&mut conn).await, Status::Continue);
    conn.close().await.unwrap();

    assert!(daemon.terminate().success(), "SIGTERM is a clean stop");
    assert!(!sock.exists(), "socket file removed at stop");
}

/// Sends a mail with a CPR number in its subject, asserts that it is
/// rejected at end of message, and returns what every collecting step
/// (connect, HELO, DATA, header, end of headers, body) was answered, which
/// must be the same for all of them.
async fn rejected_subject(conn: &mut TestConnection) -> Status {
    let mut quiet = vec![conn
        .connect("client", ([127, 0, 0, 1], 40000))
        .await
        .unwrap()];
    quiet.push(conn.helo("client").await.unwrap());
    assert_eq!(
        conn.mail(["<jens@nyborg.dk>"]).await.unwrap(),
        Status::Continue
    );
    assert_eq!(
        conn.rcpt(["<b@example.org>"]).await.unwrap(),
        Status::Continue
    );
    quiet.push(conn.data().await.unwrap());
    quiet.push(conn.header("Subject", "Borger 241085-1337").await.unwrap());
    quiet.push(conn.eoh().await.unwrap());
    quiet.push(conn.body(b"Hej\r\n".to_vec()).await.unwrap());
    let (_, status) = conn.eom().await.unwrap();
    assert!(matches!(status, Status::Reject { .. }), "{status:?}");
    assert!(quiet.windows(2).all(|w| w[0] == w[1]), "{quiet:?}");
    quiet.remove(0)
}
