//! Every fixture format in fixtures/extract/ (made by
//! fixtures/gen/make_fixtures.py): the number is found in a segment with the
//! expected location, the whole-message inspection rejects it with 550 5.7.1
//! naming the attachment and part, and the clean twin is accepted.

use std::net::{IpAddr, Ipv4Addr};

mod common;

use cpr_milter_core::extract::{extract, Extracted, Limits, SegmentKind};
use cpr_milter_core::{Action, Envelope, Inspector};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/extract/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn inspector() -> Inspector {
    let yaml = "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n";
    Inspector::new(
        cpr_milter_core::config::parse(yaml, "test").expect("config"),
        None,
    )
}

fn outgoing() -> Envelope {
    Envelope {
        client_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        sender: "sagsbehandler@nyborg.dk".into(),
        recipients: vec!["modtager@example.com".into()],
        queue_id: Some("4F1A2B3C".into()),
        ..Envelope::default()
    }
}

fn dump(x: &Extracted) -> String {
    let mut s = String::new();
    for seg in &x.segments {
        s.push_str(&format!(
            "{:?} {} => {:?}\n",
            seg.kind, seg.location, seg.text
        ));
    }
    for u in &x.unscannable {
        s.push_str(&format!("UNSCANNABLE {} => {}\n", u.location, u.reason));
    }
    s
}

/// `location` holds `number` (digits compared after normalisation).
fn assert_found(name: &str, location: &str, number: &str) -> Extracted<'static> {
    // Leaked so the borrowed segments may outlive this helper (tests only).
    let raw: &'static [u8] = fixture(name).leak();
    let x = extract(raw, &Limits::default());
    let hit = x
        .segments
        .iter()
        .any(|s| s.location == location && digits(&s.text).contains(&digits(number)));
    assert!(hit, "{name}: no {number} at {location}\n{}", dump(&x));
    x
}

/// Inspection rejects with 550 5.7.1 and a finding at `location`.
fn assert_rejected(name: &str, location: &str) {
    let v = inspector().inspect_message(&outgoing(), &fixture(name));
    assert_eq!(v.action, Action::Reject, "{name}: {v:?}");
    let reply = v.reply.as_ref().expect("reply");
    assert_eq!(
        (reply.code.as_str(), reply.xcode.as_str()),
        ("550", "5.7.1"),
        "{name}"
    );
    assert!(
        v.findings.iter().any(|f| f.location == location),
        "{name}: no finding at {location}: {v:?}"
    );
}

fn assert_clean(name: &str) {
    let v = inspector().inspect_message(&outgoing(), &fixture(name));
    assert_eq!(v.action, Action::Accept, "{name}: {v:?}");
    assert!(
        v.findings.iter().all(|f| f.masked.is_none()),
        "{name}: {v:?}"
    );
}

#[test]
fn docx_runs_header_and_footer() {
    let x = assert_found(
        "docx.eml",
        "attachment:rapport.docx:word/document.xml",
        "241085-1337",
    );
    let body = x
        .segments
        .iter()
        .find(|s| s.location == "attachment:rapport.docx:word/document.xml")
        .unwrap();
    assert!(
        body.text.contains("241085-1337"),
        "runs joined: {:?}",
        body.text
    );
    assert_found(
        "docx.eml",
        "attachment:rapport.docx:word/header1.xml",
        "290200-4001",
    );
    assert_found(
        "docx.eml",
        "attachment:rapport.docx:word/footer1.xml",
        "311237-9001",
    );
    assert_rejected("docx.eml", "attachment:rapport.docx:word/document.xml");
    assert_clean("clean-docx.eml");
}

#[test]
fn xlsx_shared_strings_and_numeric_cpr_column() {
    let x = assert_found(
        "xlsx.eml",
        "attachment:borgere.xlsx:xl/worksheets/sheet1.xml",
        "241085-1337",
    );
    let sheet = x
        .segments
        .iter()
        .find(|s| s.location.ends_with("sheet1.xml"))
        .unwrap();
    assert!(
        sheet.text.contains("0101650000"),
        "leading zero restored: {:?}",
        sheet.text
    );
    assert_rejected(
        "xlsx.eml",
        "attachment:borgere.xlsx:xl/worksheets/sheet1.xml",
    );
    assert_clean("clean-xlsx.eml");
}

#[test]
fn pptx_slide() {
    assert_found(
        "pptx.eml",
        "attachment:oplaeg.pptx:ppt/slides/slide1.xml",
        "241085-1337",
    );
    assert_rejected("pptx.eml", "attachment:oplaeg.pptx:ppt/slides/slide1.xml");
    assert_clean("clean-pptx.eml");
}

#[test]
fn odf_text_sheet_and_presentation() {
    for kind in ["odt", "ods", "odp"] {
        let name = format!("{kind}.eml");
        assert_found(
            &name,
            &format!("attachment:notat.{kind}:content.xml"),
            "241085-1337",
        );
        assert_found(
            &name,
            &format!("attachment:notat.{kind}:styles.xml"),
            "290200-4001",
        );
        assert_rejected(&name, &format!("attachment:notat.{kind}:content.xml"));
        assert_clean(&format!("clean-{kind}.eml"));
    }
}

