//! The ZIP container readers (plain ZIP, OOXML, ODF): the first byte picks
//! the file name and type the bytes are attached under.
#![no_main]
use libfuzzer_sys::fuzz_target;

const KINDS: &[(&str, &str)] = &[
    (
        "a.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "a.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "a.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("a.odt", "application/vnd.oasis.opendocument.text"),
    ("a.ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("a.odp", "application/vnd.oasis.opendocument.presentation"),
    ("a.zip", "application/zip"),
    ("a.doc", "application/msword"),
];

fuzz_target!(|data: &[u8]| {
    let (sel, bytes) = cpr_milter_fuzz::selector(data);
    let (name, ctype) = KINDS[sel as usize % KINDS.len()];
    let mail = cpr_milter_fuzz::mail_with_attachment(name, ctype, None, bytes);
    cpr_milter_fuzz::inspect(&mail);
});
