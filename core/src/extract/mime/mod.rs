//! The MIME walker: one parsed message to segments. It reads the headers a
//! person reads, the text and HTML bodies, judges cryptographic labels by
//! their bytes, and hands every attachment and nested message to the
//! dispatcher's one entry, [`dispatch::embedded`].
//!
//! Decoding of the MIME layer is done once by mail-parser (RFC 2047/2231,
//! transfer encodings, charsets). A text part mail-parser did not have to
//! decode (7bit/8bit UTF-8) is borrowed from the raw message, not copied.

mod headers;
mod part;
mod plain;
mod protection;

use std::borrow::Cow;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use super::dispatch::{self, Embedded};
use super::ground::{Cause, Ctx, File, SegmentKind};
use super::html;
use part::{content_type_of, is_disposition_attachment};
use protection::{is_crypto_control, protection_of, Protection};

pub use plain::extract_headers;
pub(crate) use plain::plain_utf8_message;

/// Parses bytes that claim to be a mail (an .eml attachment, a
/// message/rfc822 part mail-parser left as binary) and walks it under
/// `prefix`. The parsed message is detached from `raw` (which dies before
/// the output), so its texts are owned.
pub(crate) fn read_raw(raw: &[u8], prefix: &str, depth: usize, ctx: &mut Ctx<'_>) {
    match parse(raw) {
        Ok(msg) => walk(&msg.into_owned(), prefix, depth, ctx),
        Err(reason) => ctx.unscannable(&format!("{prefix}message"), Cause::Broken, reason),
    }
}

/// mail-parser behind `catch_unwind`: some malformed boundaries trip an
/// arithmetic overflow check inside it (seen on the real-mail corpus in
/// debug builds), which must cost an `unscannable`, not the process.
pub(crate) fn parse(raw: &[u8]) -> Result<Message<'_>, &'static str> {
    match std::panic::catch_unwind(|| MessageParser::default().parse(raw)) {
        Ok(Some(msg)) => Ok(msg),
        Ok(None) => Err("not a parseable RFC 5322 message"),
        Err(_) => Err("the MIME parser failed on malformed structure"),
    }
}

/// Walks every part of `msg` (mail-parser flattens the tree; nested
/// messages are parts of their own), labelling locations under `prefix`.
pub(crate) fn walk<'t>(msg: &Message<'t>, prefix: &str, depth: usize, ctx: &mut Ctx<'t>) {
    headers::collect(msg.root_part().headers(), prefix, ctx);
    let protection: Vec<Protection> = msg.parts.iter().map(|p| protection_of(msg, p)).collect();
    let ciphertext = ciphertext_parts(msg, &protection);
    let mut nested = 0;
    for (idx, part) in msg.parts.iter().enumerate() {
        let here = format!("{prefix}part:{idx}");
        if ctx.expired(&here) || !ctx.count_part(&here) {
            return;
        }
        let ctype = content_type_of(part);
        if part.is_encoding_problem {
            // mail-parser then hands over the encoded text as it is: it is
            // still matched, but what it encodes was not read.
            ctx.unscannable(
                &here,
                Cause::Broken,
                "transfer encoding does not decode (truncated or damaged)",
            );
        }
        match protection[idx] {
            Protection::Encrypted => ctx.saw_encrypted(),
            Protection::OpaqueSigned => ctx.unscannable(
                &here,
                Cause::Unsupported,
                "S/MIME opaque-signed content is not unpacked",
            ),
            Protection::UnknownCms => ctx.unscannable(
                &here,
                Cause::Unsupported,
                "S/MIME content of an unknown type is not unpacked",
            ),
            Protection::None => {}
        }
        let name = part.attachment_name();
        if let Some(name) = name {
            ctx.push(
                SegmentKind::Header,
                format!("{prefix}filename:{name}"),
                name.to_string(),
            );
        }
        if idx > 0 {
            headers::collect_part(part.headers(), prefix, idx, ctx);
        }
        let label = || name.map_or_else(|| format!("part{idx}"), str::to_string);
        match &part.body {
            PartType::Text(text) | PartType::Html(text) => {
                // HTML comes as Html, or as Text when mail-parser did not
                // treat it as a body (an HTML attachment): tags go either way.
                let text: Cow<'t, str> =
                    if matches!(part.body, PartType::Html(_)) || ctype == "text/html" {
                        html::html_to_text(text).into()
                    } else {
                        text.clone()
                    };
                let (kind, location) = if name.is_some() || is_disposition_attachment(part) {
                    let label = label();
                    (
                        SegmentKind::Attachment,
                        format!("{prefix}attachment:{label}"),
                    )
                } else {
                    (SegmentKind::Body, format!("{prefix}body:{ctype}"))
                };
                ctx.push(kind, location, text);
            }
            PartType::Message(inner) => {
                nested += 1;
                let location = format!("{prefix}message:{nested}/");
                dispatch::embedded(ctx, Embedded::Message(inner), &location, depth + 1);
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                if ctype == "message/rfc822" || ctype == "message/global" {
                    nested += 1;
                    let location = format!("{prefix}message:{nested}/");
                    dispatch::embedded(ctx, Embedded::RawMessage(bytes), &location, depth + 1);
                    continue;
                }
                if protection[idx] != Protection::None
                    || ciphertext[idx]
                    || is_crypto_control(&ctype, bytes)
                {
                    continue;
                }
                let label = label();
                let file = File {
                    bytes,
                    name: &label,
                    ctype: &ctype,
                    charset: part.content_type().and_then(|c| c.attribute("charset")),
                };
                let location = format!("{prefix}attachment:{label}");
                dispatch::embedded(ctx, Embedded::File(file), &location, depth + 1);
            }
            PartType::Multipart(_) => {}
        }
    }
}

/// The ciphertext parts of each verified multipart/encrypted.
fn ciphertext_parts(msg: &Message<'_>, protection: &[Protection]) -> Vec<bool> {
    let mut ciphertext = vec![false; msg.parts.len()];
    for (idx, part) in msg.parts.iter().enumerate() {
        if protection[idx] == Protection::Encrypted {
            if let PartType::Multipart(children) = &part.body {
                for &c in children {
                    if let Some(flag) = ciphertext.get_mut(c as usize) {
                        *flag = true;
                    }
                }
            }
        }
    }
    ciphertext
}
