//! End to end against a real Postfix (Debian package, a private instance on
//! 127.0.0.1 per test, see tests/support/postfix.rs) consulting the real
//! `cpr-milter run` daemon: what an SMTP client sees at each step, what lands
//! in the mailbox, and what is logged.
//!
//! Needs root and Postfix; `./scripts/test.sh` provides both. Set
//! `CPR_E2E_KEEP=1` to keep the temporary directories (maillog, Maildir,
//! milter log) for inspection.
//!
//! All CPR numbers here are synthetic test numbers (valid by the rules of docs/design.md).

mod support;

use std::time::Duration;
use support::milter::ORG_DOMAIN;
use support::postfix::{Options, Postfix};
use support::smtp::{send_mail, Outcome, Reply};
use support::stack::{inbox, sender, Stack};

/// A synthetic CPR number: 24 Oct 1985, passes mod-11.
const CPR: &str = "241085-1337";
/// How the audit line shows it.
const CPR_MASKED: &str = "2410XX-XXXX";
/// Another synthetic number (29 Feb 2000, passes mod-11), for the body case.
const CPR_BODY: &str = "290200-4001";
const LOG_WAIT: Duration = Duration::from_secs(5);

/// A plain text message; `subject` is put into the header as given (it may
/// be an RFC 2047 encoded word).
fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jens Hansen <{}>\r\n\
         To: <{}>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
         Message-ID: <e2e-{}@{ORG_DOMAIN}>\r\n\
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

/// A message whose text body is base64 encoded (lines of 76 characters).
fn base64_body_message(subject: &str, body: &str) -> Vec<u8> {
    let encoded = support::base64(body.as_bytes());
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    format!(
        "From: Jens Hansen <{}>\r\n\
         To: <{}>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
         Message-ID: <e2e-b64-{}@{ORG_DOMAIN}>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n\
         {}\r\n",
        sender(),
        inbox("borger"),
        std::process::id(),
        wrapped.join("\r\n")
    )
    .into_bytes()
}

/// The queue id from the reference line of a cpr-milter reply.
fn reference(reply: &Reply) -> String {
    let id = reply.reference();
    assert!(
        id.len() >= 6 && id.chars().all(|c| c.is_ascii_alphanumeric()),
        "reference {id:?} does not look like a Postfix queue id:\n{reply}"
    );
    id
}

/// The exact reply for a CPR number in the Subject (the built-in default).
fn expected_subject_reply(queue_id: &str) -> String {
    [
        "550-5.7.1 Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. \
         Fjern nummeret fra emne og filnavne og send igen.",
        "550-5.7.1 Rejected: the subject or a file name contains a Danish CPR number. \
         Remove the number from the subject and file names and send again.",
        &format!(
            "550 5.7.1 CPR-nummer i emne eller filnavn / CPR number in subject or file name \
             - ref {queue_id}"
        ),
    ]
    .join("\r\n")
}

/// Spellings of the test numbers that must never appear in a log or reply.
fn forbidden_spellings() -> Vec<String> {
    let mut v = Vec::new();
    for cpr in [CPR, CPR_BODY] {
        let (date, serial) = cpr.split_once('-').expect("DDMMYY-SSSS");
        v.push(format!("{date}-{serial}"));
        v.push(format!("{date}{serial}"));
        v.push(format!("{date} {serial}"));
    }
    v
}

fn assert_no_cpr_digits(what: &str, text: &str) {
    for spelling in forbidden_spellings() {
        assert!(
            !text.contains(&spelling),
            "{what} contains the test number {spelling}:\n{text}"
        );
    }
}

