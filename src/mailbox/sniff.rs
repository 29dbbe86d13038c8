//! Is this file a mail? Decided from its first bytes (after decompression),
//! never from its name: a Maildir holds Dovecot index and uid lists, a
//! folder of exports holds scripts and spreadsheets. Only a file that starts
//! like a message is judged; anything else is skipped and counted.

/// How many leading bytes the decision looks at.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Starts with a `From ` separator line: one or more messages.
    Mbox,
    /// Starts with a header block: one message (.eml, Maildir, MH).
    Message,
}

/// Why a file is not taken for mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotMail {
    Empty,
    Binary,
    NoHeaders,
}

impl NotMail {
    pub fn as_str(self) -> &'static str {
        match self {
            NotMail::Empty => "empty file",
            NotMail::Binary => "binary data, not a message",
            NotMail::NoHeaders => "text without message headers",
        }
    }
}

/// Header fields common at the top of a message: two of them make a header
/// block (one `from:` key in a YAML file does not).
const TYPICAL_FIELDS: &[&str] = &["from", "to", "cc", "subject", "date", "sender", "reply-to"];

/// Header fields that only mail and MIME entities carry: one is enough.
const MAIL_ONLY_FIELDS: &[&str] = &[
    "received",
    "return-path",
    "message-id",
    "delivered-to",
    "x-original-to",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "dkim-signature",
];

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Classifies a file by `prefix`, its first bytes (up to [`SNIFF_BYTES`]).
/// Lenient the way mail parsers are: the header block ends at the first
/// empty line or at the first line that is not a field.
pub fn classify(prefix: &[u8]) -> Result<Kind, NotMail> {
    if prefix.is_empty() {
        return Err(NotMail::Empty);
    }
    if prefix.starts_with(b"From ") {
        return Ok(Kind::Mbox);
    }
    let mut rest = prefix.strip_prefix(UTF8_BOM).unwrap_or(prefix);
    let (mut typical, mut mail_only, mut fields) = (0, 0, 0);
    while !rest.is_empty() {
        // The last line, or one cut by the end of the prefix, is judged by
        // what it holds (its field name).
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&0) {
            return Err(NotMail::Binary);
        }
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if fields == 0 {
                return Err(NotMail::NoHeaders);
            }
        } else {
            let Some(name) = field_name(line) else {
                break;
            };
            fields += 1;
            let is = |list: &[&str]| list.iter().any(|f| f.as_bytes().eq_ignore_ascii_case(name));
            typical += usize::from(is(TYPICAL_FIELDS));
            mail_only += usize::from(is(MAIL_ONLY_FIELDS));
        }
        rest = next;
    }
    if typical >= 2 || mail_only >= 1 {
        Ok(Kind::Message)
    } else if prefix.iter().take(4096).any(|&b| b == 0) {
        Err(NotMail::Binary)
    } else {
        Err(NotMail::NoHeaders)
    }
}

/// The field name of an RFC 5322 header line: printable ASCII other than
/// `:` and space, then a colon (some writers put blanks before the colon).
fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', line)?;
    let name = line[..colon].trim_ascii_end();
    let printable = |b: &u8| (33..=126).contains(b) && *b != b':';
    (!name.is_empty() && name.len() <= 76 && name.iter().all(printable)).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_mboxes_are_recognised() {
        assert_eq!(
            classify(b"Return-Path: <a@b>\r\nSubject: x\r\n\r\nbody"),
            Ok(Kind::Message)
        );
        assert_eq!(
            classify(b"X-Spam: 1\nReceived: from a\n\tby b\nFrom: a@b\n"),
            Ok(Kind::Message)
        );
        assert_eq!(classify(b"From a@b Mon Jan  1\n"), Ok(Kind::Mbox));
    }

    #[test]
    fn maildir_side_files_and_scripts_are_not_mail() {
        let cases: [(&[u8], NotMail); 6] = [
            (b"", NotMail::Empty),
            (
                b"3 V1700000000 N42 G0123abcd\n1 :1700000000\n",
                NotMail::NoHeaders,
            ),
            (b"INBOX\nSent\nTrash\n", NotMail::NoHeaders),
            (
                b"#!/usr/bin/env python3\nimport os\nprint('From: x')\n",
                NotMail::NoHeaders,
            ),
            (b"\x01\x02\x00\x00dovecot index", NotMail::Binary),
            (b"key: value\nfrom: thing\n", NotMail::NoHeaders),
        ];
        for (bytes, why) in cases {
            assert_eq!(
                classify(bytes),
                Err(why),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_huge_first_line_is_judged_on_the_prefix() {
        let mut long = b"From: a@b.dk\nSubject: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', SNIFF_BYTES));
        assert_eq!(classify(&long[..SNIFF_BYTES]), Ok(Kind::Message));
        assert_eq!(classify(&b"a".repeat(SNIFF_BYTES)), Err(NotMail::NoHeaders));
    }
}
