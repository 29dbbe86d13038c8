//! Turns a raw message into the texts to match against, each with a location.
//!
//! Decoding is done once by mail-parser (RFC 2047/2231, transfer encodings,
//! charsets); this module walks the MIME tree, decides which headers are
//! human-readable, labels every piece of text and notes what it could not read.

mod headers;

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

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
pub struct Segment {
    pub kind: SegmentKind,
    /// `header:Subject`, `body:text/plain`, `message:1/body:text/plain` …
    pub location: String,
    pub text: String,
}

/// Content that could not be inspected, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unscannable {
    pub location: String,
    pub reason: String,
}

/// Everything extracted from one message.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    pub segments: Vec<Segment>,
    /// S/MIME enveloped-data or PGP/MIME encrypted content was present.
    pub encrypted: bool,
    pub unscannable: Vec<Unscannable>,
}

/// Limits that keep hostile input bounded.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&crate::config::LimitSettings::default())
    }
}

impl From<&crate::config::LimitSettings> for Limits {
    fn from(l: &crate::config::LimitSettings) -> Self {
        Limits { max_depth: l.max_depth, max_parts: l.max_parts }
    }
}

/// Extracts every readable text of `raw`.
pub fn extract(raw: &[u8], limits: &Limits) -> Extracted {
    let mut out = Extracted::default();
    match MessageParser::default().parse(raw) {
        Some(msg) => walk_message(&msg, "", 0, limits, &mut out),
        None => out.unscannable.push(Unscannable {
            location: "message".into(),
            reason: "not a parseable RFC 5322 message".into(),
        }),
    }
    out
}

fn walk_message(msg: &Message<'_>, prefix: &str, depth: usize, limits: &Limits, out: &mut Extracted) {
    if depth > limits.max_depth {
        out.unscannable.push(Unscannable {
            location: format!("{prefix}message"),
            reason: format!("nesting deeper than {}", limits.max_depth),
        });
        return;
    }
    headers::collect(msg.root_part().headers(), prefix, out);
    if msg.parts.len() > limits.max_parts {
        out.unscannable.push(Unscannable {
            location: format!("{prefix}message"),
            reason: format!("more than {} MIME parts", limits.max_parts),
        });
        return;
    }
    let mut nested = 0;
    for (idx, part) in msg.parts.iter().enumerate() {
        let ctype = content_type_of(part);
        if is_encrypted(part) {
            out.encrypted = true;
        }
        if let Some(name) = part.attachment_name() {
            out.segments.push(Segment {
                kind: SegmentKind::Header,
                location: format!("{prefix}filename:{name}"),
                text: name.to_string(),
            });
        }
        if idx > 0 {
            headers::collect_part(part.headers(), prefix, idx, out);
        }
        match &part.body {
            PartType::Text(text) => out.segments.push(body_segment(part, prefix, &ctype, text.to_string())),
            PartType::Html(html) => out.segments.push(body_segment(part, prefix, &ctype, html_to_text(html))),
            PartType::Message(inner) => {
                nested += 1;
                walk_message(inner, &format!("{prefix}message:{nested}/"), depth + 1, limits, out);
            }
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => {}
        }
    }
}

fn body_segment(part: &mail_parser::MessagePart<'_>, prefix: &str, ctype: &str, text: String) -> Segment {
    match part.attachment_name() {
        Some(name) => Segment {
            kind: SegmentKind::Attachment,
            location: format!("{prefix}attachment:{name}"),
            text,
        },
        None => Segment { kind: SegmentKind::Body, location: format!("{prefix}body:{ctype}"), text },
    }
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

fn is_encrypted(part: &mail_parser::MessagePart<'_>) -> bool {
    let Some(ct) = part.content_type() else { return false };
    let sub = ct.c_subtype.as_deref().unwrap_or("").to_ascii_lowercase();
    let ty = ct.c_type.to_ascii_lowercase();
    if ty == "multipart" && sub == "encrypted" {
        return true;
    }
    if ty == "application" && (sub == "pkcs7-mime" || sub == "x-pkcs7-mime") {
        let smime = ct.attribute("smime-type").unwrap_or("enveloped-data");
        return smime.eq_ignore_ascii_case("enveloped-data") || smime.eq_ignore_ascii_case("authenveloped-data");
    }
    false
}

/// Minimal HTML to text: tags become spaces, common entities are decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let len = c.len_utf8();
        if in_tag {
            if c == '>' {
                in_tag = false;
                out.push(' ');
            }
        } else if c == '<' {
            in_tag = true;
        } else if c == '&' {
            if let Some(end) = rest[..rest.len().min(12)].find(';') {
                if let Some(decoded) = decode_entity(&rest[1..end]) {
                    out.push(decoded);
                    rest = &rest[end + 1..];
                    continue;
                }
            }
            out.push('&');
        } else {
            out.push(c);
        }
        rest = &rest[len..];
    }
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "nbsp" => '\u{a0}',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "shy" => '\u{ad}',
        _ => return None,
    })
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

    fn find<'a>(x: &'a Extracted, loc: &str) -> Option<&'a Segment> {
        x.segments.iter().find(|s| s.location == loc)
    }

    #[test]
    fn encoded_subject_and_base64_body_are_decoded() {
        let raw = b"From: a@nyborg.dk\r\nTo: b@x.dk\r\nSubject: =?utf-8?B?U2FnIG9tIGJvcmdlcg==?=\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
SGVqIHZlcmRlbg==\r\n";
        let x = extract(raw, &Limits::default());
        assert_eq!(find(&x, "header:Subject").unwrap().text, "Sag om borger");
        assert_eq!(find(&x, "body:text/plain").unwrap().text.trim(), "Hej verden");
        assert!(find(&x, "header:Received").is_none());
    }

    #[test]
    fn html_entities_and_tags() {
        assert_eq!(html_to_text("<p>a&nbsp;b</p>&#45;"), " a\u{a0}b -");
    }

    #[test]
    fn encrypted_smime_is_flagged() {
        let raw = b"From: a@b.dk\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\r\n";
        assert!(extract(raw, &Limits::default()).encrypted);
    }
}
