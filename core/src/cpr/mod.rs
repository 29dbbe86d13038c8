//! CPR number detection: candidates in text, hard validation, context scoring.
//!
//! `Detector::scan` takes the decoded text of one part and returns hits; the
//! message-level rule (any HIGH, or two distinct MEDIUM numbers) is `decide`.

pub mod mask;
pub mod validate;

use crate::verdict::Confidence;
use std::fmt;
use validate::Date;

/// Dates on which numbers without modulus-11 have been issued since 2007
/// (cpr.dk, "not necessarily exhaustive"): 1 January of these years.
pub const DEFAULT_EXEMPT_YEARS: &[i32] = &[
    1960, 1962, 1964, 1965, 1966, 1967, 1969, 1970, 1974, 1975, 1978, 1980, 1981, 1982, 1983,
    1984, 1985, 1986, 1987, 1988, 1989, 1990, 1991, 1992, 1994, 1995,
];

pub fn default_exempt_dates() -> Vec<Date> {
    DEFAULT_EXEMPT_YEARS.iter().map(|&y| Date::new(y, 1, 1)).collect()
}

/// Words that say "this is a CPR number" (lower case).
pub const DEFAULT_POSITIVE_KEYWORDS: &[&str] = &[
    "cpr", "cpr-nr", "cprnr", "cpr-nummer", "cprnummer", "personnummer", "personnr", "pers.nr",
    "personnr.", "civil registration", "social security",
];

/// Words that say "this is some other number" (lower case).
pub const DEFAULT_NEGATIVE_KEYWORDS: &[&str] = &[
    "faktura", "invoice", "ordre", "order", "kundenr", "kunde nr", "konto", "reg.nr", "regnr",
    "iban", "tlf", "telefon", "mobil", "phone", "fax", "ean", "cvr", "p-nr", "serial", "tracking",
    "timestamp",
];

/// Everything the detector needs to know, fixed for its lifetime.
#[derive(Clone, Debug)]
pub struct DetectorSettings {
    pub exempt_dates: Vec<Date>,
    pub positive_keywords: Vec<String>,
    pub negative_keywords: Vec<String>,
    /// Birth dates after this are impossible.
    pub today: Date,
    /// Secret for keyed fingerprints in findings; `None` disables them.
    pub fingerprint_key: Option<Vec<u8>>,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            exempt_dates: default_exempt_dates(),
            positive_keywords: DEFAULT_POSITIVE_KEYWORDS.iter().map(|s| s.to_string()).collect(),
            negative_keywords: DEFAULT_NEGATIVE_KEYWORDS.iter().map(|s| s.to_string()).collect(),
            today: Date::today(),
            fingerprint_key: None,
        }
    }
}

/// One validated number found in a text. The digits are private and never
/// printed: `Debug` shows only the mask.
#[derive(Clone, PartialEq, Eq)]
pub struct CprHit {
    /// Byte offset of the match in the scanned text.
    pub offset: usize,
    pub confidence: Confidence,
    /// Why this confidence (`mod11+hyphen`, `keyword:cpr` …).
    pub reason: String,
    pub masked: String,
    pub fingerprint: Option<String>,
    digits: [u8; 10],
}

impl CprHit {
    pub fn new(offset: usize, confidence: Confidence, reason: String, digits: [u8; 10], key: Option<&[u8]>) -> Self {
        CprHit {
            offset,
            confidence,
            reason,
            masked: mask::mask(&digits),
            fingerprint: key.map(|k| mask::fingerprint(k, &digits)),
            digits,
        }
    }

    /// Same person number (used for "two distinct MEDIUM").
    pub fn same_number(&self, other: &CprHit) -> bool {
        self.digits == other.digits
    }
}

impl fmt::Debug for CprHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CprHit")
            .field("offset", &self.offset)
            .field("confidence", &self.confidence)
            .field("reason", &self.reason)
            .field("masked", &self.masked)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for CprHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.masked, self.confidence, self.reason)
    }
}

/// The message-level rule: any HIGH, or two distinct MEDIUM numbers.
pub fn decide<'a>(hits: impl IntoIterator<Item = &'a CprHit>) -> bool {
    let mut first_medium: Option<&CprHit> = None;
    for h in hits {
        match h.confidence {
            Confidence::High => return true,
            Confidence::Medium => match first_medium {
                Some(m) if !m.same_number(h) => return true,
                Some(_) => {}
                None => first_medium = Some(h),
            },
            Confidence::Low => {}
        }
    }
    false
}

/// Finds CPR numbers in decoded text.
#[derive(Clone, Debug)]
pub struct Detector {
    settings: DetectorSettings,
}

