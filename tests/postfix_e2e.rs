//! End to end against a real Postfix (Debian package, private instance on
//! 127.0.0.1, see tests/support/postfix.rs): what an SMTP client sees and
//! what lands in the mailbox.
//!
//! Needs root and Postfix; `./scripts/test.sh` provides both.

mod support;

use std::time::Duration;
use support::postfix::{Options, Postfix, INBOX_DOMAIN};
use support::smtp::send_mail;

const SENDER: &str = "jens@nyborg.dk";

fn inbox(local: &str) -> String {
    format!("{local}@{INBOX_DOMAIN}")
}

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jens <{SENDER}>\r\n\
         To: <{}>\r\n\
         Subject: {subject}\r\n\
         Message-ID: <e2e-{}@nyborg.dk>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         {body}\r\n",
        inbox("borger"),
        std::process::id()
    )
    .into_bytes()
}

/// Harness check: without any milter, a clean mail is accepted and lands in
/// the test Maildir.
#[test]
fn harness_without_milter_delivers_clean_mail() {
    let pf = Postfix::start(&Options::without_milter());
    let rcpt = inbox("borger");
    let out = send_mail(
        pf.port(),
        SENDER,
        &[&rcpt],
        &message(
            "Moede i morgen",
            "Hej\r\n.leading dot line\r\nVenlig hilsen",
        ),
    );
    assert!(out.accepted(), "{}", out.transcript);
    assert!(out.queued_as().is_some(), "{}", out.transcript);
    let delivered = pf.wait_delivered(1);
    assert_eq!(delivered.len(), 1);
    let text = String::from_utf8_lossy(&delivered[0]);
    assert!(text.contains("Subject: Moede i morgen"), "{text}");
    // Dot-stuffing survived the round trip.
    assert!(text.contains("\n.leading dot line"), "{text}");
    assert_eq!(pf.queued(), 0);
}

/// Harness check: Postfix told to consult a milter that is not running
/// (`milter_default_action = tempfail`) answers 4xx, so the client keeps the
/// mail; nothing is delivered and nothing waits in Postfix's queue.
#[test]
fn harness_milter_down_tempfails_and_delivers_nothing() {
    let dead_port = support::free_port();
    let pf = Postfix::start(&Options::with_milter_port(dead_port));
    let rcpt = inbox("borger");
    let out = send_mail(pf.port(), SENDER, &[&rcpt], &message("Hej", "Hej"));
    let decisive = out.decisive();
    assert!(decisive.is_transient(), "{}", out.transcript);
    assert!(!out.accepted(), "{}", out.transcript);
    assert!(
        out.replies()
            .iter()
            .all(|r| r.code != 250 || out.message.is_none()),
        "{}",
        out.transcript
    );
    pf.wait_maillog("milter", Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(500));
    assert!(pf.delivered().is_empty());
    assert_eq!(pf.queued(), 0);
}
