//! The container image and the compose example, end to end: compose.yaml's
//! cpr-milter and demo Postfix containers on their compose network, the
//! client on the published port of 127.0.0.1 (tests/support/compose.rs).
//!
//! Needs a Docker engine and the locally built Debian base image
//! (`./scripts/install-docker-images.sh`, which scripts/test.sh runs).
//! Without them the test reports itself skipped; under CI it fails.
//!
//! All CPR numbers here are synthetic test numbers (valid date, mod-11).

mod support;

use std::time::Duration;
use support::compose::{self, ComposeStack};
use support::skip::skip_unavailable;
use support::smtp::{last_line, send_mail, Outcome};

/// A synthetic CPR number: 24 Oct 1985, passes mod-11.
const CPR: &str = "241085-1337";
const SENDER: &str = "jens@nyborg.dk";
const GOOD: &str = "borger@inbox.test";

fn message(subject: &str) -> Vec<u8> {
    format!(
        "From: Jens Hansen <{SENDER}>\r\n\
         To: <{GOOD}>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hej\r\n"
    )
    .into_bytes()
}

fn assert_no_cpr_digits(what: &str, text: &str) {
    let (date, serial) = CPR.split_once('-').expect("DDMMYY-SSSS");
    for spelling in [
        format!("{date}-{serial}"),
        format!("{date}{serial}"),
        format!("{date} {serial}"),
    ] {
        assert!(
            !text.contains(&spelling),
            "{what} contains the test number {spelling}:\n{text}"
        );
    }
}

fn show(what: &str, out: &Outcome) {
    eprintln!("{what}, client saw:\n{}\n", out.transcript);
}

/// One stack for all cases (bringing it up is the slow part):
/// clean → 250 and delivered; CPR in the Subject → the exact 550 5.7.1
/// lines; a lookalike → 550 5.1.2 while the good recipient gets the mail;
/// the milter container stopped → 4xx and nothing queued; started again →
/// healthy, and the same mail goes through; `docker logs` of the milter
/// holds the audit lines and no digits of the number.
#[test]
fn compose_stack_polices_mail_end_to_end() {
    const NAME: &str = "compose_stack_polices_mail_end_to_end";
    if let Some(reason) = compose::unavailable() {
        skip_unavailable(NAME, &reason);
        return;
    }
    compose::build_images(std::path::Path::new(env!("CARGO_BIN_EXE_cpr-milter")))
        .unwrap_or_else(|e| panic!("building the images failed: {e}"));
    // The image: an unprivileged user, the milter as entry point, the
    // configuration under /etc/cpr-milter/, a health check.
    let config = compose::run(
        "docker",
        &[
            "image",
            "inspect",
            "-f",
            "{{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Healthcheck.Test}}",
            compose::MILTER_IMAGE,
        ],
        &[],
        Duration::from_secs(60),
    )
    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config,
        "cpr-milter [\"/usr/bin/cpr-milter\"] [\"run\",\"--config\",\"/etc/cpr-milter/milter.yaml\"] \
         [\"CMD\",\"/usr/local/bin/cpr-milter-healthcheck\"]"
    );

    let stack = ComposeStack::up();
    let port = stack.port();
    let ctx = || stack.context();

    // Clean mail.
    let out = send_mail(port, SENDER, &[GOOD], &message("Moede i morgen"));
    show("clean mail", &out);
    assert!(out.accepted(), "{}\n{}", out.transcript, ctx());
    let delivered = stack.wait_delivered(1);
    assert!(
        delivered[0].contains("Subject: Moede i morgen"),
        "{}",
        delivered[0]
    );

    // CPR number in the Subject.
    let out = send_mail(
        port,
        SENDER,
        &[GOOD],
        &message(&format!("Vedr. borger {CPR}")),
    );
    show("CPR in the Subject", &out);
    let reply = out
        .message
        .as_ref()
        .unwrap_or_else(|| panic!("{}\n{}", out.transcript, ctx()));
    let qid = reply.reference();
    assert_eq!(
        reply.text(),
        [
            "550-5.7.1 Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. \
             Fjern nummeret fra emne og filnavne og send igen."
                .to_string(),
            "550-5.7.1 Rejected: the subject or a file name contains a Danish CPR number. \
             Remove the number from the subject and file names and send again."
                .to_string(),
            format!(
                "550 5.7.1 {}",
                last_line(
                    "CPR-nummer i emne eller filnavn / CPR number in subject or file name",
                    &qid
                )
            ),
        ]
        .join("\r\n"),
        "{}",
        out.transcript
    );

    // A lookalike recipient next to the good one.
    let lookalike = "sag@fred.dk";
    let out = send_mail(port, SENDER, &[lookalike, GOOD], &message("Sagen"));
    show("lookalike recipient", &out);
    let refused = &out.rcpts[0].1;
    let r = refused.reference();
    assert_eq!(
        refused.text(),
        format!(
            "550-5.1.2 Afvist: domaenet fred.dk ligner fredericia.dk. Mente du fredericia.dk? \
             Ret adressen og send igen.\r\n\
             550-5.1.2 Rejected: the domain fred.dk looks like fredericia.dk. Did you mean \
             fredericia.dk? Correct the address and send again.\r\n\
             550 5.1.2 {}",
            last_line("Mente du fredericia.dk? / Did you mean fredericia.dk?", &r)
        ),
        "{}",
        out.transcript
    );
    assert!(out.accepted(), "{}\n{}", out.transcript, ctx());
    stack.wait_delivered(2);

    // The milter container stopped: tempfail, nothing queued or delivered.
    stack.stop("cpr-milter");
    let out = send_mail(port, SENDER, &[GOOD], &message("Under nedetid"));
    show("milter container stopped", &out);
    let decisive = out.decisive();
    assert!(decisive.is_transient(), "{}\n{}", out.transcript, ctx());
    assert!(decisive.text().contains("4.7.1"), "{decisive}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stack.delivered().len(), 2, "{}", ctx());
    assert!(
        stack.queue().contains("Mail queue is empty"),
        "{}",
        stack.queue()
    );

    // Started again: healthy, and the client's retry goes through.
    stack.start("cpr-milter");
    stack.wait_healthy("cpr-milter");
    let out = send_mail(port, SENDER, &[GOOD], &message("Under nedetid"));
    show("milter container started again", &out);
    assert!(out.accepted(), "{}\n{}", out.transcript, ctx());
    let delivered = stack.wait_delivered(3);
    assert!(
        delivered
            .iter()
            .any(|m| m.contains("Subject: Under nedetid")),
        "{}",
        ctx()
    );

    // docker logs: the audit lines, never the digits.
    let logs = stack.logs("cpr-milter");
    let audit = logs
        .lines()
        .find(|l| l.contains(&format!("{qid}: action=reject rule=cpr.subject")))
        .unwrap_or_else(|| panic!("no audit line for {qid} in docker logs:\n{logs}"));
    eprintln!("docker logs (cpr-milter):\n{logs}\n");
    for part in [
        "stage=eom",
        "reply=\"550 5.7.1\"",
        "cpr=2410XX-XXXX",
        "mode=enforce",
    ] {
        assert!(audit.contains(part), "audit line lacks {part:?}:\n{audit}");
    }
    assert!(
        logs.contains(&format!("rcpt=<{lookalike}>")) && logs.contains("rule=recipient.lookalike"),
        "{logs}"
    );
    assert_no_cpr_digits("docker logs of cpr-milter", &logs);
    assert_no_cpr_digits("docker logs of postfix", &stack.logs("postfix"));
}
