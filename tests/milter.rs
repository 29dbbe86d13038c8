//! The milter driven in-process over 127.0.0.1 with indymilter-test: one full
//! transaction per case, asserting the exact reply at each stage.

mod support;

use indymilter::MacroStage;
use indymilter_test::{Status, TestConnection};
use std::net::SocketAddr;
use support::inprocess::InProcess;

const CONFIG: &str = "\
listen: inet:127.0.0.1:0
organisation:
  domains: [nyborg.dk]
  partner_domains: [fredericia.dk]
  networks: [10.0.0.0/8, 127.0.0.0/8]
cpr:
  secure_destinations: [sikker.partner.dk]
recipients:
  retired:
    gammel@nyborg.dk: ny@nyborg.dk
    nedlagt@nyborg.dk: ~
";

type Milter = InProcess;

/// Sends one message; returns the status of each RCPT and of end of message.
async fn transaction(
    addr: SocketAddr,
    client: &str,
    auth: Option<&str>,
    rcpts: &[&str],
    headers: &[(&str, &str)],
    body: &str,
) -> (Vec<Status>, Status) {
    let mut conn = TestConnection::open(addr).await.unwrap();
    let ip: std::net::IpAddr = client.parse().unwrap();
    assert_eq!(
        conn.connect("client.example", (ip, 40000)).await.unwrap(),
        Status::Continue
    );
    assert_eq!(conn.helo("client.example").await.unwrap(), Status::Continue);
    let mut mail_macros = vec![("i", "4F1A2B3C")];
    if let Some(a) = auth {
        mail_macros.push(("{auth_authen}", a));
    }
    conn.macros(MacroStage::Mail, mail_macros).await.unwrap();
    assert_eq!(
        conn.mail(["<jens@nyborg.dk>"]).await.unwrap(),
        Status::Continue
    );
    let mut rcpt_status = Vec::new();
    for r in rcpts {
        rcpt_status.push(conn.rcpt([format!("<{r}>")]).await.unwrap());
    }
    assert_eq!(conn.data().await.unwrap(), Status::Continue);
    for (n, v) in headers {
        assert_eq!(conn.header(*n, *v).await.unwrap(), Status::Continue);
    }
    assert_eq!(conn.eoh().await.unwrap(), Status::Continue);
    assert_eq!(
        conn.body(body.as_bytes().to_vec()).await.unwrap(),
        Status::Continue
    );
    conn.macros(MacroStage::Eom, [("i", "4F1A2B3C")])
        .await
        .unwrap();
    let (_, status) = conn.eom().await.unwrap();
    conn.close().await.unwrap();
    (rcpt_status, status)
}

fn reject_text(s: &Status) -> String {
    match s {
        Status::Reject { message: Some(m) } | Status::Tempfail { message: Some(m) } => {
            m.to_string_lossy().into_owned()
        }
        other => panic!("expected a reply with text, got {other:?}"),
    }
}

const SUBJECT_REPLY: &str = "550-5.7.1 Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. Fjern nummeret fra emne og filnavne og send igen.\r\n\
550-5.7.1 Rejected: the subject or a file name contains a Danish CPR number. Remove the number from the subject and file names and send again.\r\n\
550 5.7.1 CPR-nummer i emne eller filnavn / CPR number in subject or file name - ref 4F1A2B3C";

#[tokio::test]
async fn clean_mail_is_accepted() {
    let m = Milter::start(CONFIG).await;
    let (r, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "Mødeindkaldelse 24/10")],
        "Hej, vi ses kl. 10.\r\n",
    )
    .await;
    assert_eq!(r, vec![Status::Continue]);
    assert_eq!(s, Status::Accept);
    m.stop().await;
}

#[tokio::test]
async fn cpr_in_subject_gets_the_exact_multiline_reply() {
    let m = Milter::start(CONFIG).await;
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "Sag om borger 241085-1337")],
        "Hej\r\n",
    )
    .await;
    assert_eq!(reject_text(&s), SUBJECT_REPLY);
    m.stop().await;
}

#[tokio::test]
async fn cpr_in_encoded_subject_is_rejected_even_to_own_domain() {
    let m = Milter::start(CONFIG).await;
    // "Borger 241085-1337" as an RFC 2047 base64 encoded word.
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["kollega@nyborg.dk"],
        &[("Subject", "=?utf-8?B?Qm9yZ2VyIDI0MTA4NS0xMzM3?=")],
        "Hej\r\n",
    )
    .await;
    assert_eq!(reject_text(&s), SUBJECT_REPLY);
    m.stop().await;
}

#[tokio::test]
async fn cpr_in_base64_body_to_outside_is_rejected_naming_the_recipient() {
    let m = Milter::start(CONFIG).await;
    // "CPR: 241085-1337\r\n" in base64.
    let headers = [
        ("Subject", "Sag"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "base64"),
    ];
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["kollega@nyborg.dk", "b@gmail.com"],
        &headers,
        "Q1BSOiAyNDEwODUtMTMzNw0K\r\n",
    )
    .await;
    let text = reject_text(&s);
    assert!(text.starts_with("550-5.7.1 Afvist: mailen indeholder et CPR-nummer, og <b@gmail.com> er ikke en sikker modtager."), "{text}");
    assert!(!text.contains("nyborg.dk>"), "{text}");
    assert!(!text.contains("1337"), "{text}");
    m.stop().await;
}