impl Detector {
    pub fn new(settings: DetectorSettings) -> Self {
        Detector { settings }
    }

    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// All validated candidates in `text` with their confidence (LOW ones are
    /// dropped).
    pub fn scan(&self, text: &str) -> Vec<CprHit> {
        let bytes = text.as_bytes();
        let mut hits = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            if let Some((digits, sep, end)) = candidate_at(bytes, start) {
                if let Some(hit) = self.score(text, start, end, digits, sep) {
                    hits.push(hit);
                }
                i = end;
            } else {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        hits
    }

    fn score(&self, text: &str, start: usize, end: usize, digits: [u8; 10], sep: Sep) -> Option<CprHit> {
        let v = validate::validate(&digits, self.settings.today)?;
        let before = window_before(text, start, 40).to_lowercase();
        let after = window_after(text, end, 20).to_lowercase();
        let positive = self.settings.positive_keywords.iter().find(|k| before.contains(k.as_str()));
        let negative = self.settings.negative_keywords.iter().find(|k| before.contains(k.as_str()));
        let hyphen = matches!(sep, Sep::Hyphen);
        let exempt = self.settings.exempt_dates.contains(&v.birth);
        let (mut conf, mut reason) = if v.mod11 {
            if hyphen {
                (Confidence::High, "mod11+hyphen".to_string())
            } else {
                (Confidence::Medium, "mod11".to_string())
            }
        } else if exempt || positive.is_some() {
            (Confidence::Medium, if exempt { "exempt-date" } else { "no-mod11+keyword" }.to_string())
        } else {
            return None;
        };
        if let Some(k) = positive {
            conf = match conf {
                Confidence::Medium => Confidence::High,
                c => c,
            };
            reason.push_str(&format!("+keyword:{k}"));
        }
        if let Some(k) = negative {
            if positive.is_none() {
                conf = lower(conf);
                reason.push_str(&format!("-context:{k}"));
            }
        }
        let _ = after;
        if v.replacement && conf == Confidence::High {
            conf = Confidence::Medium;
            reason.push_str("-replacement");
        }
        if conf == Confidence::Low {
            return None;
        }
        Some(CprHit::new(start, conf, reason, digits, self.settings.fingerprint_key.as_deref()))
    }
}

fn lower(c: Confidence) -> Confidence {
    match c {
        Confidence::High => Confidence::Medium,
        _ => Confidence::Low,
    }
}

fn window_before(text: &str, start: usize, n: usize) -> &str {
    let mut s = start.saturating_sub(n);
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    &text[s..start]
}

fn window_after(text: &str, end: usize, n: usize) -> &str {
    let mut e = (end + n).min(text.len());
    while !text.is_char_boundary(e) {
        e += 1;
    }
    &text[end..e]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    None,
    Hyphen,
    Other,
}

fn glued(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'+'
}

/// A candidate `D6 SEP? D4` starting at `start`, with the boundary rules.
fn candidate_at(b: &[u8], start: usize) -> Option<([u8; 10], Sep, usize)> {
    if start > 0 {
        let p = b[start - 1];
        if glued(p) || (b"-./".contains(&p) && start > 1 && b[start - 2].is_ascii_digit()) {
            return None;
        }
    }
    let run6 = b.get(start..start + 6)?;
    if !run6.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut j = start + 6;
    let sep = if b.get(j).is_some_and(u8::is_ascii_digit) {
        Sep::None
    } else if b[j..].starts_with(b" - ") {
        j += 3;
        Sep::Hyphen
    } else {
        match b.get(j) {
            Some(b'-') => {
                j += 1;
                Sep::Hyphen
            }
            Some(b' ' | b'.' | b'/') => {
                j += 1;
                Sep::Other
            }
            _ => return None,
        }
    };
    let run4 = b.get(j..j + 4)?;
    if !run4.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let end = j + 4;
    if let Some(&n) = b.get(end) {
        if glued(n) {
            return None;
        }
        if b"-./".contains(&n) && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
    }
    let mut digits = [0u8; 10];
    for (k, &c) in run6.iter().chain(run4).enumerate() {
        digits[k] = c - b'0';
    }
    Some((digits, sep, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector() -> Detector {
        Detector::new(DetectorSettings { today: Date::new(2026, 11, 23), ..Default::default() })
    }

    fn best(text: &str) -> Option<Confidence> {
        detector().scan(text).iter().map(|h| h.confidence).max()
    }

    #[test]
    fn basic_examples() {
        assert_eq!(best("Borger 241085-1337"), Some(Confidence::High));
        assert_eq!(best("CPR-nr.: 2410851337"), Some(Confidence::High));
        assert_eq!(best("290200-4001"), Some(Confidence::High));
        assert_eq!(best("290200-0006"), None);
        assert_eq!(best("010157-5004"), None);
        assert_eq!(best("241085-1338"), None);
        assert_eq!(best("Sag 2410851337"), Some(Confidence::Medium));
        assert_eq!(best("Ordre 2024-241085-1337"), None);
        assert_eq!(best("241085-1337-02"), None);
        assert_eq!(best("12410851337"), None);
    }

    #[test]
    fn debug_never_shows_digits() {
        let hits = detector().scan("Borger 241085-1337");
        let shown = format!("{:?} {}", hits[0], hits[0]);
        assert!(!shown.contains("1337") && !shown.contains("241085"), "{shown}");
        assert!(shown.contains("2410XX-XXXX"));
    }

    #[test]
    fn decide_needs_high_or_two_distinct_medium() {
        let d = detector();
        assert!(decide(&d.scan("Borger 241085-1337")));
        assert!(!decide(&d.scan("Sag 2410851337 og igen 2410851337")));
        assert!(decide(&d.scan("Sag 2410851337 og 0101901233")) || d.scan("0101901233").is_empty());
    }
}
