//! The two shortcuts around the full MIME walk: the header section alone
//! (for messages over the size limit, whose Subject must still be checked)
//! and a single plain UTF-8 body matched where it lies in the raw message.

use mail_parser::{MessageParser, MimeHeaders};

use super::headers;
use crate::extract::ground::{Cause, Ctx, Extracted, Limits, SegmentKind};

/// Largest header section [`extract_headers`] reads. Real header sections
/// are a few KiB (Postfix cuts them at 100 KiB by default).
const MAX_HEADER_SECTION: usize = 4 * 1024 * 1024;

/// Extracts only what the header section of the top-level message shows:
/// its human-readable headers (Subject, From, To, Content-Description …)
/// and the file name of the root part, if it has one. Only the bytes up to
/// the blank line that ends the header section are parsed, so the body may
/// be huge or cut off. Meant for messages too large for [`extract`](crate::extract::extract): a
/// number in the Subject is rejected whatever the size of the mail.
pub fn extract_headers<'r>(raw: &'r [u8], limits: &Limits) -> Extracted<'r> {
    let mut ctx = Ctx::new(limits);
    let window = &raw[..raw.len().min(MAX_HEADER_SECTION)];
    let end = match header_end(window) {
        Some(end) => end,
        None if raw.len() <= MAX_HEADER_SECTION => raw.len(),
        None => {
            ctx.unscannable(
                "message",
                Cause::Limit,
                format!("header section larger than {MAX_HEADER_SECTION} bytes"),
            );
            window.len()
        }
    };
    let head = &raw[..end];
    match std::panic::catch_unwind(|| MessageParser::default().parse_headers(head)) {
        Ok(Some(msg)) => {
            let root = msg.root_part();
            headers::collect(root.headers(), "", &mut ctx);
            if let Some(name) = root.attachment_name() {
                ctx.push(
                    SegmentKind::Header,
                    format!("filename:{name}"),
                    name.to_string(),
                );
            }
        }
        Ok(None) => ctx.unscannable("message", Cause::Broken, "not a parseable RFC 5322 message"),
        Err(_) => ctx.unscannable(
            "message",
            Cause::Broken,
            "the MIME parser failed on malformed structure",
        ),
    }
    ctx.finish()
}

/// Fast path for the commonest large mail: one text/plain part, UTF-8 or
/// ASCII, no transfer encoding. Its body needs no decoding, so it is matched
/// where it lies in the raw message instead of being validated lossily and
/// copied (which costs more than the CPR search itself). Anything else, or a
/// body that is not valid UTF-8, takes the full MIME walk (false: nothing
/// was added to `ctx`).
pub(crate) fn plain_utf8_message<'r>(raw: &'r [u8], ctx: &mut Ctx<'r>) -> bool {
    plain_body(raw).is_some_and(|(root, body)| {
        headers::collect(root.headers(), "", ctx);
        ctx.push(SegmentKind::Body, "body:text/plain".into(), body);
        true
    })
}

/// The root part's headers and its body, when the message is one plain
/// UTF-8 text with no transfer encoding.
fn plain_body(raw: &[u8]) -> Option<(mail_parser::MessagePart<'_>, &str)> {
    let body_start = header_end(raw)?;
    let mut msg =
        std::panic::catch_unwind(|| MessageParser::default().parse_headers(&raw[..body_start]))
            .ok()??;
    if msg.parts.is_empty() {
        return None;
    }
    let root = msg.parts.swap_remove(0);
    let plain = match root.content_type() {
        None => true,
        Some(ct) => {
            ct.c_type.eq_ignore_ascii_case("text")
                && ct
                    .c_subtype
                    .as_deref()
                    .is_none_or(|s| s.eq_ignore_ascii_case("plain"))
                && ct.attribute("charset").is_none_or(|c| {
                    ["utf-8", "utf8", "us-ascii", "ascii"]
                        .iter()
                        .any(|k| c.eq_ignore_ascii_case(k))
                })
                && ct.attribute("name").is_none()
                && super::super::flowed::Flowed::of(Some(ct)).is_none()
        }
    };
    let identity = root.headers.iter().all(|h| {
        !h.name
            .as_str()
            .eq_ignore_ascii_case("content-transfer-encoding")
            || raw_header_value(raw, h).is_some_and(|v| {
                ["7bit", "8bit", "binary"]
                    .iter()
                    .any(|k| v.eq_ignore_ascii_case(k))
            })
    });
    if !plain || !identity || root.content_disposition().is_some() {
        return None;
    }
    // SIMD validation: std's from_utf8 runs at ~1 GB/s on Danish text.
    let body = simdutf8::basic::from_utf8(&raw[body_start..]).ok()?;
    if super::super::uuencode::may_contain(body) {
        return None;
    }
    Some((root, body))
}

/// Offset just past the blank line that ends the header section.
fn header_end(raw: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = raw[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let rest = &raw[nl + 1..];
        if rest.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if rest.starts_with(b"\n") {
            return Some(nl + 2);
        }
        i = nl + 1;
    }
    None
}

/// The unparsed value of a header (trimmed), from its offsets in `raw`.
fn raw_header_value<'r>(raw: &'r [u8], h: &mail_parser::Header<'_>) -> Option<&'r str> {
    let v = raw.get(h.offset_start as usize..h.offset_end as usize)?;
    std::str::from_utf8(v).ok().map(str::trim)
}
