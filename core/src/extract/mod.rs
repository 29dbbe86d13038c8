//! Turns a raw message into the texts to match against, each with a location.
//!
//! Decoding of the MIME layer is done once by mail-parser (RFC 2047/2231,
//! transfer encodings, charsets). This module walks the MIME tree, decides
//! which headers are human-readable, hands attachments to the format
//! extractors (one module per format), labels every piece of text and notes
//! what it could not read. Every extractor runs under the shared [`Limits`]:
//! nesting depth, part and entry counts, inflated bytes, PDF pages and a
//! deadline, each exceeded limit an [`Unscannable`] entry.

mod attach;
mod binary_text;
mod doc;
mod flowed;
mod headers;
mod html;
mod html_attrs;
mod html_table;
mod ical;
mod msg;
mod odf;
mod ole;
mod ooxml;
mod pdf;
mod plain;
mod ppt;
mod protection;
mod rtf;
mod sniff;
mod text;
mod tnef;
mod uuencode;
mod xls;
mod xml;
mod zip;

use std::borrow::Cow;
use std::time::{Duration, Instant};

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
pub use plain::extract_headers;
use plain::plain_utf8_message;
use protection::{is_crypto_control, protection_of, Protection};

pub use html::html_to_text;

/// What a piece of text is, which decides the policy that applies to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentKind {
    /// The Subject header.
    Subject,
    /// Another human-readable header, or an attachment file name.
    Header,
    /// A message body part (text/plain, text/html).
    Body,
    /// Text extracted from an attachment.
    Attachment,
}

impl SegmentKind {
    /// Headers and file names are visible everywhere the mail goes (lists,
    /// notifications, logs), so a number there is rejected whatever the
    /// recipients.
    pub fn is_header_like(self) -> bool {
        matches!(self, SegmentKind::Subject | SegmentKind::Header)
    }
}

/// One piece of decoded text.
#[derive(Clone, Debug)]
pub struct Segment<'r> {
    pub kind: SegmentKind,
    /// `header:Subject`, `body:text/plain`, `message:1/body:text/plain`,
    /// `attachment:rapport.docx:word/document.xml` …
    pub location: String,
    /// Borrowed from the raw message where no decoding was needed (a plain
    /// UTF-8 body), owned otherwise.
    pub text: Cow<'r, str>,
}

/// Content that could not be inspected, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unscannable {
    pub location: String,
    pub reason: String,
}

/// Everything extracted from one message.
#[derive(Clone, Debug, Default)]
pub struct Extracted<'r> {
    pub segments: Vec<Segment<'r>>,
    /// S/MIME enveloped-data or PGP/MIME encrypted content was present
    /// (checked by its bytes, not only by its label).
    pub encrypted: bool,
    pub unscannable: Vec<Unscannable>,
    /// The extraction deadline cut the walk short: part of the message was
    /// never looked at. An `unscannable` entry says where; this flag lets
    /// the policy answer with a temporary failure instead of judging a
    /// half-read message.
    pub deadline_exceeded: bool,
}

impl Extracted<'_> {
    /// Detaches the result from the raw message (copies borrowed bodies).
    pub fn into_owned(self) -> Extracted<'static> {
        Extracted {
            segments: self
                .segments
                .into_iter()
                .map(|s| Segment {
                    kind: s.kind,
                    location: s.location,
                    text: Cow::Owned(s.text.into_owned()),
                })
                .collect(),
            encrypted: self.encrypted,
            unscannable: self.unscannable,
            deadline_exceeded: self.deadline_exceeded,
        }
    }
}

/// Limits that keep hostile input bounded.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest raw message extracted at all.
    pub max_message_bytes: u64,
    /// Nesting of messages and archives inside each other.
    pub max_depth: usize,
    /// MIME parts, counted over the whole message including nested ones.
    pub max_parts: usize,
    /// Entries read from one ZIP container (also DOCX/XLSX/ODF).
    pub max_zip_entries: usize,
    /// Bytes inflated from archives and PDF streams, over the whole message.
    pub max_uncompressed_bytes: u64,
    /// Inflated size / compressed size above which an entry is a bomb.
    pub max_compression_ratio: u64,
    /// Pages read from one PDF.
    pub max_pdf_pages: usize,
    /// Wall-clock budget for extracting one message. From the configuration
    /// it is 80 % of `scan_timeout_seconds` (see `From<&LimitSettings>`).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&crate::config::LimitSettings::default())
    }
}

