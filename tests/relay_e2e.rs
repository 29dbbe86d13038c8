//! The common municipal topology, end to end: staff submit to an internal
//! server (here Postfix "A"), which relays everything to the gateway
//! (Postfix "B") that consults cpr-milter. B refuses during the SMTP
//! transaction, but the refusal is told to A, not to the person: what the
//! sender learns is A's bounce (or, while the milter is down, nothing until
//! A's `delay_warning_time`). These tests measure both.
//!
//! Two private Postfix instances on 127.0.0.1 (tests/support/postfix.rs);
//! A delivers the organisation's own domain into its Maildir, so the
//! sender's mailbox is A's Maildir. Needs root and Postfix.
//!
//! All CPR numbers here are synthetic test numbers (valid date, mod-11).

mod support;

use std::time::{Duration, Instant};
use support::milter::ORG_DOMAIN;
use support::postfix::{Options, Postfix};
use support::smtp::send_mail;
use support::stack::{inbox, sender, Stack};

/// A synthetic CPR number: 24 Oct 1985, passes mod-11.
const CPR: &str = "241085-1337";
/// A bounce must reach the sender within this (measured: about a second).
const BOUNCE_TIMEOUT: Duration = Duration::from_secs(20);
const LOG_WAIT: Duration = Duration::from_secs(10);

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jens Hansen <{}>\r\n\
         To: <{}>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
         Message-ID: <relay-{}@{ORG_DOMAIN}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         {body}\r\n",
        sender(),
        inbox("borger"),
        std::process::id()
    )
    .into_bytes()
}

/// The internal server A: relays everything to `gateway_port`, delivers
/// the organisation's domain (the sender's mailbox) into its Maildir. Its
/// own host name, or its SMTP client would take B's greeting for a loop.
fn internal_server(gateway_port: u16, extra: &[(&str, &str)]) -> Postfix {
    let mut options = Options::without_milter()
        .set("myhostname", "internal.e2e.test")
        .set("virtual_mailbox_domains", ORG_DOMAIN)
        .set("default_transport", "smtp")
        .set("relay_transport", "smtp")
        .set("relayhost", &format!("[127.0.0.1]:{gateway_port}"));
    for (k, v) in extra {
        options = options.set(k, v);
    }
    Postfix::start(&options)
}

/// The reference (B's queue id) from the text of a reply wherever it
/// appears, e.g. inside a bounce.
fn reference_in(text: &str) -> Option<String> {
    let (_, rest) = text.split_once(" - ref ")?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// Joins RFC 5322 folded lines (CRLF or LF followed by white space) and
/// collapses runs of white space, so text wrapped by the bounce daemon can
/// be searched for.
fn unfold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A CPR number in the Subject, submitted to A: A accepts (250), relays to
/// B, B's milter refuses at end of DATA, and A's bounce lands in the
/// sender's mailbox within seconds with the Danish and English text and the
/// reference, which is B's queue id (the one in B's maillog and the
/// milter's audit line). The bounce also returns the original message,
/// headers and all: the Subject with the number goes back to the sender.
#[test]
fn gateway_reject_reaches_the_sender_as_a_bounce_with_text_and_reference() {
    let gateway = Stack::start("", "");
    let internal = internal_server(gateway.postfix.port(), &[]);
    let subject = format!("Vedr. borger {CPR}");

    let submitted = Instant::now();
    let out = send_mail(
        internal.port(),
        &sender(),
        &[&inbox("borger")],
        &message(&subject, "Hej\r\n\r\nSe emnet.\r\n"),
    );
    assert!(
        out.accepted(),
        "A refused the submission:\n{}",
        out.transcript
    );
    let a_qid = out.queued_as().expect("A queued it");

    let bounces = support::poll(BOUNCE_TIMEOUT, || {
        let d = internal.delivered();
        (!d.is_empty()).then_some(d)
    })
    .unwrap_or_else(|| {
        panic!(
            "no bounce in the sender's mailbox after {BOUNCE_TIMEOUT:?}\n--- A:\n{}\n--- B:\n{}",
            internal.maillog(),
            gateway.context()
        )
    });
    let elapsed = submitted.elapsed();
    assert_eq!(bounces.len(), 1);
    let bounce = String::from_utf8_lossy(&bounces[0]).into_owned();
    eprintln!("bounce after {elapsed:?}:\n{bounce}\n");
    let flat = unfold(&bounce);

    // A's bounce, to the sender, about A's queue id.
    assert!(flat.contains(&format!("To: {}", sender())), "{bounce}");
    assert!(
        flat.contains("Undelivered Mail Returned to Sender"),
        "{bounce}"
    );
    assert!(
        flat.contains(&a_qid),
        "bounce lacks A's queue id {a_qid}:\n{bounce}"
    );
    // What B told A, every line, code and text.
    for part in [
        "550-5.7.1 Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. \
         Fjern nummeret fra emne og filnavne og send igen.",
        "550-5.7.1 Rejected: the subject or a file name contains a Danish CPR number. \
         Remove the number from the subject and file names and send again.",
        "550 5.7.1 CPR-nummer i emne eller filnavn / CPR number in subject or file name - ref ",
        "(in reply to end of DATA command)",
        "Status: 5.7.1",
    ] {
        assert!(flat.contains(part), "bounce lacks {part:?}:\n{bounce}");
    }
    let b_qid = reference_in(&flat).expect("reference in the bounce");
    gateway.postfix.wait_maillog(
        &format!("{b_qid}: milter-reject: END-OF-MESSAGE from "),
        LOG_WAIT,
    );
    let audit = gateway.milter.wait_log(
        &format!("{b_qid}: action=reject rule=cpr.subject"),
        LOG_WAIT,
    );
    assert!(!audit.contains(CPR), "{audit}");
    // Measured: the original message comes back, Subject included.
    assert!(
        bounce.contains(&format!("Subject: {subject}")),
        "the bounce no longer returns the original Subject:\n{bounce}"
    );
    assert!(elapsed < BOUNCE_TIMEOUT);
    // Nothing reached the recipient; A is done with the mail.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        gateway.postfix.delivered().is_empty(),
        "{}",
        gateway.context()
    );
    internal.wait_maillog(&format!("{a_qid}: removed"), LOG_WAIT);
    eprintln!("A queue id {a_qid}, B queue id (reference) {b_qid}, bounce after {elapsed:?}");
}

