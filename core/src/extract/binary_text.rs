//! A file declared `text/*` that is not text (a PDF or ZIP sent as
//! `text/plain`, a misconfigured scanner's `text/html` image): the MIME
//! parser has already decoded it as text, losing bytes to replacement
//! characters. Such a part is recognised, its bytes are taken again from the
//! raw message, and it is sniffed like any attachment.

use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};
use mail_parser::{Encoding, Message, MessagePart};

/// Signatures of binary formats that have a reader, as the lossy text
/// decoding leaves them (their first bytes are ASCII).
const READABLE_MAGIC: &[&str] = &["%PDF-", "PK\u{3}\u{4}", "PK\u{5}\u{6}"];

/// Does this decoded "text" hold binary data?
pub fn looks_binary(text: &str) -> bool {
    if READABLE_MAGIC.iter().any(|m| text.starts_with(m)) {
        return true;
    }
    let head = match text.char_indices().nth(8192) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let (mut chars, mut odd) = (0usize, 0usize);
    for c in head.chars() {
        chars += 1;
        if c == '\0' {
            return true;
        }
        if c == '\u{FFFD}' || (c < ' ' && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) {
            odd += 1;
        }
    }
    // Real text in a wrong charset has a few replacement characters; binary
    // data has one in three or so.
    chars >= 16 && odd * 10 > chars
}

/// The part's body after transfer decoding, taken from the raw message.
pub fn transfer_decoded(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<Vec<u8>> {
    let raw = msg
        .raw_message()
        .get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        Encoding::Base64 => base64_decode(raw),
        Encoding::QuotedPrintable => quoted_printable_decode(raw),
        Encoding::None => Some(raw.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_text() {
        assert!(looks_binary("%PDF-1.4\n\u{FFFD}\u{FFFD}"));
        assert!(looks_binary("PK\u{3}\u{4}\u{14}\0"));
        assert!(looks_binary(&"\u{FFFD}\u{1}x".repeat(20)));
        assert!(!looks_binary("Kære Søren, CPR 241085-1337\r\n"));
        assert!(!looks_binary(&format!(
            "{}\u{FFFD}",
            "Hej med dig ".repeat(20)
        )));
        assert!(!looks_binary(""));
    }
}
