//! The daemon on a unix socket (the recommended transport, docs/design.md): the
//! socket is created with mode 0660 whatever the umask, a stale socket file
//! from an earlier run does not stop it, mail is judged over it, and the file
//! is removed at SIGTERM.

mod support;

use indymilter_test::{Status, TestConnection};
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

    conn.connect("client", ([127, 0, 0, 1], 40000))
        .await
        .unwrap();
    conn.helo("client").await.unwrap();
    conn.mail(["<jens@nyborg.dk>"]).await.unwrap();
    conn.rcpt(["<b@example.org>"]).await.unwrap();
    conn.data().await.unwrap();
    conn.header("Subject", "Borger 241085-1337").await.unwrap();
    conn.eoh().await.unwrap();
    let (_, status) = conn.eom().await.unwrap();
    assert!(matches!(status, Status::Reject { .. }), "{status:?}");
    conn.close().await.unwrap();

    assert!(daemon.terminate().success(), "SIGTERM is a clean stop");
    assert!(!sock.exists(), "socket file removed at stop");
}