#[tokio::test]
async fn cpr_in_body_to_own_and_secure_domains_is_allowed() {
    let m = Milter::start(CONFIG).await;
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["kollega@nyborg.dk", "sag@sikker.partner.dk"],
        &[("Subject", "Sag")],
        "CPR: 241085-1337\r\n",
    )
    .await;
    assert_eq!(s, Status::Accept);
    m.stop().await;
}

#[tokio::test]
async fn incoming_mail_from_a_citizen_is_never_rejected() {
    // Not authenticated, not from an organisation network: the milter lets
    // the message go at MAIL, before any content is sent to it.
    let m = Milter::start(CONFIG).await;
    let mut conn = TestConnection::open(m.addr).await.unwrap();
    conn.connect("citizen.example", ([192, 0, 2, 7], 40000))
        .await
        .unwrap();
    conn.helo("citizen.example").await.unwrap();
    assert_eq!(
        conn.mail(["<borger@example.org>"]).await.unwrap(),
        Status::Accept
    );
    conn.close().await.unwrap();
    m.stop().await;
}

#[tokio::test]
async fn authenticated_session_from_outside_is_policed() {
    let m = Milter::start(CONFIG).await;
    let (_, s) = transaction(
        m.addr,
        "192.0.2.7",
        Some("jens"),
        &["b@gmail.com"],
        &[("Subject", "Borger 241085-1337")],
        "x\r\n",
    )
    .await;
    assert_eq!(reject_text(&s), SUBJECT_REPLY);
    m.stop().await;
}

#[tokio::test]
async fn retired_mailbox_is_rejected_at_rcpt_with_the_new_address() {
    let m = Milter::start(CONFIG).await;
    let (r, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["gammel@nyborg.dk", "nedlagt@nyborg.dk", "ok@nyborg.dk"],
        &[("Subject", "x")],
        "x\r\n",
    )
    .await;
    let first = reject_text(&r[0]);
    assert!(first.starts_with("550-5.1.6 Afvist: postkassen gammel@nyborg.dk er nedlagt. Skriv i stedet til ny@nyborg.dk."), "{first}");
    assert!(reject_text(&r[1]).contains("har ingen ny adresse"));
    assert_eq!(r[2], Status::Continue);
    assert_eq!(s, Status::Accept);
    m.stop().await;
}

#[tokio::test]
async fn lookalike_domain_is_rejected_at_rcpt() {
    let m = Milter::start(CONFIG).await;
    let (r, _) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["sag@fredericia.dk.com", "sag@fredericia.dk"],
        &[("Subject", "x")],
        "x\r\n",
    )
    .await;
    let text = reject_text(&r[0]);
    assert!(text.starts_with("550-5.1.2 Afvist: domaenet fredericia.dk.com ligner fredericia.dk. Mente du fredericia.dk?"), "{text}");
    assert_eq!(r[1], Status::Continue);
    m.stop().await;
}

#[tokio::test]
async fn monitor_mode_never_rejects() {
    let m = Milter::start(&format!("{CONFIG}mode: monitor\n")).await;
    let (r, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["sag@fredericia.dk.com", "b@gmail.com"],
        &[("Subject", "Borger 241085-1337")],
        "x\r\n",
    )
    .await;
    assert_eq!(r, vec![Status::Continue, Status::Continue]);
    assert_eq!(s, Status::Accept);
    m.stop().await;
}

#[tokio::test]
async fn oversized_message_is_unscannable_and_policy_decides() {
    let yaml = format!("{CONFIG}limits:\n  max_message_bytes: 1000\n  unscannable: tempfail\n");
    let m = Milter::start(&yaml).await;
    let body = "x".repeat(5000);
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "x")],
        &body,
    )
    .await;
    assert!(
        reject_text(&s).starts_with("451-4.7.1 Midlertidig fejl"),
        "{s:?}"
    );
    m.stop().await;
}

#[tokio::test]
async fn rcpt_reject_before_a_queue_id_quotes_the_milters_own_reference() {
    let m = Milter::start(CONFIG).await;
    let mut conn = TestConnection::open(m.addr).await.unwrap();
    conn.connect("client.example", ([10, 1, 2, 3], 40000))
        .await
        .unwrap();
    conn.helo("client.example").await.unwrap();
    conn.mail(["<jens@nyborg.dk>"]).await.unwrap();
    let text = reject_text(&conn.rcpt(["<nedlagt@nyborg.dk>"]).await.unwrap());
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with("550 5.1.6 Postkassen er nedlagt / Mailbox retired - ref M"),
        "{text}"
    );
    assert!(!text.contains("NOQUEUE"), "{text}");
    conn.abort().await.unwrap();
    conn.close().await.unwrap();
    m.stop().await;
}

#[tokio::test]
async fn mail_arriving_when_the_shared_buffer_budget_is_used_up_is_tempfailed() {
    let yaml = format!("{CONFIG}limits:\n  max_buffered_bytes: 2000\n");
    let m = Milter::start(&yaml).await;
    let (_, small) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "x")],
        "Hej\r\n",
    )
    .await;
    assert_eq!(small, Status::Accept);
    let big = "x".repeat(5000);
    let (_, s) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "x")],
        &big,
    )
    .await;
    assert!(
        reject_text(&s).starts_with("451-4.7.1 Midlertidig fejl"),
        "{s:?}"
    );
    // The budget is given back: the next small mail goes through.
    let (_, again) = transaction(
        m.addr,
        "10.1.2.3",
        None,
        &["b@gmail.com"],
        &[("Subject", "x")],
        "Hej\r\n",
    )
    .await;
    assert_eq!(again, Status::Accept);
    m.stop().await;
}
