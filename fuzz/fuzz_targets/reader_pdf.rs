//! The PDF reader, reached through a mail with the bytes as a .pdf attachment.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mail = cpr_milter_fuzz::mail_with_attachment("a.pdf", "application/pdf", None, data);
    cpr_milter_fuzz::inspect(&mail);
});