#[test]
fn pdf_tj_kerning_in_compressed_stream() {
    let x = assert_found("pdf-tj.eml", "attachment:rapport.pdf:page1", "241085-1337");
    let page = x
        .segments
        .iter()
        .find(|s| s.location == "attachment:rapport.pdf:page1")
        .unwrap();
    assert!(
        page.text.contains("241085-1337"),
        "kerning joined: {:?}",
        page.text
    );
    assert_rejected("pdf-tj.eml", "attachment:rapport.pdf:page1");
    assert_clean("clean-pdf-tj.eml");
}

#[test]
fn pdf_made_by_fpdf2() {
    assert_found(
        "pdf-fpdf.eml",
        "attachment:psykolog.pdf:page1",
        "311237-9001",
    );
    assert_rejected("pdf-fpdf.eml", "attachment:psykolog.pdf:page1");
    assert_clean("clean-pdf-fpdf.eml");
}

#[test]
fn zip_with_csv_in_folder() {
    assert_found(
        "zip-csv.eml",
        "attachment:sager.zip:2024/liste.csv",
        "241085-1337",
    );
    assert_rejected("zip-csv.eml", "attachment:sager.zip:2024/liste.csv");
    assert_clean("clean-zip-csv.eml");
}

#[test]
fn forwarded_base64_message() {
    assert_found(
        "forwarded-base64.eml",
        "message:1/body:text/plain",
        "241085-1337",
    );
    assert_rejected("forwarded-base64.eml", "message:1/body:text/plain");
    assert_clean("clean-forwarded-base64.eml");
}

#[test]
fn quoted_printable_soft_break_inside_number() {
    let x = assert_found("qp-softbreak.eml", "body:text/plain", "241085-1337");
    assert!(
        x.segments.iter().any(|s| s.text.contains("241085-1337")),
        "{}",
        dump(&x)
    );
    assert_rejected("qp-softbreak.eml", "body:text/plain");
    assert_clean("clean-qp-softbreak.eml");
}

#[test]
fn latin1_and_windows_1252_bodies() {
    let x = assert_found("iso-8859-1.eml", "body:text/plain", "290200-4001");
    assert!(
        x.segments.iter().any(|s| s.text.contains("Søren Ærø")),
        "{}",
        dump(&x)
    );
    let x = assert_found("windows-1252.eml", "body:text/plain", "241085-1337");
    assert!(
        x.segments
            .iter()
            .any(|s| s.text.contains("241085\u{2013}1337")),
        "{}",
        dump(&x)
    );
    assert_rejected("iso-8859-1.eml", "body:text/plain");
    assert_rejected("windows-1252.eml", "body:text/plain");
    assert_clean("clean-iso-8859-1.eml");
    assert_clean("clean-windows-1252.eml");
}

#[test]
fn encoded_file_names_are_header_like() {
    let x = assert_found(
        "filenames.eml",
        "filename:Sag 241085-1337.txt",
        "241085-1337",
    );
    assert!(
        x.segments
            .iter()
            .any(|s| s.kind == SegmentKind::Header && s.text == "Notat 290200-4001.txt"),
        "{}",
        dump(&x)
    );
    let v = inspector().inspect_message(&outgoing(), &fixture("filenames.eml"));
    assert_eq!(v.action, Action::Reject);
    assert_eq!(v.rule.as_deref(), Some("cpr.header"));
    assert_clean("clean-filenames.eml");
}

#[test]
fn html_tags_entities_and_script() {
    let x = assert_found("html.eml", "body:text/html", "241085-1337");
    assert!(
        x.segments
            .iter()
            .any(|s| s.text.contains("241085\u{2011}1337")),
        "{}",
        dump(&x)
    );
    assert_rejected("html.eml", "body:text/html");
    assert_clean("clean-html.eml");
}

#[test]
fn encrypted_mails_are_marked_not_scanned() {
    for name in ["smime-encrypted.eml", "pgp-encrypted.eml"] {
        let raw = fixture(name);
        let x = extract(&raw, &Limits::default());
        assert!(x.encrypted, "{name}");
        // The ciphertext is recognised as such and not read as text.
        assert!(
            x.segments.iter().all(|s| s.kind != SegmentKind::Attachment),
            "{name}: {}",
            dump(&x)
        );
    }
}

#[test]
fn multipart_signed_content_is_scanned() {
    let x = assert_found("signed.eml", "body:text/plain", "241085-1337");
    assert!(!x.encrypted);
    assert_rejected("signed.eml", "body:text/plain");
}

/// The number after a 5 MB binary part (built here, not committed).
#[test]
fn number_after_five_megabytes_of_binary() {
    let mut blob = Vec::with_capacity(5 * 1024 * 1024);
    let mut x: u32 = 12345;
    while blob.len() < 5 * 1024 * 1024 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        blob.push((x >> 16) as u8);
    }
    let mut raw = b"From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: Store filer\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\nContent-Type: application/octet-stream; name=data.bin\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let b64 = common::base64(&blob);
    for line in b64.as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(
        b"--big\r\nContent-Type: text/plain\r\n\r\nBorger 241085-1337\r\n--big--\r\n",
    );
    let x = extract(&raw, &Limits::default());
    assert!(x
        .segments
        .iter()
        .any(|s| s.location == "body:text/plain" && s.text.contains("241085-1337")));
    let v = inspector().inspect_message(&outgoing(), &raw);
    assert_eq!(v.action, Action::Reject);
}
