//! What the text around one candidate says about it: keywords near it, and
//! whether it sits in a URL, an e-mail address, a `key=value`/JSON field or
//! after a telephone country code. Everything works on the original bytes
//! without allocating.

use super::keywords::{KeywordMatch, KeywordSet};
use super::normalise::normalise;

/// Window sizes in characters (docs/design.md: ~40 before, 20 after).
pub const BEFORE_CHARS: usize = 40;
pub const AFTER_CHARS: usize = 20;

/// The context facts the scorer uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts<'k> {
    /// Nearest positive keyword in the window (before preferred).
    pub positive: Option<KeywordMatch<'k>>,
    /// The positive keyword stands directly before the number ("CPR-nr.: ").
    pub labelled: bool,
    /// A negative keyword on the number's own line (or the label line above).
    pub negative: Option<KeywordMatch<'k>>,
    pub url: bool,
    pub email: bool,
    /// `key=value` or `"key": value`.
    pub machine: bool,
    /// `+45 2410851337`
    pub phone_prefix: bool,
}

/// Byte offset `n` characters before `pos` (or 0).
pub fn chars_before(b: &[u8], pos: usize, n: usize) -> usize {
    let mut i = pos;
    let mut count = 0;
    while i > 0 && count < n {
        i -= 1;
        if b[i] & 0xC0 != 0x80 {
            count += 1;
        }
    }
    i
}

/// Byte offset `n` characters after `pos` (or the end).
pub fn chars_after(b: &[u8], pos: usize, n: usize) -> usize {
    let mut i = pos;
    let mut count = 0;
    while i < b.len() && count < n {
        i += 1;
        count += 1;
        while i < b.len() && b[i] & 0xC0 == 0x80 {
            i += 1;
        }
    }
    i
}

/// Narrows a before-window to the number's line; if the number opens its
/// line (only blanks before it), the line above is included, where its label
/// usually stands.
fn line_start(b: &[u8], lo: usize, start: usize) -> usize {
    let Some(nl) = b[lo..start]
        .iter()
        .rposition(|&c| c == b'\n')
        .map(|p| lo + p)
    else {
        return lo;
    };
    if b[nl + 1..start].iter().all(|c| c.is_ascii_whitespace()) {
        b[lo..nl]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(lo, |p| lo + p + 1)
    } else {
        nl + 1
    }
}

fn line_end(b: &[u8], end: usize, hi: usize) -> usize {
    b[end..hi]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(hi, |p| end + p)
}