impl From<&crate::config::LimitSettings> for Limits {
    fn from(l: &crate::config::LimitSettings) -> Self {
        Limits {
            max_message_bytes: l.max_message_bytes,
            max_depth: l.max_depth,
            max_parts: l.max_parts,
            max_zip_entries: l.max_zip_entries,
            max_uncompressed_bytes: l.max_uncompressed_bytes,
            max_compression_ratio: l.max_compression_ratio,
            max_pdf_pages: l.max_pdf_pages,
            timeout: extraction_budget(l.scan_timeout_seconds),
        }
    }
}

/// The extraction deadline for a configured `scan_timeout_seconds`: 80 % of
/// it. The daemon runs the whole inspection under an outer timer of
/// `scan_timeout_seconds`; if both fired at the same moment the outer one
/// could win the race and answer before extraction had reported what it cut
/// short. Ending extraction clearly earlier leaves the remaining 20 % for
/// matching and the verdict, so the inner deadline (recorded as
/// `deadline_exceeded`) is what normally ends a slow scan.
fn extraction_budget(scan_timeout_seconds: u64) -> Duration {
    Duration::from_millis(scan_timeout_seconds.saturating_mul(800))
}

const MAX_UNSCANNABLE: usize = 256;

/// Why a `message/partial` fragment is not read.
const PARTIAL: &str =
    "message/partial: one fragment of a split message; the whole cannot be reassembled within one transaction";

/// State shared by every extractor while one message is walked.
pub(crate) struct Ctx<'a> {
    pub limits: &'a Limits,
    deadline: Instant,
    timed_out: bool,
    parts: Tally,
    entries: Tally,
    /// Bytes inflated so far (archives, PDF streams, nested base64 mails).
    pub inflated: u64,
    pub out: Extracted<'static>,
}

/// A count against a limit.
#[derive(Default)]
struct Tally(usize);

enum Step {
    Within,
    /// This one passed the limit: report it.
    JustOver,
    /// Already reported.
    StillOver,
}

impl Tally {
    fn bump(&mut self, max: usize) -> Step {
        self.0 += 1;
        match self.0.cmp(&max.saturating_add(1)) {
            std::cmp::Ordering::Less => Step::Within,
            std::cmp::Ordering::Equal => Step::JustOver,
            std::cmp::Ordering::Greater => Step::StillOver,
        }
    }
}

impl<'a> Ctx<'a> {
    fn new(limits: &'a Limits) -> Self {
        Ctx {
            limits,
            deadline: Instant::now() + limits.timeout,
            timed_out: false,
            parts: Tally::default(),
            entries: Tally::default(),
            inflated: 0,
            out: Extracted::default(),
        }
    }

    pub fn unscannable(&mut self, location: &str, reason: impl Into<String>) {
        // Hostile input can fail in many places; a few hundred reasons are
        // enough to judge it and keep memory bounded.
        // Past the cap only a reason not seen yet is kept.
        let reason = reason.into();
        if self.out.unscannable.len() >= MAX_UNSCANNABLE
            && self.out.unscannable.iter().any(|u| u.reason == reason)
        {
            return;
        }
        self.out.unscannable.push(Unscannable {
            location: location.to_string(),
            reason,
        });
    }

    pub fn push(&mut self, kind: SegmentKind, location: String, text: String) {
        if !text.trim().is_empty() {
            self.out.segments.push(Segment {
                kind,
                location,
                text: text.into(),
            });
        }
    }

    /// True once the extraction deadline has passed; records it once.
    pub fn expired(&mut self, location: &str) -> bool {
        if self.timed_out {
            return true;
        }
        if Instant::now() >= self.deadline {
            self.timed_out = true;
            self.out.deadline_exceeded = true;
            let secs = self.limits.timeout.as_secs_f64();
            self.unscannable(location, format!("extraction took longer than {secs:.1} s"));
        }
        self.timed_out
    }

    /// Counts one more MIME part; false past the limit (recorded once).
    pub fn count_part(&mut self, location: &str) -> bool {
        let max = self.limits.max_parts;
        let step = self.parts.bump(max);
        self.within(step, location, || format!("more than {max} MIME parts"))
    }

