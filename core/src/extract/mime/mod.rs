//! The MIME walker: one parsed message to segments. It reads the headers a
//! person reads, the text and HTML bodies, judges cryptographic labels by
//! their bytes, and hands every attachment and nested message to the
//! dispatcher's one entry, [`dispatch::embedded`].
//!
//! Decoding of the MIME layer is done once by mail-parser (RFC 2047/2231,
//! transfer encodings, charsets). A text part mail-parser did not have to
//! decode (7bit/8bit UTF-8) is borrowed from the raw message, not copied.

mod cms;
mod headers;
mod part;
mod plain;
mod protection;
mod recover;

use std::borrow::Cow;

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::dispatch::{self, Embedded};
use super::ground::{Cause, Ctx, File, SegmentKind};
use super::{binary_text, html, text, text_forms, uuencode};

/// Why a `message/partial` fragment is not read.
const PARTIAL: &str = "message/partial: one fragment of a split message; \
the whole cannot be reassembled within one transaction";
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
        Err(Unparsed::NoMessage) => read_as_text(raw, prefix, SegmentKind::Attachment, ctx),
        Err(e @ Unparsed::ParserFailed) => {
            ctx.unscannable(&format!("{prefix}message"), Cause::Broken, e.reason());
        }
    }
}

/// Bytes mail-parser finds no message in (no header section at all) are
/// still text a person wrote: all of it is matched, nothing is left unread.
pub(crate) fn read_as_text(raw: &[u8], prefix: &str, kind: SegmentKind, ctx: &mut Ctx<'_>) {
    ctx.push(kind, format!("{prefix}message"), text::decode(raw, None));
}

/// Why [`parse`] gave no message.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Unparsed {
    /// Nothing that looks like an RFC 5322 message.
    NoMessage,
    /// mail-parser panicked on malformed structure.
    ParserFailed,
}

impl Unparsed {
    pub fn reason(self) -> &'static str {
        match self {
            Unparsed::NoMessage => "not a parseable RFC 5322 message",
            Unparsed::ParserFailed => "the MIME parser failed on malformed structure",
        }
    }
}

/// mail-parser behind `catch_unwind`: some malformed boundaries trip an
/// arithmetic overflow check inside it (seen on the real-mail corpus in
/// debug builds), which must cost an `unscannable`, not the process.
pub(crate) fn parse(raw: &[u8]) -> Result<Message<'_>, Unparsed> {
    match std::panic::catch_unwind(|| MessageParser::default().parse(raw)) {
        Ok(Some(msg)) => Ok(msg),
        Ok(None) => Err(Unparsed::NoMessage),
        Err(_) => Err(Unparsed::ParserFailed),
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
        match protection[idx] {
            Protection::Encrypted => ctx.saw_encrypted(),
            Protection::OpaqueSigned => match cms::signed_content(part.contents()) {
                // The signed entity is a MIME part of its own: walk it.
                Ok(entity) => {
                    nested += 1;
                    let location = format!("{prefix}signed:{nested}/");
                    dispatch::embedded(ctx, Embedded::RawMessage(&entity), &location, depth + 1);
                }
                Err(why) => ctx.unscannable(&here, Cause::Broken, why),
            },
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
            // Base64 that does not decode (cut off, damaged) comes as its
            // encoded text: read what still decodes as the file it was.
            PartType::Text(text) if part.is_encoding_problem && is_base64(part) => {
                let bytes = recover::lenient_base64(text.as_bytes());
                let file = File {
                    bytes: &bytes,
                    name: &label(),
                    ctype: &ctype,
                    charset: part.content_type().and_then(|c| c.attribute("charset")),
                };
                let location = format!("{prefix}attachment:{}", file.name);
                dispatch::embedded(ctx, Embedded::File(file), &location, depth + 1);
            }
            PartType::Text(text) | PartType::Html(text) if binary_text::looks_binary(text) => {
                // A file declared text/* that is not text: its bytes again,
                // sniffed like any attachment.
                let label = label();
                let location = format!("{prefix}attachment:{label}");
                match binary_text::transfer_decoded(msg, part) {
                    Some(bytes) => {
                        let file = File::entry(&bytes, &label);
                        dispatch::embedded(ctx, Embedded::File(file), &location, depth + 1);
                    }
                    None => ctx.unscannable(
                        &location,
                        Cause::Broken,
                        "binary content declared as text does not decode",
                    ),
                }
            }
            PartType::Text(text) | PartType::Html(text) => {
                // HTML comes as Html, or as Text when mail-parser did not
                // treat it as a body (an HTML attachment): tags go either way.
                let text: Cow<'t, str> =
                    if matches!(part.body, PartType::Html(_)) || ctype == "text/html" {
                        html::html_to_text(text).into()
                    } else {
                        text_forms::as_shown(text, &ctype, name.unwrap_or(""), part.content_type())
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
                if uuencode::may_contain(&text) {
                    text_forms::read_uuencoded(ctx, &text, &location, depth + 1);
                }
                ctx.push(kind, location, text);
            }
            PartType::Message(inner) => {
                nested += 1;
                let location = format!("{prefix}message:{nested}/");
                dispatch::embedded(ctx, Embedded::Message(inner), &location, depth + 1);
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                if ctype == "message/partial" {
                    ctx.unscannable(&here, Cause::Unsupported, PARTIAL);
                    continue;
                }
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

fn is_base64(part: &MessagePart<'_>) -> bool {
    part.content_transfer_encoding()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"))
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
