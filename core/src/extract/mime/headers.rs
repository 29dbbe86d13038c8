//! Which headers a person writes or reads, and their decoded text.
//!
//! Structural headers (trace, ids, signatures, MIME plumbing) carry numbers
//! that look like CPR numbers (timestamps, serials) and are never typed by the
//! sender, so they are skipped. Everything else is scanned.

use mail_parser::{Header, HeaderValue};

use crate::extract::ground::{Ctx, SegmentKind};

/// Exact names (lower case) of headers that are never scanned.
const STRUCTURAL: &[&str] = &[
    "received",
    "message-id",
    "references",
    "in-reply-to",
    "dkim-signature",
    "domainkey-signature",
    "authentication-results",
    "received-spf",
    "date",
    "return-path",
    "content-type",
    "content-transfer-encoding",
    "content-id",
    "content-disposition",
    "mime-version",
    "delivered-to",
    "x-original-to",
    "resent-message-id",
    "resent-date",
    "thread-index",
    "x-mailer",
    "user-agent",
    "x-mimeole",
    "x-msmail-priority",
    "x-priority",
    "precedence",
    "errors-to",
    "sender",
    "x-beenthere",
    "x-mailman-version",
    "x-virus-scanned",
    "x-originating-ip",
    "x-uidl",
    "status",
    "x-status",
    "x-keywords",
    "lines",
    "content-length",
    "x-face",
    "face",
    "autocrypt",
    "openpgp",
    "x-received",
    "feedback-id",
    "x-mailgun-variables",
    "x-sg-eid",
    "x-sg-id",
];

/// Prefixes (lower case) of structural header families.
const STRUCTURAL_PREFIXES: &[&str] = &[
    "arc-",
    "x-spam",
    "list-",
    "x-ms-",
    "x-microsoft-",
    "x-google-",
    "x-gm-",
    "x-forefront-",
    "x-exchange-",
    "x-originatororg",
    "x-proofpoint",
    "x-ironport",
    "x-barracuda",
    "x-mimecast",
    "x-amazon",
    "x-ses-",
    "x-pm-",
    "x-me-",
    "x-apple-",
    "x-yahoo",
    "x-ymail",
    "x-aol",
    "x-mc-",
    "x-cm",
    "x-dspam",
    "x-asg-",
    "x-virus",
    "x-antivirus",
    "x-original-",
    "x-provags",
    "x-ui-",
    "x-mail-",
    "x-msg-",
    "x-envelope-",
    "x-rcpt",
    "x-return-",
    "x-account",
    "x-loop",
];

fn is_structural(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    STRUCTURAL.contains(&lower.as_str()) || STRUCTURAL_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Top-level headers of a message (or of a nested message).
pub(crate) fn collect(headers: &[Header<'_>], prefix: &str, ctx: &mut Ctx<'_>) {
    for h in headers {
        let name = h.name.as_str();
        if is_structural(name) {
            continue;
        }
        if let Some(text) = header_text(&h.value) {
            let kind = if name.eq_ignore_ascii_case("subject") {
                SegmentKind::Subject
            } else {
                SegmentKind::Header
            };
            ctx.push(kind, format!("{prefix}header:{name}"), text);
        }
    }
}

/// Headers of a MIME part: only the human-written one (Content-Description);
/// file names are collected separately from the decoded parameters.
pub(crate) fn collect_part(headers: &[Header<'_>], prefix: &str, idx: usize, ctx: &mut Ctx<'_>) {
    for h in headers {
        if h.name.as_str().eq_ignore_ascii_case("content-description") {
            if let Some(text) = header_text(&h.value) {
                ctx.push(
                    SegmentKind::Header,
                    format!("{prefix}part:{idx}/header:Content-Description"),
                    text,
                );
            }
        }
    }
}

/// Flattens a decoded header value into the text a person would read.
fn header_text(value: &HeaderValue<'_>) -> Option<String> {
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
