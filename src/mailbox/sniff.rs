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

/// Header fields of which a message has at least two near its top.
const TYPICAL_FIELDS: &[&str] = &[
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "mime-version",
    "content-type",
    "sender",
    "reply-to",
];

/// Classifies a file by `prefix`, its first bytes (up to [`SNIFF_BYTES`]).
pub fn classify(prefix: &[u8]) -> Result<Kind, NotMail> {
    if prefix.is_empty() {
        return Err(NotMail::Empty);
    }
    if prefix.starts_with(b"From ") {
        return Ok(Kind::Mbox);
    }
    let mut typical = 0;
    let mut fields = 0;
    let mut rest = prefix;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            // The last line, or one cut by the end of the prefix: judged
            // by what it holds (its field name).
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&0) {
            return Err(NotMail::Binary);
        }
        if line.is_empty() {
            break; // end of the header block
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if fields == 0 {
                return Err(NotMail::NoHeaders);
            }
        } else {
            let name = field_name(line).ok_or(NotMail::NoHeaders)?;
            fields += 1;
            if TYPICAL_FIELDS
                .iter()
                .any(|f| f.as_bytes().eq_ignore_ascii_case(name))
            {
                typical += 1;
            }
        }
        rest = next;
    }
    // Two typical fields: one `from:` key in a YAML file is not a message.
    if typical >= 2 {
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
