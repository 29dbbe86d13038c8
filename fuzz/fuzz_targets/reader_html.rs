//! HTML to text, directly and as an .html attachment.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cpr_milter_core::extract::html_to_text(&String::from_utf8_lossy(data));
    let mail = cpr_milter_fuzz::mail_with_attachment("a.html", "text/html", Some("utf-8"), data);
    cpr_milter_fuzz::inspect(&mail);
});