/// Only separators and filler words ("nr", "nummer", "er" …) between a
/// keyword and the number: the sender labelled the number.
fn directly_before(gap: &[u8]) -> bool {
    const FILLER: &[&[u8]] = &[
        b"nr",
        b"no",
        b"num",
        b"nummer",
        b"nummeret",
        b"number",
        b"er",
        b"is",
    ];
    if gap.len() > 16 || gap.iter().any(|c| c.is_ascii_digit() || *c >= 0x80) {
        return false;
    }
    gap.split(|c| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .all(|w| FILLER.iter().any(|f| f.eq_ignore_ascii_case(w)))
}

fn token_stop(c: u8) -> bool {
    c.is_ascii_whitespace() || b"<>\"'()[]{}|".contains(&c)
}

/// (url, email): the whitespace-delimited token around the number looks like
/// a URL (`://`, `www.`) or contains an `@`.
fn url_or_email(b: &[u8], start: usize, end: usize) -> (bool, bool) {
    let lo = start.saturating_sub(256);
    let tok_start = b[lo..start]
        .iter()
        .rposition(|&c| token_stop(c))
        .map_or(lo, |p| lo + p + 1);
    let hi = (end + 128).min(b.len());
    let tok_end = b[end..hi]
        .iter()
        .position(|&c| token_stop(c))
        .map_or(hi, |p| end + p);
    let before = &b[tok_start..start];
    let url = before.windows(3).any(|w| w == b"://")
        || before.len() >= 4 && before[..4].eq_ignore_ascii_case(b"www.");
    let email = b[tok_start..tok_end].contains(&b'@');
    (url, email)
}

/// The bytes just before `start`, with blanks and one quote skipped.
fn machine_field(b: &[u8], start: usize) -> bool {
    let mut i = start;
    while i > 0 && b[i - 1] == b' ' {
        i -= 1;
    }
    if i > 0 && matches!(b[i - 1], b'"' | b'\'') {
        i -= 1;
    }
    match i.checked_sub(1).map(|j| b[j]) {
        Some(b'=') => true,
        Some(b':') => i >= 2 && matches!(b[i - 2], b'"' | b'\''),
        _ => false,
    }
}

/// `+45 2410851337`, `(+45) 2410851337`, `0045 2410851337`
fn phone_prefix(b: &[u8], start: usize) -> bool {
    let mut i = start;
    while i > 0 && b[i - 1] == b' ' {
        i -= 1;
    }
    if i == start {
        return false;
    }
    if i > 0 && b[i - 1] == b')' {
        i -= 1;
    }
    let digits_end = i;
    while i > 0 && b[i - 1].is_ascii_digit() && digits_end - i < 5 {
        i -= 1;
    }
    let code = &b[i..digits_end];
    let bounded = i == 0 || !b[i - 1].is_ascii_alphanumeric();
    let plus = (1..=3).contains(&code.len()) && i > 0 && matches!(b[i - 1], b'+');
    let zeros =
        (3..=5).contains(&code.len()) && code.starts_with(b"00") && code[2] != b'0' && bounded;
    plus || zeros
}

/// Gathers the facts for the number at `start..end`.
pub fn facts<'k>(
    text: &str,
    start: usize,
    end: usize,
    positive: &'k KeywordSet,
    negative: &'k KeywordSet,
) -> Facts<'k> {
    let b = text.as_bytes();
    let lo = chars_before(b, start, BEFORE_CHARS);
    let hi = chars_after(b, end, AFTER_CHARS);
    let pos = positive
        .last(text, lo, start)
        .or_else(|| positive.first(text, end, hi));
    let labelled = pos.is_some_and(|m| {
        m.end <= start && directly_before(normalise(&text[m.end..start]).as_bytes())
    });
    let neg = negative
        .last(text, line_start(b, lo, start), start)
        .or_else(|| negative.first(text, end, line_end(b, end, hi)));
    let (url, email) = url_or_email(b, start, end);
    Facts {
        positive: pos,
        labelled,
        negative: neg,
        url,
        email,
        machine: machine_field(b, start),
        phone_prefix: phone_prefix(b, start),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_characters() {
        let t = "æøå123".as_bytes();
        assert_eq!(chars_before(t, 6, 2), 2);
        assert_eq!(chars_after(t, 0, 2), 4);
        assert_eq!(chars_after(t, 6, 100), 9);
    }

    #[test]
    fn labels() {
        assert!(directly_before(b"-nr.: "));
        assert!(directly_before(b" nummer: "));
        assert!(directly_before(b" er "));
        assert!(!directly_before(b" for borgeren "));
        assert!(!directly_before(b" 12 "));
    }

    #[test]
    fn lines() {
        let t = b"Ordre 5\nBorger 241085-1337";
        assert_eq!(line_start(t, 0, 15), 8);
        let t = b"Kontonr.:\n  2410851337";
        assert_eq!(line_start(t, 0, 12), 0);
    }

    #[test]
    fn urls_emails_fields_phones() {
        let t = b"se https://x.dk/sag/2410851337 nu";
        assert_eq!(url_or_email(t, 20, 30), (true, false));
        let t = b"skriv til 2410851337@x.dk";
        assert_eq!(url_or_email(t, 10, 20), (false, true));
        let t = b"CPR: 2410851337 x@y.dk";
        assert_eq!(url_or_email(t, 5, 15), (false, false));
        assert!(machine_field(b"{\"ts\": 1503121006}", 7));
        assert!(machine_field(b"id=1503121006", 3));
        assert!(!machine_field(b"CPR: 1503121006", 5));
        assert!(phone_prefix(b"Tlf. +45 2410851337", 9));
        assert!(phone_prefix(b"(+45) 2410851337", 6));
        assert!(phone_prefix(b"0045 2410851337", 5));
        assert!(!phone_prefix(b"Sag 2410851337", 4));
    }
}