/// The milter down at the gateway: B answers 4xx, so A keeps the mail in
/// its queue and retries; nothing is lost and nothing leaves unchecked, but
/// the sender hears nothing until A's `delay_warning_time` (off by default
/// in Postfix). With it set, the sender gets A's "delayed mail" notice
/// carrying B's 4.7.1 reply, and the mail is still queued on A.
#[test]
fn milter_down_at_the_gateway_defers_on_the_internal_server_and_warns_the_sender() {
    let mut gateway = Stack::start("", "");
    gateway.milter.stop();
    // Short timers so the warning comes within the test (production: e.g.
    // delay_warning_time = 1h with the default back-off).
    let internal = internal_server(
        gateway.postfix.port(),
        &[
            ("delay_warning_time", "2s"),
            ("queue_run_delay", "1s"),
            ("minimal_backoff_time", "1s"),
            ("maximal_backoff_time", "2s"),
        ],
    );
    let out = send_mail(
        internal.port(),
        &sender(),
        &[&inbox("borger")],
        &message("Moede i morgen", "Hej"),
    );
    assert!(
        out.accepted(),
        "A refused the submission:\n{}",
        out.transcript
    );
    let a_qid = out.queued_as().expect("A queued it");
    internal.wait_maillog(&format!("{a_qid}: to=<{}>", inbox("borger")), LOG_WAIT);
    let log = internal.wait_maillog("status=deferred", LOG_WAIT);
    let deferral = log
        .lines()
        .find(|l| l.contains(&a_qid) && l.contains("status=deferred"))
        .expect("waited for it")
        .to_string();
    eprintln!("A's maillog:\n{deferral}\n");
    assert!(deferral.contains("4.7.1"), "{deferral}");

    let warnings = support::poll(BOUNCE_TIMEOUT, || {
        let d = internal.delivered();
        (!d.is_empty()).then_some(d)
    })
    .unwrap_or_else(|| panic!("no delay warning\n--- A:\n{}", internal.maillog()));
    let warning = String::from_utf8_lossy(&warnings[0]).into_owned();
    eprintln!("delay warning:\n{warning}\n");
    let flat = unfold(&warning);
    assert!(
        flat.contains("Delayed Mail (still being retried)"),
        "{warning}"
    );
    assert!(flat.contains("451 4.7.1"), "{warning}");
    assert!(flat.contains("Action: delayed"), "{warning}");
    // Nothing lost: still on A, nothing delivered past B.
    assert!(internal.queued() >= 1, "{}", internal.maillog());
    assert!(gateway.postfix.delivered().is_empty());
}
