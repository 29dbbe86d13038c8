//! A finding and the message-level decision rule. The digits of a found
//! number stay private: only the mask and the keyed fingerprint leave.

use super::mask;
use std::fmt;

/// How sure the detector is that a match is a CPR number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Shaped and valid, but the context says it is something else.
    Low,
    /// Valid; logged, and two distinct ones reject.
    Medium,
    /// Valid and labelled or hyphenated as a CPR number: rejects.
    High,
}

impl Confidence {
    /// `low`, `medium` or `high`, as in audit lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One validated number found in a text. `Debug` and `Display` show only
/// the mask, never the digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CprHit {
    /// Byte offset of the first digit in the scanned (original) text.
    pub offset: usize,
    /// How sure the detector is.
    pub confidence: Confidence,
    /// Which rule fired and which keyword (`mod11+hyphen,keyword:cpr`,
    /// `labelled:cpr-nummer`, `mod11,negative:faktura` …).
    pub reason: String,
    /// `2410XX-XXXX`
    pub masked: String,
    /// Keyed HMAC-SHA256 (truncated) when a fingerprint key is configured.
    pub fingerprint: Option<String>,
    digits: [u8; 10],
}

impl CprHit {
    /// A hit for `digits` at `offset`, masked and (with a key) fingerprinted.
    pub fn new(
        offset: usize,
        confidence: Confidence,
        reason: String,
        digits: [u8; 10],
        key: Option<&[u8]>,
    ) -> Self {
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
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for CprHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.masked, self.confidence, self.reason)
    }
}

/// The message-level rule: any HIGH, or two distinct MEDIUM numbers. A
/// single MEDIUM is logged, not rejected.
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