/// The message was refused with the 3-line `550 5.7.1` after DATA and
/// Postfix logged the milter's reject for that queue id. Returns the id.
fn assert_rejected_at_eom(st: &Stack, out: &Outcome) -> String {
    let reply = out
        .message
        .as_ref()
        .unwrap_or_else(|| panic!("message never sent:\n{}\n{}", out.transcript, st.context()));
    assert_eq!(reply.code, 550, "{}\n{}", out.transcript, st.context());
    assert_eq!(reply.lines.len(), 3, "{reply}");
    assert!(reply.lines[0].starts_with("550-5.7.1 Afvist"), "{reply}");
    assert!(reply.lines[1].starts_with("550-5.7.1 Rejected"), "{reply}");
    assert!(reply.lines[2].starts_with("550 5.7.1 "), "{reply}");
    assert!(reply.text().is_ascii(), "{reply}");
    let qid = reference(reply);
    st.postfix.wait_maillog(
        &format!("{qid}: milter-reject: END-OF-MESSAGE from "),
        LOG_WAIT,
    );
    qid
}

/// The milter's audit line for `qid`: a reject with the masked number.
fn assert_audited(st: &Stack, qid: &str, location: &str) -> String {
    let log = st
        .milter
        .wait_log(&format!("{qid}: action=reject"), LOG_WAIT);
    let line = log
        .lines()
        .find(|l| l.contains(&format!("{qid}: action=reject")))
        .expect("waited for it")
        .to_string();
    for part in [
        "stage=eom",
        "reply=\"550 5.7.1\"",
        &format!("from=<{}>", sender()),
        &format!("rcpt=<{}>", inbox("borger")),
        // The name part is whatever 127.0.0.1 resolves to on the machine.
        "[127.0.0.1] ",
        &format!("where={location}"),
        "mode=enforce",
    ] {
        assert!(line.contains(part), "audit line lacks {part:?}:\n{line}");
    }
    assert!(
        line.contains(&format!("cpr={CPR_MASKED}")) || line.contains("cpr=2902XX-XXXX"),
        "audit line lacks the masked number:\n{line}"
    );
    line
}

// ---------------------------------------------------------------------------
// Harness checks (no cpr-milter involved)

