//! Removes CPR-shaped digit runs from free text before it is logged or put
//! in a reply (file names, addresses, reasons quoting library errors): a
//! number the sender put in a file name must not reach syslog through the
//! `where=` field. [`Redacted`] is text that has been through it: its only
//! constructors mask, so whoever prints one prints it as it is.

use std::fmt;

/// Free text with every CPR-shaped run masked (see [`redact_digits`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Redacted(String);

impl Redacted {
    /// Masks `text`.
    pub fn new(text: &str) -> Self {
        Redacted(redact_digits(text))
    }

    /// The masked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Redacted {
    fn from(text: &str) -> Self {
        Redacted::new(text)
    }
}

impl From<String> for Redacted {
    fn from(text: String) -> Self {
        Redacted::new(&text)
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Redacted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Redacted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Masks every digit run that could hold a CPR number, keeping its first
/// four digits and replacing the rest with `X`; leaves every other number
/// as it is (`67108864`, `127.0.0.1`, `4.3.5`), so log lines stay useful.
///
/// A run is digits joined by the separators the detector accepts (ASCII
/// and Unicode dashes, spaces including no-break ones, `.`, `/`) and the
/// invisible characters it ignores (soft hyphen, zero-width). Digits are
/// any Unicode decimal digits (full-width ones too). A run could hold a
/// number when one group of digits is ten or more long, or a group of six
/// is followed by a group of four or more (`DDMMYY-SSSS`): the detector's
/// shapes, with margin for digits glued on.
pub fn redact_digits(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let end = run_end(&chars, i);
        let run = &chars[i..end];
        if could_hold_a_number(run) {
            let mut kept = 0;
            for &c in run {
                if is_digit(c) {
                    kept += 1;
                    out.push(if kept <= 4 { c } else { 'X' });
                } else {
                    out.push(c);
                }
            }
        } else {
            out.extend(run);
        }
        i = end;
    }
    out
}

/// The end of the run starting at the digit `start`: just after its last digit.
fn run_end(chars: &[char], start: usize) -> usize {
    let mut j = start;
    let mut last_digit_end = start;
    while j < chars.len() && (is_digit(chars[j]) || is_joiner(chars[j]) || is_invisible(chars[j])) {
        if is_digit(chars[j]) {
            last_digit_end = j + 1;
        }
        j += 1;
    }
    last_digit_end
}

/// Whether the groups of a run (split at visible separators) have a CPR shape.
fn could_hold_a_number(run: &[char]) -> bool {
    let mut groups = Vec::new();
    let mut n = 0;
    for &c in run {
        if is_digit(c) {
            n += 1;
        } else if is_joiner(c) && n > 0 {
            groups.push(n);
            n = 0;
        }
    }
    if n > 0 {
        groups.push(n);
    }
    groups.iter().any(|&g| g >= 10) || groups.windows(2).any(|w| w[0] >= 6 && w[1] >= 4)
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || is_unicode_decimal(c)
}

/// Unicode decimal digits outside ASCII (full-width, Arabic-Indic …): the
/// characters whose numeric value is a single digit.
fn is_unicode_decimal(c: char) -> bool {
    matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' | '\u{0966}'..='\u{096F}' | '\u{1D7CE}'..='\u{1D7FF}')
}

/// Visible separators between the digit groups of one number.
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '-' | ' ' | '.' | '/' | '\u{00A0}' | '\u{202F}' | '\u{2007}' | '\u{3000}' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
    )
}

/// Characters the detector ignores inside a digit group.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_masked() {
        assert_eq!(
            redact_digits("attachment:241085-1337.pdf"),
            "attachment:2410XX-XXXX.pdf"
        );
        assert_eq!(redact_digits("2410851337@x.dk"), "2410XXXXXX@x.dk");
        assert_eq!(redact_digits("rapport 2024.docx"), "rapport 2024.docx");
        assert_eq!(redact_digits("a 12 b"), "a 12 b");
        assert_eq!(redact_digits("241085 - 1337"), "2410XX - XXXX");
        assert_eq!(redact_digits("ref 12 241085-1337"), "ref 12 24XXXX-XXXX");
    }

    #[test]
    fn redacted_text_is_masked_however_it_is_made() {
        assert_eq!(Redacted::new("cpr 241085-1337"), "cpr 2410XX-XXXX");
        assert_eq!(
            Redacted::from("2410851337".to_string()).as_str(),
            "2410XXXXXX"
        );
        let twice = Redacted::new(Redacted::new("241085-1337").as_str());
        assert_eq!(twice, "2410XX-XXXX", "masking is idempotent");
    }

    #[test]
    fn other_numbers_stay_readable() {
        for s in [
            "message larger than 67108864 bytes",
            "host[127.0.0.1]",
            "Postfix would answer 451 4.3.5",
            "2024-06-01 12:00",
            "dato 241085",
            "tlf. 12 34 56 78",
            "192.168.100.200",
        ] {
            assert_eq!(redact_digits(s), s);
        }
    }

    #[test]
    fn unicode_forms_of_a_number_are_masked_too() {
        assert_eq!(
            redact_digits("Borger 241085\u{2013}1337.bin"),
            "Borger 2410XX\u{2013}XXXX.bin"
        );
        assert_eq!(redact_digits("241085\u{2011}1337"), "2410XX\u{2011}XXXX");
        assert_eq!(redact_digits("2410\u{200B}85-1337"), "2410\u{200B}XX-XXXX");
        assert_eq!(redact_digits("CPR \u{FF12}\u{FF14}\u{FF11}\u{FF10}\u{FF18}\u{FF15}-\u{FF11}\u{FF13}\u{FF13}\u{FF17}"), "CPR \u{FF12}\u{FF14}\u{FF11}\u{FF10}XX-XXXX");
    }
}
