//! Normalisation of the characters that matter around a number (docs/design.md):
//! Unicode dashes U+2010-2015, U+2212 (and full-width U+FF0D) → `-`,
//! NBSP, U+202F (and ideographic space U+3000) → ` `, soft hyphen and
//! zero-width characters removed, full-width digits → ASCII.
//!
//! The detector never copies the text: it reads it through [`next`] and
//! [`prev`], which classify one *normalised* character at a time and skip the
//! removed ones, so offsets always refer to the original text. Pure ASCII is
//! classified by a table lookup; only bytes >= 0x80 next to a digit are ever
//! decoded. [`normalise`] produces the normalised text itself (borrowed when
//! nothing changes) for callers that need it, and for tests that check the
//! two views agree.

use std::borrow::Cow;

/// One character after normalisation, as far as candidate finding cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NChar {
    /// `0`-`9` or a full-width digit; the value 0-9.
    Digit(u8),
    /// `-` or any dash that normalises to it.
    Dash,
    /// ` `, NBSP, narrow NBSP.
    Space,
    /// `.`
    Dot,
    /// `/`
    Slash,
    /// `,`
    Comma,
    /// Letters (any script), `_` and `+`: a number touching one is part of a
    /// word or code, not a CPR number.
    Glued,
    /// Anything else (punctuation, line breaks, symbols).
    Other,
}

/// What a code point becomes after normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mapped {
    Removed,
    Char(char),
}

fn map_char(c: char) -> Mapped {
    match c {
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {
            Mapped::Removed
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF0D}' => Mapped::Char('-'),
        '\u{00A0}' | '\u{202F}' | '\u{3000}' => Mapped::Char(' '),
        '\u{FF10}'..='\u{FF19}' => Mapped::Char(char::from(b'0' + (c as u32 - 0xFF10) as u8)),
        _ => Mapped::Char(c),
    }
}

const fn ascii_class(b: u8) -> NChar {
    match b {
        b'0'..=b'9' => NChar::Digit(b - b'0'),
        b'-' => NChar::Dash,
        b' ' => NChar::Space,
        b'.' => NChar::Dot,
        b'/' => NChar::Slash,
        b',' => NChar::Comma,
        b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'+' => NChar::Glued,
        _ => NChar::Other,
    }
}

const ASCII_CLASS: [NChar; 128] = {
    let mut t = [NChar::Other; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = ascii_class(i as u8);
        i += 1;
    }
    t
};

fn class_of(c: char) -> Option<NChar> {
    match map_char(c) {
        Mapped::Removed => None,
        Mapped::Char(m) if m.is_ascii() => Some(ASCII_CLASS[m as usize]),
        Mapped::Char(m) if m.is_alphanumeric() => Some(NChar::Glued),
        Mapped::Char(_) => Some(NChar::Other),
    }
}

/// The normalised character starting at byte `pos` (a char boundary), with
/// removed characters skipped: `(class, start, end)` in original offsets.
#[inline]
pub fn next(text: &str, mut pos: usize) -> Option<(NChar, usize, usize)> {
    let b = text.as_bytes();
    loop {
        let &c0 = b.get(pos)?;
        if c0 < 0x80 {
            return Some((ASCII_CLASS[c0 as usize], pos, pos + 1));
        }
        let c = text[pos..].chars().next()?;
        let end = pos + c.len_utf8();
        match class_of(c) {
            Some(k) => return Some((k, pos, end)),
            None => pos = end,
        }
    }
}

/// The normalised character ending at byte `pos` (a char boundary), with
/// removed characters skipped: `(class, start)`.
#[inline]
pub fn prev(text: &str, mut pos: usize) -> Option<(NChar, usize)> {
    let b = text.as_bytes();
    loop {
        if pos == 0 {
            return None;
        }
        let c0 = b[pos - 1];
        if c0 < 0x80 {
            return Some((ASCII_CLASS[c0 as usize], pos - 1));
        }
        let c = text[..pos].chars().next_back()?;
        let start = pos - c.len_utf8();
        match class_of(c) {
            Some(k) => return Some((k, start)),
            None => pos = start,
        }
    }
}

/// True when `c` changes under normalisation.
fn changes(c: char) -> bool {
    map_char(c) != Mapped::Char(c)
}

/// The normalised text; borrowed (no copy) when nothing needs normalising,
/// which is always the case for ASCII text.
pub fn normalise(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || !text.chars().any(changes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if let Mapped::Char(m) = map_char(c) {
            out.push(m);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_when_nothing_changes() {
        assert!(matches!(normalise("Borger 241085-1337"), Cow::Borrowed(_)));
        assert!(matches!(
            normalise("Kære Søren, “tak” – nej"),
            Cow::Owned(_)
        ));
        assert!(matches!(normalise("Kære Søren, “tak”"), Cow::Borrowed(_)));
    }

    #[test]
    fn maps_dashes_spaces_digits_and_removes_invisibles() {
        assert_eq!(normalise("241085\u{2013}1337"), "241085-1337");
        assert_eq!(normalise("241085\u{2011}1337"), "241085-1337");
        assert_eq!(normalise("241085\u{2212}1337"), "241085-1337");
        assert_eq!(normalise("241085\u{00A0}1337"), "241085 1337");
        assert_eq!(normalise("241085\u{202F}1337"), "241085 1337");
        assert_eq!(
            normalise("2410\u{00AD}85\u{200B}-13\u{FEFF}37"),
            "241085-1337"
        );
        assert_eq!(normalise("２４１０８５－１３３７"), "241085-1337");
    }

    #[test]
    fn next_and_prev_skip_removed_characters() {
        let t = "1\u{200B}\u{00AD}2";
        let (k, s, e) = next(t, 1).unwrap();
        assert_eq!((k, s, e), (NChar::Digit(2), t.len() - 1, t.len()));
        let (k, s) = prev(t, t.len() - 1).unwrap();
        assert_eq!((k, s), (NChar::Digit(1), 0));
        assert_eq!(next("é", 0).unwrap().0, NChar::Glued);
        assert_eq!(prev("x\u{2013}", 4).unwrap().0, NChar::Dash);
        assert_eq!(next("\u{FF15}", 0).unwrap().0, NChar::Digit(5));
    }
}
