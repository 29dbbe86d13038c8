//! The Outlook and legacy Office readers, and OCR of a scanned PDF, end to
//! end: a real Postfix (private
//! instance on 127.0.0.1, tests/support/postfix.rs) consulting the real
//! `cpr-milter run` daemon refuses the leaking fixture with 550 5.7.1 and an
//! audit line naming the part inside the file, and delivers its clean twin.
//!
//! Needs root and Postfix, and for the scan Tesseract and the scanning
//! tools; `./scripts/test.sh` provides them all.

mod support;

use std::time::Duration;
use support::stack::{inbox, Stack};

const LOG_WAIT: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/extract/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The leaking fixture is refused at end of message and the audit line
/// names `location`; the clean twin is delivered.
fn refused_and_twin_delivered(leaking: &str, clean: &str, location: &str) {
    let st = Stack::start("", "");
    let rcpt = inbox("borger");
    let out = st.send(&[&rcpt], &fixture(leaking));
    let reply = out.message.as_ref().unwrap_or_else(|| {
        panic!(
            "{leaking} never sent:\n{}\n{}",
            out.transcript,
            st.context()
        )
    });
    assert_eq!(reply.code, 550, "{}\n{}", out.transcript, st.context());
    assert!(reply.lines[0].starts_with("550-5.7.1 "), "{reply}");
    let log = st.milter.wait_log(&format!("where={location}"), LOG_WAIT);
    let line = log
        .lines()
        .find(|l| l.contains("action=reject") && l.contains(&format!("where={location}")))
        .unwrap_or_else(|| panic!("no audit line for {location}:\n{log}"));
    assert!(line.contains("stage=eom"), "{line}");
    assert!(!line.contains("1337") && !line.contains("4001"), "{line}");

    let out = st.send(&[&rcpt], &fixture(clean));
    assert!(
        out.accepted(),
        "{clean}: {}\n{}",
        out.transcript,
        st.context()
    );
    st.assert_settled_with(1);
}

#[test]
fn outlook_item_attachment_is_refused_and_its_clean_twin_delivered() {
    refused_and_twin_delivered("fmt-msg.eml", "fmt-clean-msg.eml", "attachment:sag.msg:");
}

#[test]
fn winmail_dat_is_refused_and_its_clean_twin_delivered() {
    refused_and_twin_delivered(
        "fmt-tnef.eml",
        "fmt-clean-tnef.eml",
        "attachment:winmail.dat:",
    );
}

#[test]
fn word_97_attachment_is_refused_and_its_clean_twin_delivered() {
    refused_and_twin_delivered("fmt-doc.eml", "fmt-clean-doc.eml", "attachment:notat.doc:");
}

#[test]
fn scanned_pdf_is_refused_through_ocr_and_its_clean_twin_delivered() {
    // A black-and-white scan as a Group 4 fax image (tiff2pdf), read by
    // Tesseract because the milter runs with ocr.enabled.
    let dir = tempfile::tempdir().unwrap();
    let st = Stack::start("", "ocr:\n  enabled: true\n");
    let rcpt = inbox("borger");
    let mail = |stem: &str, line: &str| {
        let pdf = support::scans::tool_scanned_pdf(
            dir.path(),
            stem,
            &["Ansoegning om boligstoette", line],
            "g4",
        );
        support::scans::mail_with_type("application/pdf", &[("scan.pdf", &pdf)])
    };
    let out = st.send(&[&rcpt], &mail("leak", "CPR-nr.: 241085-1337"));
    let reply = out
        .message
        .as_ref()
        .unwrap_or_else(|| panic!("never sent:\n{}\n{}", out.transcript, st.context()));
    assert_eq!(reply.code, 550, "{}\n{}", out.transcript, st.context());
    let location = "attachment:scan.pdf:page1:image1";
    let log = st.milter.wait_log(&format!("where={location}"), LOG_WAIT);
    assert!(
        log.lines()
            .any(|l| l.contains("action=reject") && l.contains(&format!("where={location}"))),
        "no audit line for {location}:\n{log}"
    );
    let out = st.send(&[&rcpt], &mail("clean", "Sagsnummer: 2024-118"));
    assert!(out.accepted(), "{}\n{}", out.transcript, st.context());
    st.assert_settled_with(1);
}