/// Without any milter, a clean mail is accepted and lands in the Maildir;
/// dot-stuffing survives the round trip.
#[test]
fn harness_without_milter_delivers_clean_mail() {
    let pf = Postfix::start(&Options::without_milter());
    let rcpt = inbox("borger");
    let out = send_mail(
        pf.port(),
        &sender(),
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
    assert!(text.contains("\n.leading dot line"), "{text}");
    assert_eq!(pf.queued(), 0);
}

/// Postfix told to consult a milter where nothing listens
/// (`milter_default_action = tempfail`) answers 4xx, so the client keeps the
/// mail; nothing is delivered and nothing waits in Postfix's queue.
#[test]
fn harness_unreachable_milter_tempfails() {
    let dead_port = support::free_port();
    let pf = Postfix::start(&Options::with_milter_port(dead_port));
    let rcpt = inbox("borger");
    let out = send_mail(pf.port(), &sender(), &[&rcpt], &message("Hej", "Hej"));
    assert!(out.decisive().is_transient(), "{}", out.transcript);
    assert!(!out.accepted(), "{}", out.transcript);
    pf.wait_maillog("connect to Milter service", LOG_WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert!(pf.delivered().is_empty());
    assert_eq!(pf.queued(), 0);
}

// ---------------------------------------------------------------------------
// Postfix consulting cpr-milter

/// Case 1: a clean mail passes the milter, gets 250 and is delivered.
#[test]
fn clean_mail_is_accepted_and_delivered() {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let out = st.send(
        &[&rcpt],
        &message(
            "Referat af moedet 2024-10-24",
            "Hej\r\n\r\nReferatet er vedhaeftet. Sag 2024-1337, tlf. 12 34 56 78.\r\n\r\nJens",
        ),
    );
    assert!(out.accepted(), "{}\n{}", out.transcript, st.context());
    let delivered = st.postfix.wait_delivered(1);
    assert_eq!(delivered.len(), 1);
    assert!(String::from_utf8_lossy(&delivered[0]).contains("Referat af moedet"));
    assert!(
        !st.milter.log().contains("action=reject"),
        "{}",
        st.context()
    );
}

/// Case 2: a CPR number in the Subject, plain and RFC 2047 encoded (B and
/// Q), is refused after DATA with the exact three-line 550 5.7.1 reply:
/// Danish, English, and the queue id as reference. Nothing is delivered.
#[test]
fn cpr_in_subject_is_rejected_with_exact_reply() {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let subjects = [
        format!("Vedr. borger {CPR}"),
        format!(
            "=?UTF-8?B?{}?=",
            support::base64(format!("Ansøgning – borger {CPR}").as_bytes())
        ),
        // ISO-8859-1 Q encoding, with the hyphen encoded too.
        format!("=?ISO-8859-1?Q?Ans=F8gning_{}?=", CPR.replace('-', "=2D")),
    ];
    for subject in &subjects {
        let out = st.send(&[&rcpt], &message(subject, "Hej\r\n\r\nSe emnet.\r\n"));
        let reply = out
            .message
            .as_ref()
            .unwrap_or_else(|| panic!("message never sent:\n{}\n{}", out.transcript, st.context()));
        let qid = assert_rejected_at_eom(&st, &out);
        assert_eq!(
            reply.text(),
            expected_subject_reply(&qid),
            "Subject: {subject}\n{}",
            out.transcript
        );
        eprintln!("Subject: {subject}\nclient saw:\n{reply}\n");
        let audit = assert_audited(&st, &qid, "header:Subject");
        eprintln!("audit line:\n{audit}\n");
        for r in out.replies() {
            assert_no_cpr_digits("an SMTP reply", &r.text());
        }
    }
    st.assert_settled_with(0);
}

/// Case 3: a CPR number in a base64 encoded text body, to a recipient
/// outside the organisation, is refused with 550 5.7.1; nothing delivered.
#[test]
fn cpr_in_base64_body_is_rejected() {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let out = st.send(
        &[&rcpt],
        &base64_body_message(
            "Din ansoegning",
            &format!("Kære borger\r\n\r\nVi har modtaget din ansøgning.\r\nCPR-nr.: {CPR_BODY}\r\n\r\nVenlig hilsen\r\nNyborg Kommune\r\n"),
        ),
    );
    let qid = assert_rejected_at_eom(&st, &out);
    let reply = out.message.as_ref().expect("checked");
    eprintln!("client saw:\n{reply}\n");
    assert!(reply.lines[2].contains(&qid), "{reply}");
    assert_audited(&st, &qid, "body:text/plain");
    for r in out.replies() {
        assert_no_cpr_digits("an SMTP reply", &r.text());
    }
    st.assert_settled_with(0);
}

/// Case 4: the milter stops (crash, restart): Postfix answers 4xx, the
/// client keeps the mail (nothing lost), nothing is delivered or queued.
/// Before the stop the same path delivers, so the 4xx is the milter's
/// absence and nothing else.
#[test]
fn milter_not_running_tempfails_and_nothing_is_lost() {
    let mut st = Stack::start("", "");
    let rcpt = inbox("borger");
    let before = st.send(&[&rcpt], &message("Foer stop", "Hej"));
    assert!(before.accepted(), "{}\n{}", before.transcript, st.context());
    st.postfix.wait_delivered(1);

    st.milter.stop();
    let out = st.send(&[&rcpt], &message("Efter stop", "Hej"));
    let decisive = out.decisive();
    assert!(
        decisive.is_transient(),
        "expected 4xx, got:\n{}\n{}",
        out.transcript,
        st.context()
    );
    assert!(decisive.text().contains("4.7.1"), "{decisive}");
    assert!(!out.accepted());
    eprintln!("client saw:\n{}\n", out.transcript);
    st.postfix.wait_maillog("milter-reject", LOG_WAIT);
    st.assert_settled_with(1);
}

/// Case 5: every reject has one audit line with the queue id and the masked
/// number, and the full digits of the test numbers appear in no log (milter,
/// maillog) and in no reply.
#[test]
fn audit_line_has_queue_id_and_mask_and_no_log_has_the_digits() {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let mut replies = Vec::new();

    let out = st.send(&[&rcpt], &message(&format!("Borger {CPR}"), "Hej"));
    let qid_subject = assert_rejected_at_eom(&st, &out);
    replies.extend(out.replies().into_iter().cloned());

    let out = st.send(
        &[&rcpt],
        &base64_body_message("Sagen", &format!("CPR-nr.: {CPR_BODY}\r\n")),
    );
    let qid_body = assert_rejected_at_eom(&st, &out);
    replies.extend(out.replies().into_iter().cloned());
    assert_ne!(qid_subject, qid_body);

    let line = assert_audited(&st, &qid_subject, "header:Subject");
    assert!(line.contains(&format!("cpr={CPR_MASKED}")), "{line}");
    let line = assert_audited(&st, &qid_body, "body:text/plain");
    assert!(line.contains("cpr=2902XX-XXXX"), "{line}");

    let milter_log = st.milter.log();
    for qid in [&qid_subject, &qid_body] {
        let n = milter_log
            .lines()
            .filter(|l| l.contains(&format!("{qid}: action=")))
            .count();
        assert_eq!(n, 1, "expected one audit line for {qid}:\n{milter_log}");
    }
    assert_no_cpr_digits("the milter log", &milter_log);
    assert_no_cpr_digits("the Postfix maillog", &st.postfix.maillog());
    for r in &replies {
        assert_no_cpr_digits("an SMTP reply", &r.text());
    }
}

/// RCPT stage: a retired mailbox is refused at RCPT with 550 5.1.6 while the
/// other recipient of the same transaction is accepted and gets the mail.
#[test]
fn retired_recipient_is_refused_while_the_other_is_delivered() {
    let retired = format!("gammel.postkasse@{ORG_DOMAIN}");
    let st = Stack::start(
        "",
        &format!("recipients:\n  retired:\n    {retired}: ny.postkasse@{ORG_DOMAIN}\n"),
    );
    let rcpt = inbox("borger");
    let out = st.send(&[&retired, &rcpt], &message("Moede", "Hej"));
    let (_, refused) = &out.rcpts[0];
    let (_, ok) = &out.rcpts[1];
    eprintln!("client saw:\n{}\n", out.transcript);
    assert_eq!(refused.code, 550, "{}\n{}", out.transcript, st.context());
    assert!(
        refused
            .lines
            .iter()
            .all(|l| l.get(3..).is_some_and(|s| s[1..].starts_with("5.1.6 "))),
        "{refused}"
    );
    assert!(
        refused
            .text()
            .contains(&format!("ny.postkasse@{ORG_DOMAIN}")),
        "{refused}"
    );
    assert_eq!(ok.code, 250, "{}", out.transcript);
    assert!(out.accepted(), "{}\n{}", out.transcript, st.context());
    let delivered = st.postfix.wait_delivered(1);
    assert_eq!(delivered.len(), 1);
    st.milter.wait_log("stage=rcpt", LOG_WAIT);
}

/// Attachment extraction through the real Postfix: a DOCX attachment whose body carries a
/// CPR number split across Word runs is refused with 550 5.7.1, and the
/// audit line names the attachment and the part inside it.
#[test]
fn cpr_in_docx_attachment_is_rejected_and_the_audit_names_the_part() {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/extract/docx.eml");
    let raw = std::fs::read(fixture).unwrap_or_else(|e| panic!("{fixture}: {e}"));
    let out = st.send(&[&rcpt], &raw);
    let qid = assert_rejected_at_eom(&st, &out);
    assert_audited(&st, &qid, "attachment:rapport.docx:word/document.xml");
    st.assert_settled_with(0);
}