    /// Counts one more archive entry (over all archives of the message);
    /// false past the limit (recorded once).
    pub fn count_entry(&mut self, location: &str) -> bool {
        let max = self.limits.max_zip_entries;
        let step = self.entries.bump(max);
        self.within(step, location, || {
            format!("more than {max} archive entries")
        })
    }

    fn within(&mut self, step: Step, location: &str, reason: impl FnOnce() -> String) -> bool {
        match step {
            Step::Within => true,
            Step::JustOver => {
                self.unscannable(location, reason());
                false
            }
            Step::StillOver => false,
        }
    }

    /// Bytes that may still be inflated.
    pub fn budget_left(&self) -> u64 {
        self.limits
            .max_uncompressed_bytes
            .saturating_sub(self.inflated)
    }

    /// False (recorded) when `depth` is past the nesting limit.
    pub fn depth_ok(&mut self, depth: usize, location: &str) -> bool {
        if depth > self.limits.max_depth {
            let max = self.limits.max_depth;
            self.unscannable(location, format!("nesting deeper than {max}"));
            return false;
        }
        true
    }
}

/// Extracts every readable text of `raw`.
pub fn extract<'r>(raw: &'r [u8], limits: &Limits) -> Extracted<'r> {
    let mut ctx = Ctx::new(limits);
    if raw.len() as u64 > limits.max_message_bytes {
        let max = limits.max_message_bytes;
        ctx.unscannable("message", format!("message larger than {max} bytes"));
        return ctx.out;
    }
    if let Some(out) = plain_utf8_message(raw, &mut ctx) {
        return out;
    }
    match parse(raw) {
        Ok(msg) => walk_message(&msg, "", 0, &mut ctx),
        Err(reason) => ctx.unscannable("message", reason),
    }
    ctx.out
}

/// Parses bytes that claim to be a mail (an .eml attachment, a message/rfc822
/// part mail-parser left as binary) and walks it under `prefix`.
pub(crate) fn walk_raw_message(raw: &[u8], prefix: &str, depth: usize, ctx: &mut Ctx<'_>) {
    if !ctx.depth_ok(depth, &format!("{prefix}message")) {
        return;
    }
    match parse(raw) {
        Ok(msg) => walk_message(&msg, prefix, depth, ctx),
        Err(reason) => ctx.unscannable(&format!("{prefix}message"), reason),
    }
}

/// mail-parser behind `catch_unwind`: some malformed boundaries trip an
/// arithmetic overflow check inside it (seen on the real-mail corpus in
/// debug builds), which must cost an `unscannable`, not the process.
fn parse(raw: &[u8]) -> Result<Message<'_>, &'static str> {
    match std::panic::catch_unwind(|| MessageParser::default().parse(raw)) {
        Ok(Some(msg)) => Ok(msg),
        Ok(None) => Err("not a parseable RFC 5322 message"),
        Err(_) => Err("the MIME parser failed on malformed structure"),
    }
}

