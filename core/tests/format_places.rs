//! Places inside formats where a recipient sees text outside the body:
//! spreadsheet sheet names, print headers, cell comments and document
//! properties (XLSX and ODS made by LibreOffice from one source), and PDF
//! annotations and form fields (fixtures/extract/fmt-*-places.eml, made by
//! fixtures/gen/make_format_fixtures.py), and a number shown with a dash
//! only by the cell's custom number format. Each leaking fixture is rejected
//! for the number in that place; each clean twin is accepted.

mod common;

use cpr_milter_core::extract::{extract, Extracted, Limits};
use cpr_milter_core::{Action, Verdict};

use common::fixture;

fn inspect(raw: &[u8]) -> Verdict {
    common::nyborg_inspector().inspect_message(&common::outgoing(), raw)
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
fn xlsx_and_xls_cells_shown_through_a_custom_number_format() {
    // LibreOffice stores 2410851337 with the format 000000-0000; the
    // column header does not say CPR, so only the format gives the dash.
    let sheet = "attachment:udbetalinger.xlsx:xl/worksheets/sheet1.xml";
    assert_places(
        "fmt-xlsx-numformat.eml",
        &[(sheet, "Jens Hansen\t241085-1337")],
        &[(sheet, "Jens Hansen\t123456-7890")],
    );
    assert_verdicts("fmt-xlsx-numformat.eml", &[sheet]);
    // The same sheet saved as Excel 97: FORMAT and XF records.
    let sheet = "attachment:udbetalinger.xls:sheet:Udbetalinger";
    assert_places(
        "fmt-xls-numformat.eml",
        &[(sheet, "Jens Hansen\t241085-1337")],
        &[(sheet, "Jens Hansen\t123456-7890")],
    );
    assert_verdicts("fmt-xls-numformat.eml", &[sheet]);
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

#[test]
fn pdf_comment_exported_by_libreoffice_is_read() {
    let annotations = "attachment:notat.pdf:page1:annotations";
    assert_places(
        "fmt-pdf-comment-places.eml",
        &[
            (annotations, "Husk: 290200-4001"),
            ("attachment:notat.pdf:page1", "Sagen er afsluttet"),
        ],
        &[(annotations, "Husk: sagen er lukket")],
    );
    let raw = fixture("fmt-pdf-comment-places.eml");
    let x = extract(&raw, &Limits::default());
    assert!(
        !text_at(&x, "attachment:notat.pdf:page1")
            .iter()
            .any(|t| t.contains("290200")),
        "the number is only in the comment"
    );
    assert_verdicts("fmt-pdf-comment-places.eml", &[annotations]);
}

#[test]
fn pdf_form_field_free_text_and_differences_encoding_are_read() {
    let form = "attachment:skema.pdf:form";
    let annotations = "attachment:skema.pdf:page1:annotations";
    let page = "attachment:skema.pdf:page1";
    assert_places(
        "fmt-pdf-form-places.eml",
        &[
            (form, "241085-1337"),
            (form, "CPR-nummer"),
            (annotations, "Borger 311237-9001 ringer"),
            (annotations, "Sagsbehandler"),
            (page, "Ansøgning"),
            (page, "CPR: 290200-4001"),
        ],
        &[
            (form, "ikke udfyldt"),
            (annotations, "Borger ringer tilbage"),
            (page, "SAG: 2450"),
        ],
    );
    assert_verdicts("fmt-pdf-form-places.eml", &[form, annotations, page]);
}

/// A PDF from its objects (numbered from 1; object 1 the catalog, 2 the
/// page tree with one page, 3), with a correct cross-reference table.
fn pdf(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn pdf_mail(data: &[u8]) -> Vec<u8> {
    format!(
        "From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=f.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        common::base64(data)
    )
    .into_bytes()
}

/// Catalog with the form's fields `fields`, one empty page, then `rest`.
fn form_pdf(fields: &str, rest: Vec<String>) -> Vec<u8> {
    let mut objects = vec![
        format!("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields {fields} >> >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_string(),
    ];
    objects.extend(rest);
    pdf(&objects)
}

#[test]
fn a_form_field_tree_with_a_cycle_is_read_once() {
    // Field 4's kid is 5, whose kid is 4 again.
    let data = form_pdf(
        "[4 0 R]",
        vec![
            "<< /T (a) /V (241085-1337) /Kids [5 0 R] >>".into(),
            "<< /T (b) /Parent 4 0 R /Kids [4 0 R] >>".into(),
        ],
    );
    let mail = pdf_mail(&data);
    let x = extract(&mail, &Limits::default());
    assert_eq!(
        text_at(&x, "attachment:f.pdf:form"),
        ["241085-1337\na\nb\n"]
    );
    assert!(x.unscannable.is_empty(), "{:?}", x.unscannable);
}

#[test]
fn a_form_nested_too_deep_or_too_wide_is_a_limit_keeping_what_was_read() {
    // A chain of 100 fields, each the only kid of the one before.
    let chain: Vec<String> = (0..100)
        .map(|i| format!("<< /T (f{i}) /Kids [{} 0 R] >>", i + 5))
        .chain(std::iter::once("<< /T (last) >>".to_string()))
        .collect();
    let mail = pdf_mail(&form_pdf("[4 0 R]", chain));
    let x = extract(&mail, &Limits::default());
    assert!(text_at(&x, "attachment:f.pdf:form")[0].starts_with("f0\nf1\n"));
    assert!(
        x.unscannable
            .iter()
            .any(|u| u.location == "attachment:f.pdf:form" && u.reason.contains("nested deeper")),
        "{:?}",
        x.unscannable
    );
    // 20,000 direct fields in one array.
    let wide: String = (0..20_000).map(|i| format!("<< /T (w{i}) >> ")).collect();
    let mail = pdf_mail(&form_pdf(&format!("[{wide}]"), Vec::new()));
    let x = extract(&mail, &Limits::default());
    assert!(text_at(&x, "attachment:f.pdf:form")[0].contains("w9999\n"));
    assert!(!text_at(&x, "attachment:f.pdf:form")[0].contains("w10000"));
    assert!(
        x.unscannable
            .iter()
            .any(|u| u.reason.contains("more than 10000 fields")),
        "{:?}",
        x.unscannable
    );
}
