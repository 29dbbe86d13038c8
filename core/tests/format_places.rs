//! Places inside formats where a recipient sees text outside the body:
//! spreadsheet sheet names, print headers, cell comments and document
//! properties (XLSX and ODS made by LibreOffice from one source), and PDF
//! annotations and form fields (fixtures/extract/fmt-*-places.eml, made by
//! fixtures/gen/make_format_fixtures.py). Each leaking fixture is rejected
//! for the number in that place; each clean twin is accepted.

use std::net::{IpAddr, Ipv4Addr};

use cpr_milter_core::extract::{extract, Extracted, Limits};
use cpr_milter_core::{Action, Envelope, Inspector, Verdict};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/extract/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn inspect(raw: &[u8]) -> Verdict {
    let yaml = "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n";
    let inspector = Inspector::new(
        cpr_milter_core::config::parse(yaml, "test").expect("config"),
        None,
    );
    let env = Envelope {
        client_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        sender: "sagsbehandler@nyborg.dk".into(),
        recipients: vec!["modtager@example.com".into()],
        queue_id: Some("4F1A2B3C".into()),
        ..Envelope::default()
    };
    inspector.inspect_message(&env, raw)
}

fn text_at<'x>(x: &'x Extracted<'_>, location: &str) -> Vec<&'x str> {
    x.segments
        .iter()
        .filter(|s| s.location == location)
        .map(|s| s.text.as_ref())
        .collect()
}

/// Extracts `name` and checks each (location, text) is there, nothing
/// unscannable; then the same for its clean twin with the clean text.
fn assert_places(name: &str, leaking: &[(&str, &str)], clean: &[(&str, &str)]) {
    for (file, expected) in [
        (name.to_string(), leaking),
        (name.replacen("fmt-", "fmt-clean-", 1), clean),
    ] {
        let raw = fixture(&file);
        let x = extract(&raw, &Limits::default());
        for (location, text) in expected {
            assert!(
                text_at(&x, location).iter().any(|t| t.contains(text)),
                "{file}: no {text:?} at {location}: {:#?}",
                x.segments
            );
        }
        assert!(x.unscannable.is_empty(), "{file}: {:?}", x.unscannable);
    }
}

/// The leaking fixture is rejected with a finding at each location (the
/// first places read; the verdict caps its findings, so the later places
/// are checked on the extraction); its clean twin is accepted without any
/// number found.
fn assert_verdicts(name: &str, locations: &[&str]) {
    let v = inspect(&fixture(name));
    assert_eq!(v.action, Action::Reject, "{name}: {v:?}");
    for location in locations {
        assert!(
            v.findings.iter().any(|f| f.location == *location),
            "{name}: no finding at {location}: {v:?}"
        );
    }
    let clean = name.replacen("fmt-", "fmt-clean-", 1);
    let v = inspect(&fixture(&clean));
    assert_eq!(v.action, Action::Accept, "{clean}: {v:?}");
    assert!(
        v.findings.iter().all(|f| f.masked.is_none()),
        "{clean}: {v:?}"
    );
}

#[test]
fn xlsx_sheet_names_print_header_comment_and_properties() {
    let at = "attachment:borgere.xlsx";
    let sheetnames = format!("{at}:sheetnames");
    let header = format!("{at}:xl/worksheets/sheet1.xml:header");
    let comments = format!("{at}:xl/comments1.xml");
    let core = format!("{at}:docProps/core.xml");
    assert_places(
        "fmt-xlsx-places.eml",
        &[
            (&sheetnames, "Sag 241085-1337"),
            (&header, "Udskrift: 290200-4001"),
            (&comments, "Kommentar: 311237-9001"),
            (&core, "Udtræk 290200-4001"),
        ],
        &[
            (&sheetnames, "Sag ukendt"),
            (&header, "Udskrift: side 1"),
            (&comments, "Kommentar: ingen"),
        ],
    );
    assert_verdicts(
        "fmt-xlsx-places.eml",
        &[&sheetnames, &header, &comments, &core],
    );
}

#[test]
fn ods_sheet_names_print_header_annotation_and_meta() {
    let at = "attachment:borgere.ods";
    let tablenames = format!("{at}:content.xml:tablenames");
    let content = format!("{at}:content.xml");
    let styles = format!("{at}:styles.xml");
    let meta = format!("{at}:meta.xml");
    assert_places(
        "fmt-ods-places.eml",
        &[
            (&tablenames, "Sag 241085-1337"),
            (&styles, "Udskrift: 290200-4001"),
            (&content, "Kommentar: 311237-9001"),
            (&meta, "Udtræk 290200-4001"),
        ],
        &[
            (&tablenames, "Sag ukendt"),
            (&styles, "Udskrift: side 1"),
            (&content, "Kommentar: ingen"),
        ],
    );
    assert_verdicts("fmt-ods-places.eml", &[&tablenames, &styles]);
}