fn walk_message(msg: &Message<'_>, prefix: &str, depth: usize, ctx: &mut Ctx<'_>) {
    if !ctx.depth_ok(depth, &format!("{prefix}message")) {
        return;
    }
    headers::collect(msg.root_part().headers(), prefix, &mut ctx.out);
    let protection: Vec<Protection> = msg.parts.iter().map(|p| protection_of(msg, p)).collect();
    // The ciphertext parts of a verified multipart/encrypted.
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
    let mut nested = 0;
    for (idx, part) in msg.parts.iter().enumerate() {
        let here = format!("{prefix}part:{idx}");
        if ctx.expired(&here) || !ctx.count_part(&here) {
            return;
        }
        let ctype = content_type_of(part);
        match protection[idx] {
            Protection::Encrypted => ctx.out.encrypted = true,
            Protection::OpaqueSigned => {
                ctx.unscannable(&here, "S/MIME opaque-signed content is not unpacked");
            }
            Protection::UnknownCms => {
                ctx.unscannable(&here, "S/MIME content of an unknown type is not unpacked");
            }
            Protection::None => {}
        }
        let name = part.attachment_name().map(str::to_string);
        if let Some(name) = &name {
            ctx.push(
                SegmentKind::Header,
                format!("{prefix}filename:{name}"),
                name.clone(),
            );
        }
        if idx > 0 {
            headers::collect_part(part.headers(), prefix, idx, &mut ctx.out);
        }
        let is_attachment = name.is_some() || is_disposition_attachment(part);
        match &part.body {
            PartType::Text(text) | PartType::Html(text) => {
                if binary_text::looks_binary(text) {
                    if let Some(bytes) = binary_text::transfer_decoded(msg, part) {
                        let label = name.clone().unwrap_or_else(|| format!("part{idx}"));
                        let file = attach::File {
                            bytes: &bytes,
                            name: &label,
                            ctype: "",
                            charset: None,
                        };
                        let loc = format!("{prefix}attachment:{label}");
                        attach::scan(ctx, &file, &loc, depth + 1);
                        continue;
                    }
                }
                // HTML comes as Html, or as Text when mail-parser did not
                // treat it as a body (an HTML attachment): tags go either way.
                let text = if matches!(part.body, PartType::Html(_)) || ctype == "text/html" {
                    html_to_text(text)
                } else if ical::is_calendar(&ctype, name.as_deref().unwrap_or("")) {
                    ical::unfold(text)
                } else if let Some(how) = flowed::Flowed::of(part.content_type()) {
                    flowed::unflow(text, how)
                } else {
                    text.to_string()
                };
                if uuencode::may_contain(&text) {
                    let loc = format!("{prefix}body:{ctype}");
                    attach::scan_uuencoded(ctx, &text, &loc, depth + 1);
                }
                push_body(
                    ctx,
                    prefix,
                    &ctype,
                    name.as_deref(),
                    is_attachment,
                    idx,
                    text,
                );
            }
            PartType::Message(inner) => {
                nested += 1;
                walk_message(inner, &format!("{prefix}message:{nested}/"), depth + 1, ctx);
            }
            PartType::Binary(bytes) | PartType::InlineBinary(bytes) => {
                let label = name.clone().unwrap_or_else(|| format!("part{idx}"));
                if ctype == "message/partial" {
                    ctx.unscannable(&here, PARTIAL);
                    continue;
                }
                if ctype == "message/rfc822" || ctype == "message/global" {
                    nested += 1;
                    walk_raw_message(bytes, &format!("{prefix}message:{nested}/"), depth + 1, ctx);
                    continue;
                }
                if protection[idx] != Protection::None
                    || ciphertext[idx]
                    || is_crypto_control(&ctype, bytes)
                {
                    continue;
                }
                let charset = part
                    .content_type()
                    .and_then(|c| c.attribute("charset"))
                    .map(str::to_string);
                let file = attach::File {
                    bytes,
                    name: &label,
                    ctype: &ctype,
                    charset: charset.as_deref(),
                };
                attach::scan(
                    ctx,
                    &file,
                    &format!("{prefix}attachment:{label}"),
                    depth + 1,
                );
            }
            PartType::Multipart(_) => {}
        }
    }
}

fn push_body(
    ctx: &mut Ctx<'_>,
    prefix: &str,
    ctype: &str,
    name: Option<&str>,
    is_attachment: bool,
    idx: usize,
    text: String,
) {
    if is_attachment {
        let label = name
            .map(str::to_string)
            .unwrap_or_else(|| format!("part{idx}"));
        ctx.push(
            SegmentKind::Attachment,
            format!("{prefix}attachment:{label}"),
            text,
        );
    } else {
        ctx.push(SegmentKind::Body, format!("{prefix}body:{ctype}"), text);
    }
}

fn is_disposition_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}

fn content_type_of(part: &mail_parser::MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
            None => ct.c_type.to_ascii_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// Flattens a decoded header value into the text a person would read.
pub(crate) fn header_text(value: &HeaderValue<'_>) -> Option<String> {
    match value {
        HeaderValue::Text(t) => Some(t.to_string()),
        HeaderValue::TextList(list) => Some(list.join(", ")),
        HeaderValue::Address(addr) => {
            let mut parts = Vec::new();
            for a in addr.iter() {
                if let Some(n) = &a.name {
                    parts.push(n.to_string());
                }
                if let Some(e) = &a.address {
                    parts.push(e.to_string());
                }
            }
            Some(parts.join(", "))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        walk_message(&parse(raw.as_bytes()).unwrap(), "", 0, &mut ctx);
        let full: Vec<(&str, String)> = ctx
            .out
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
