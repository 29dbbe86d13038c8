//! Admission in the running milter (in process, over 127.0.0.1): silent
//! connections are closed after the idle timeout, connections past the caps
//! are closed at once, and a mail that gets no inspection slot in time is
//! answered 451 instead of waiting for the MTA's timeout.

use cpr_milter::admission::AdmissionSettings;
use cpr_milter::Shared;
use cpr_milter_core::Inspector;
use indymilter_test::{Status, TestConnection};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

const CONFIG: &str = "listen: inet:127.0.0.1:0\norganisation:\n  domains: [nyborg.dk]\n";

async fn start(settings: AdmissionSettings) -> (SocketAddr, std::sync::Arc<Shared>) {
    let config = cpr_milter_core::config::parse(CONFIG, "test.yaml").unwrap();
    let shared = Shared::with_admission(Inspector::new(config, None), &settings);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = shared.clone();
    tokio::spawn(async move {
        cpr_milter::run(listener, s, std::future::pending::<()>())
            .await
            .unwrap();
    });
    (addr, shared)
}

/// Time until the server closes `c` (reads EOF or a reset), bounded.
async fn closed_after(mut c: TcpStream, bound: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    let mut buf = [0u8; 64];
    match tokio::time::timeout(bound, c.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Some(t0.elapsed()),
        Ok(Ok(_)) | Err(_) => None,
    }
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let (addr, _shared) = start(AdmissionSettings {
        idle_timeout: Duration::from_secs(1),
        ..AdmissionSettings::default()
    })
    .await;
    let c = TcpStream::connect(addr).await.unwrap();
    let after = closed_after(c, Duration::from_secs(20)).await;
    let after = after.expect("the idle connection was closed");
    assert!(
        after >= Duration::from_millis(900),
        "closed too early: {after:?}"
    );
}

#[tokio::test]
async fn connections_past_the_per_peer_cap_are_closed_and_places_come_back() {
    let (addr, shared) = start(AdmissionSettings {
        max_connections_per_peer: 2,
        ..AdmissionSettings::default()
    })
    .await;
    let a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    let c = TcpStream::connect(addr).await.unwrap();
    assert!(
        closed_after(c, Duration::from_secs(10)).await.is_some(),
        "the third connection from the same address is closed"
    );
    drop(a);
    // The place is given back once the server has seen the close.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let peer = cpr_milter::admission::Peer::Ip([127, 0, 0, 1].into());
        if shared.admission().open_connections(&peer).1 < 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the place was not given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut d = TestConnection::open(addr).await.unwrap();
    let status = d.connect("client", ([127, 0, 0, 1], 4000)).await.unwrap();
    assert_eq!(status, Status::Continue, "a freed place is usable");
}

#[tokio::test]
async fn no_slot_within_the_wait_is_a_451_busy() {
    let (addr, shared) = start(AdmissionSettings {
        light_slots: 1,
        heavy_slots: 1,
        slot_wait: Duration::from_secs(1),
        ..AdmissionSettings::default()
    })
    .await;
    // Every slot taken by other mail.
    let a = shared
        .admission()
        .inspection_slot(Some("x"), cpr_milter::admission::Weight::Light)
        .await
        .unwrap();
    let b = shared
        .admission()
        .inspection_slot(Some("y"), cpr_milter::admission::Weight::Light)
        .await
        .unwrap();
    let mut c = TestConnection::open(addr).await.unwrap();
    c.connect("client", ([127, 0, 0, 1], 4000)).await.unwrap();
    c.helo("client").await.unwrap();
    c.mail(["<jens@nyborg.dk>"]).await.unwrap();
    c.rcpt(["<b@example.org>"]).await.unwrap();
    c.data().await.unwrap();
    c.header("Subject", "hej").await.unwrap();
    c.eoh().await.unwrap();
    c.body(b"hej\r\n".to_vec()).await.unwrap();
    let t0 = Instant::now();
    let (_, status) = c.eom().await.unwrap();
    let waited = t0.elapsed();
    match status {
        Status::Tempfail { .. } => {}
        other => panic!("expected 451, got {other:?}"),
    }
    assert!(
        waited < Duration::from_secs(10),
        "answered after {waited:?}"
    );
    drop((a, b));
    c.close().await.unwrap();
}
