//! The text forms senders' clients produce and the formats read since the
//! first fixture set (fixtures/extract/fmt-*, made by
//! fixtures/gen/make_format_fixtures.py): each leaking fixture is rejected
//! with 550 5.7.1 and a finding at the expected location, each clean twin is
//! accepted, and what cannot be read is reported with its reason.

mod common;

use cpr_milter_core::extract::{extract, Limits};
use cpr_milter_core::{Action, Verdict};

use common::fixture;

fn inspect(name: &str) -> Verdict {
    common::nyborg_inspector().inspect_message(&common::outgoing(), &fixture(name))
}

/// Leaking fixture, where its number is found, and the reason the finding
/// must carry (part of it).
const LEAKS: &[(&str, &str, &str)] = &[
    ("fmt-flowed.eml", "body:text/plain", "keyword:cpr"),
    ("fmt-flowed-delsp.eml", "body:text/plain", "mod11+hyphen"),
    ("fmt-flowed-split.eml", "body:text/plain", "mod11"),
    (
        "fmt-uuencode.eml",
        "body:text/plain/uuencoded:liste.csv",
        "mod11+hyphen",
    ),
    ("fmt-calendar.eml", "body:text/calendar", "mod11+hyphen"),
    ("fmt-outlook-html.eml", "body:text/html", "mod11+hyphen"),
    ("fmt-table-cells.eml", "body:text/html", "mod11+hyphen"),
    (
        "fmt-pdf-as-text.eml",
        "attachment:scan.pdf:page1",
        "mod11+hyphen",
    ),
    // S/MIME opaque-signed by OpenSSL, DER and BER (-stream).
    (
        "fmt-smime-opaque.eml",
        "signed:1/body:text/plain",
        "keyword:cpr",
    ),
    (
        "fmt-smime-opaque-ber.eml",
        "signed:1/body:text/plain",
        "keyword:cpr",
    ),
];

#[test]
fn every_leaking_text_form_is_rejected_where_the_number_is() {
    for (name, location, reason) in LEAKS {
        let v = inspect(name);
        assert_eq!(v.action, Action::Reject, "{name}: {v:?}");
        let reply = v.reply.as_ref().expect("reply");
        assert_eq!(
            (reply.code.as_str(), reply.xcode.as_str()),
            ("550", "5.7.1"),
            "{name}"
        );
        assert!(
            v.findings
                .iter()
                .any(|f| f.location == *location && f.reason.as_str().contains(reason)),
            "{name}: no finding at {location} ({reason}): {v:?}"
        );
    }
}

#[test]
fn every_clean_twin_is_accepted() {
    for (name, _, _) in LEAKS {
        let clean = name.replacen("fmt-", "fmt-clean-", 1);
        let v = inspect(&clean);
        assert_eq!(v.action, Action::Accept, "{clean}: {v:?}");
        assert!(
            v.findings.iter().all(|f| f.masked.is_none()),
            "{clean}: {v:?}"
        );
    }
}

#[test]
fn outlook_html_reads_alt_title_and_vml_but_not_plain_comments() {
    let raw = fixture("fmt-outlook-html.eml");
    let x = extract(&raw, &Limits::default());
    let body = x
        .segments
        .iter()
        .find(|s| s.location == "body:text/html")
        .expect("html body");
    assert!(body.text.contains("Scannet kort: 241085-1337"), "{body:?}");
    assert!(body.text.contains("Sag for 241085-1337"), "{body:?}");
    assert!(body.text.contains("Borger 290200-4001"), "{body:?}");
    assert!(!body.text.contains("ordinary comment"), "{body:?}");
}

#[test]
fn a_message_partial_fragment_is_unscannable_with_its_reason() {
    let raw = fixture("fmt-partial.eml");
    let x = extract(&raw, &Limits::default());
    assert!(
        x.unscannable
            .iter()
            .any(|u| u.reason.starts_with("message/partial")),
        "{:?}",
        x.unscannable
    );
    // The fragment's own text (the start of a CPR list) is not judged.
    assert!(
        x.segments.iter().all(|s| !s.text.contains("navn;cpr")),
        "{:?}",
        x.segments
    );
}

#[test]
fn flowed_text_is_unflowed_but_fixed_text_is_not() {
    let raw = fixture("fmt-flowed-split.eml");
    let fixed = String::from_utf8(raw)
        .unwrap()
        .replace("; format=flowed; delsp=yes", "");
    let v = {
        let x = extract(fixed.as_bytes(), &Limits::default());
        x.segments.iter().any(|s| s.text.contains("2410851337"))
    };
    assert!(!v, "a hard line break is not joined");
}

/// Where each number of a fixture is, by extraction alone.
fn assert_segments(name: &str, expected: &[(&str, &str)]) {
    let raw = fixture(name);
    let x = extract(&raw, &Limits::default());
    for (location, number) in expected {
        assert!(
            x.segments
                .iter()
                .any(|s| s.location == *location && s.text.contains(number)),
            "{name}: no {number} at {location}: {:#?} {:?}",
            x.segments,
            x.unscannable
        );
    }
    assert!(x.unscannable.is_empty(), "{name}: {:?}", x.unscannable);
}

#[test]
fn outlook_item_subject_recipients_attachments_and_attached_item() {
    assert_segments(
        "fmt-msg.eml",
        &[
            ("attachment:sag.msg:subject", "Sag om borger"),
            ("attachment:sag.msg:body", "vedhæftede liste"),
            ("attachment:sag.msg:recipients", "241085-1337"),
            ("attachment:sag.msg:recipients", "jens@example.com"),
            ("attachment:sag.msg:attachment:liste.csv", "241085-1337"),
            (
                "attachment:sag.msg:attachment:Videresendt sag:body",
                "290200-4001",
            ),
        ],
    );
}

#[test]
fn winmail_dat_compressed_rtf_body_and_attachment() {
    assert_segments(
        "fmt-tnef.eml",
        &[
            ("attachment:winmail.dat:subject", "Sag om borger"),
            ("attachment:winmail.dat:body.rtf", "241085-1337"),
            ("attachment:winmail.dat:liste.csv", "290200-4001"),
        ],
    );
}

#[test]
fn word_97_body_footnotes_headers_footers_and_properties() {
    assert_segments(
        "fmt-doc.eml",
        &[
            ("attachment:notat.doc:body", "241085-1337"),
            ("attachment:notat.doc:footnotes", "290200-4001"),
            ("attachment:notat.doc:headers", "290200-4001"),
            ("attachment:notat.doc:headers", "311237-9001"),
            ("attachment:notat.doc:properties", "290200-4001"),
        ],
    );
}

#[test]
fn excel_97_cells_sheet_names_print_header_and_comments() {
    assert_segments(
        "fmt-xls.eml",
        &[
            ("attachment:borgere.xls:sheet:Borgere", "241085-1337"),
            ("attachment:borgere.xls:sheet:Borgere", "2902004001"),
            ("attachment:borgere.xls:sheetnames", "Sag 241085-1337"),
            ("attachment:borgere.xls:sheet:Borgere:header", "290200-4001"),
            (
                "attachment:borgere.xls:sheet:Borgere:comments",
                "311237-9001",
            ),
        ],
    );
}

#[test]
fn powerpoint_97_slide_and_notes_text() {
    assert_segments(
        "fmt-ppt.eml",
        &[
            ("attachment:oplaeg.ppt:slides", "241085-1337"),
            ("attachment:oplaeg.ppt:slides", "290200-4001"),
        ],
    );
}
