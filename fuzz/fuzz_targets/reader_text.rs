//! Text attachments under declared charsets, and attached mails (.eml): the
//! first byte picks the name, type and charset.
#![no_main]
use libfuzzer_sys::fuzz_target;

const KINDS: &[(&str, &str, Option<&str>)] = &[
    ("a.txt", "text/plain", Some("utf-8")),
    ("a.csv", "text/csv", Some("iso-8859-1")),
    ("a.txt", "text/plain", Some("windows-1252")),
    ("a.txt", "text/plain", Some("utf-16")),
    ("a.txt", "text/plain", Some("x-no-such-charset")),
    ("a.rtf", "application/rtf", None),
    ("a.eml", "message/rfc822", None),
    ("a.bin", "application/octet-stream", None),
];

fuzz_target!(|data: &[u8]| {
    let (sel, bytes) = cpr_milter_fuzz::selector(data);
    let (name, ctype, charset) = KINDS[sel as usize % KINDS.len()];
    let mail = cpr_milter_fuzz::mail_with_attachment(name, ctype, charset, bytes);
    cpr_milter_fuzz::inspect(&mail);
});
