//! Facts about one MIME part that several readers need.

use mail_parser::{MessagePart, MimeHeaders};

/// `type/subtype` in lower case; `text/plain` when undeclared (RFC 2045).
pub(super) fn content_type_of(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
            None => ct.c_type.to_ascii_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// `Content-Disposition: attachment`.
pub(super) fn is_disposition_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"))
}
