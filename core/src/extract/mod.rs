//! Turns a raw message into the texts to match against, each with a location.
//!
//! Layers, each importing only from the ones below it:
//!
//! - the ground floor (`ground`): limits, the walk's context and tallies,
//!   the output types; every reader imports it and it imports no reader;
//! - the MIME walker (`mime`): one parsed message to segments (headers,
//!   bodies, cryptographic labels judged by their bytes);
//! - the dispatcher (`dispatch`): a file to text, one match on the sniffed
//!   format (`sniff`); its `embedded` is the one entry through which
//!   extraction recurses (attachments, nested messages, files inside
//!   archives and documents);
//! - the leaves: one format each (`text`, `html`, `pdf`, `ole`, the
//!   ZIP-based `archive`, `ooxml` and `odf` over the bounded `zip`
//!   access and the office `xml` text).
//!
//! Every reader runs under the shared [`Limits`] and checks them inside its
//! own loops: nesting depth, part and entry counts, inflated bytes, PDF
//! pages and operators, and a deadline read every thousand or so tokens, so
//! a timed-out message stops working soon after its deadline. Whatever is
//! present but not read is an [`Unscannable`] with its location, reason and
//! [`Cause`] — never a silent gap.
//!
//! Memory for one message stays a small multiple of `max_message_bytes`
//! (M) plus `max_uncompressed_bytes` (U): the raw message (M), mail-parser's
//! decoded parts (at most M again: decoding never grows base64 or
//! quoted-printable), the bytes inflated from archives and PDF streams (at
//! most U over the whole message, one 64 MiB stream at a time for PDF) and
//! the texts made from them (no larger than what they were made from). A
//! PDF page's content is tokenised incrementally keeping only text state,
//! so a huge content stream costs its inflated bytes, not an object tree.
//! With the defaults (M = 64 MiB, U = 256 MiB) the peak is under
//! 2 M + 2 U ≈ 640 MiB and in practice a few times the message size.

mod archive;
mod binary_text;
mod compound;
mod dispatch;
mod doc;
mod flowed;
mod ground;
mod html;
mod html_attrs;
mod html_table;
mod ical;
mod image_text;
mod mime;
mod msg;
mod odf;
mod ole;
mod ooxml;
mod pdf;
mod ppt;
mod rtf;
mod sheet_formats;
mod sheet_places;
mod sniff;
mod split_cells;
mod summary;
mod text;
mod text_forms;
mod tnef;
mod uuencode;
mod xls;
mod xml;
mod zip;

use ground::Ctx;

pub use ground::{
    extraction_budget, Cause, Extracted, Limits, PerCause, Segment, SegmentKind, Unscannable,
};
pub use html::html_to_text;
pub use image_text::{ImageKind, ImageText, OcrBudget, OcrError};
pub use mime::extract_headers;

/// Extracts every readable text of `raw`.
pub fn extract<'r>(raw: &'r [u8], limits: &Limits) -> Extracted<'r> {
    extract_with(raw, limits, None)
}

/// [`extract`], handing images to `image_text` (OCR) when there is one.
pub fn extract_with<'r>(
    raw: &'r [u8],
    limits: &Limits,
    image_text: Option<&'r dyn ImageText>,
) -> Extracted<'r> {
    let mut ctx = Ctx::new(limits).with_image_text(image_text);
    if raw.len() as u64 > limits.max_message_bytes {
        let max = limits.max_message_bytes;
        ctx.unscannable(
            "message",
            Cause::Limit,
            format!("message larger than {max} bytes"),
        );
        return ctx.finish();
    }
    if mime::plain_utf8_message(raw, &mut ctx) {
        return ctx.finish();
    }
    match mime::parse(raw) {
        Ok(msg) => mime::walk(&msg, "", 0, &mut ctx),
        Err(mime::Unparsed::NoMessage) => {
            mime::read_as_text(raw, "", SegmentKind::Body, &mut ctx);
        }
        Err(e @ mime::Unparsed::ParserFailed) => {
            ctx.unscannable("message", Cause::Broken, e.reason());
        }
    }
    ctx.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn find<'a>(x: &'a Extracted<'_>, loc: &str) -> Option<&'a Segment<'a>> {
        x.segments.iter().find(|s| s.location == loc)
    }

    #[test]
    fn encoded_subject_and_base64_body_are_decoded() {
        let raw = b"From: a@nyborg.dk\r\nTo: b@x.dk\r\nSubject: =?utf-8?B?U2FnIG9tIGJvcmdlcg==?=\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
SGVqIHZlcmRlbg==\r\n";
        let x = extract(raw, &Limits::default());
        assert_eq!(find(&x, "header:Subject").unwrap().text, "Sag om borger");
        assert_eq!(
            find(&x, "body:text/plain").unwrap().text.trim(),
            "Hej verden"
        );
        assert!(find(&x, "header:Received").is_none());
    }

    #[test]
    fn encrypted_smime_is_flagged() {
        let raw = b"From: a@b.dk\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\r\n";
        assert!(extract(raw, &Limits::default()).encrypted);
    }

    #[test]
    fn oversized_message_is_unscannable() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        let x = extract(b"Subject: hello there\r\n\r\nbody\r\n", &limits);
        assert!(x.unscannable[0].reason.contains("larger than 10"));
    }

    #[test]
    fn plain_utf8_body_is_borrowed_and_matches_the_full_walk() {
        let raw =
            "From: a@nyborg.dk\r\nSubject: Sag\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: 8bit\r\n\r\nKære Søren, CPR 241085-1337\r\n";
        let fast = extract(raw.as_bytes(), &Limits::default());
        let body = fast
            .segments
            .iter()
            .find(|s| s.location == "body:text/plain")
            .unwrap();
        assert!(matches!(body.text, Cow::Borrowed(_)));
        let limits = Limits::default();
        let mut ctx = Ctx::new(&limits);
        let msg = mime::parse(raw.as_bytes()).unwrap();
        mime::walk(&msg, "", 0, &mut ctx);
        let full = ctx.finish();
        let full: Vec<(&str, String)> = full
            .segments
            .iter()
            .map(|s| (s.location.as_str(), s.text.trim().to_string()))
            .collect();
        let fast: Vec<(&str, String)> = fast
            .segments
            .iter()
            .map(|s| (s.location.as_str(), s.text.trim().to_string()))
            .collect();
        assert_eq!(fast, full);
    }

    #[test]
    fn encoded_or_foreign_charset_bodies_take_the_full_walk() {
        for (headers, body, expect) in [
            (
                "Content-Transfer-Encoding: quoted-printable\r\n",
                "CPR 241085-=\r\n1337\r\n",
                "CPR 241085-1337",
            ),
            (
                "Content-Type: text/plain; charset=iso-8859-1\r\n",
                "S\u{f8}ren\r\n",
                "Søren",
            ),
        ] {
            let mut raw = format!("From: a@nyborg.dk\r\n{headers}\r\n").into_bytes();
            raw.extend(body.chars().map(|c| c as u32 as u8));
            let x = extract(&raw, &Limits::default());
            let seg = x
                .segments
                .iter()
                .find(|s| s.location == "body:text/plain")
                .unwrap();
            assert!(matches!(seg.text, Cow::Owned(_)), "{headers}");
            assert_eq!(seg.text.trim(), expect);
        }
    }
}
