//! Text in images through an injected provider (a fake one here: the core
//! is pure): recognised text is matched like any other, OCR's look-alike
//! letters are forgiven after a keyword, the per-message budget ends in
//! `unscannable` (limit), and a failing engine never breaks the scan.

mod common;

use common::{base64, zip_of};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cpr_milter_core::extract::{
    extract_with, Cause, ImageKind, ImageText, Limits, OcrBudget, OcrError,
};
use cpr_milter_core::{Action, Envelope, Inspector, Verdict};

/// Answers every image with `text` (or fails), counting the calls.
#[derive(Debug)]
struct Fake {
    text: Result<String, OcrError>,
    calls: AtomicUsize,
}

impl Fake {
    fn says(text: &str) -> Self {
        Fake {
            text: Ok(text.to_string()),
            calls: AtomicUsize::new(0),
        }
    }
}

impl ImageText for Fake {
    fn budget(&self) -> OcrBudget {
        OcrBudget::default()
    }
    fn read(&self, image: &[u8], kind: ImageKind, left: Duration) -> Result<String, OcrError> {
        assert_eq!(ImageKind::sniff(image), Some(kind));
        assert!(!left.is_zero());
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.text.clone()
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake image bytes";

/// A mail with `n` PNG attachments `scan-1.png` ….
fn mail_with_images(n: usize) -> Vec<u8> {
    let mut m = String::from(
        "From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: scanning\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nSee the scans.\r\n",
    );
    for i in 1..=n {
        m.push_str(&format!(
            "--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"scan-{i}.png\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64(PNG)
        ));
    }
    m.push_str("--b--\r\n");
    m.into_bytes()
}

fn inspector() -> Inspector {
    let yaml = "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n";
    Inspector::new(
        cpr_milter_core::config::parse(yaml, "test").expect("config"),
        None,
    )
}

fn judge(inspector: &Inspector, raw: &[u8]) -> Verdict {
    let env = Envelope {
        client_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        sender: "sagsbehandler@nyborg.dk".into(),
        recipients: vec!["modtager@example.com".into()],
        ..Envelope::default()
    };
    inspector.inspect_message(&env, raw)
}

#[test]
fn a_number_in_an_image_is_rejected_with_the_image_named() {
    let fake = Arc::new(Fake::says("Navn: Jens Hansen\nCPR-nr.: 241085-1337\n"));
    let v = judge(
        &inspector().with_image_text(fake.clone()),
        &mail_with_images(1),
    );
    assert_eq!(v.action, Action::Reject, "{v:?}");
    assert!(
        v.findings
            .iter()
            .any(|f| f.location.as_str().contains(".png")),
        "{:?}",
        v.findings
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn without_a_provider_or_with_clean_text_the_image_passes() {
    let v = judge(&inspector(), &mail_with_images(1));
    assert_eq!(v.action, Action::Accept, "{v:?}");
    let fake = Arc::new(Fake::says("Mødereferat 24. oktober, sag 2024-1337"));
    let v = judge(&inspector().with_image_text(fake), &mail_with_images(1));
    assert_eq!(v.action, Action::Accept, "{v:?}");
}

#[test]
fn look_alike_letters_after_a_keyword_are_read_as_digits() {
    let fake = Arc::new(Fake::says("CPR-nr.: 24lO8S-l337"));
    let v = judge(&inspector().with_image_text(fake), &mail_with_images(1));
    assert_eq!(v.action, Action::Reject, "{v:?}");
}

#[test]
fn the_twenty_first_image_is_unscannable_for_the_limit() {
    let fake = Fake::says("nothing here");
    let raw = mail_with_images(21);
    let out = extract_with(&raw, &Limits::default(), Some(&fake));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 20);
    let over: Vec<_> = out
        .unscannable
        .iter()
        .filter(|u| u.cause == Cause::Limit)
        .collect();
    assert_eq!(over.len(), 1, "{:?}", out.unscannable);
    assert!(over[0].location.contains("scan-21.png"), "{over:?}");
    assert!(over[0].reason.contains("20 images"), "{over:?}");
}

#[test]
fn a_failing_or_hanging_engine_gives_unscannable_never_a_crash() {
    for (err, cause) in [
        (OcrError::Failed("exit status 1".into()), Cause::Broken),
        (OcrError::TimedOut, Cause::Limit),
    ] {
        let fake = Fake {
            text: Err(err),
            calls: AtomicUsize::new(0),
        };
        let raw = mail_with_images(1);
        let out = extract_with(&raw, &Limits::default(), Some(&fake));
        assert!(out.segments.iter().all(|s| !s.ocr));
        assert!(
            out.unscannable
                .iter()
                .any(|u| u.cause == cause && u.location.contains("scan-1.png")),
            "{:?}",
            out.unscannable
        );
    }
}

/// A PNG header claiming `w` x `h` pixels (the fake engine needs no more).
fn png_of_size(w: u32, h: u32) -> Vec<u8> {
    let mut p = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    p.extend_from_slice(&w.to_be_bytes());
    p.extend_from_slice(&h.to_be_bytes());
    p.extend_from_slice(b"\x08\0\0\0\0 fake image data");
    p
}

/// A mail with one attachment `name` of content type `ctype`.
fn mail_with_file(name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: notat\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain\r\n\r\nSe vedhaeftede.\r\n--b\r\nContent-Type: {ctype}\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64(data)
    )
    .into_bytes()
}

#[test]
fn pictures_pasted_into_office_and_opendocument_files_are_read_but_not_icons() {
    let scan = png_of_size(1240, 1754);
    let icon = png_of_size(16, 16);
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        (
            "word/document.xml",
            b"<w:document><w:body><w:p><w:r><w:t>Se billedet</w:t></w:r></w:p></w:body></w:document>",
        ),
        ("word/media/image1.png", &scan),
        ("word/media/image2.png", &icon),
    ]);
    let odt = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        (
            "content.xml",
            b"<office:document-content><text:p>Se billedet</text:p></office:document-content>",
        ),
        ("Pictures/1000000.png", &scan),
        ("Pictures/bullet.png", &icon),
    ]);
    for (name, ctype, file, picture) in [
        (
            "notat.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            &docx,
            "attachment:notat.docx:word/media/image1.png",
        ),
        (
            "notat.odt",
            "application/vnd.oasis.opendocument.text",
            &odt,
            "attachment:notat.odt:Pictures/1000000.png",
        ),
    ] {
        let fake = Arc::new(Fake::says("CPR-nr.: 241085-1337"));
        let v = judge(
            &inspector().with_image_text(fake.clone()),
            &mail_with_file(name, ctype, file),
        );
        assert_eq!(v.action, Action::Reject, "{name}: {v:?}");
        assert!(
            v.findings.iter().any(|f| f.location.as_str() == picture),
            "{name}: {:?}",
            v.findings
        );
        assert_eq!(
            fake.calls.load(Ordering::SeqCst),
            1,
            "{name}: the icon is skipped"
        );
        // Without OCR the pictures are not even unpacked.
        let v = judge(&inspector(), &mail_with_file(name, ctype, file));
        assert_eq!(v.action, Action::Accept, "{name}: {v:?}");
    }
}
