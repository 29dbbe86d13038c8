//! CPR number detection (docs/design.md): normalise → candidates → validate →
//! score with context → decide.
//!
//! `Detector::scan` takes the decoded text of one part and returns hits with
//! offsets into that same text; the message-level rule (any HIGH, or two
//! distinct MEDIUM numbers) is [`decide`]. Modules, one job each:
//! [`normalise`] (character classes after normalisation, read in place),
//! `candidates` (shapes and boundary rules), [`validate`] (date, century,
//! mod-11), `keywords` (Aho-Corasick keyword sets), `context` (what the
//! surrounding text says), `score` (confidence and reason), `hit`
//! (findings and the decision), `mask` (mask and fingerprint).

mod candidates;
mod context;
mod dotted;
mod hit;
mod keywords;
mod mask;
pub mod normalise;
pub mod ocr_tolerance;
mod score;
pub mod validate;

pub use hit::{decide, Confidence, CprHit};
/// The mask and keyed fingerprint that audit lines carry for a number, so
/// `report` can find the lines that involve a suspected one.
pub use mask::{fingerprint, mask};

use candidates::{Candidate, Candidates};
use keywords::KeywordSet;
use validate::{Date, Validated};

/// Dates on which numbers without modulus-11 have been issued since 2007
/// (cpr.dk, "not necessarily exhaustive"): 1 January of these years.
pub const DEFAULT_EXEMPT_YEARS: &[i32] = &[
    1960, 1962, 1964, 1965, 1966, 1967, 1969, 1970, 1974, 1975, 1978, 1980, 1981, 1982, 1983, 1984,
    1985, 1986, 1987, 1988, 1989, 1990, 1991, 1992, 1994, 1995,
];

/// The default exempt dates: 1 January of [`DEFAULT_EXEMPT_YEARS`].
pub fn default_exempt_dates() -> Vec<Date> {
    DEFAULT_EXEMPT_YEARS
        .iter()
        .map(|&y| Date::new(y, 1, 1))
        .collect()
}

/// Words that say "this is a CPR number" (lower case). Words of up to four
/// letters match only as whole words.
pub const DEFAULT_POSITIVE_KEYWORDS: &[&str] = &[
    "cpr",
    "cpr-nr",
    "cprnr",
    "cpr.nr",
    "cpr nr",
    "cpr-nummer",
    "cprnummer",
    "cpr nummer",
    "cpr-no",
    "personnummer",
    "personnr",
    "pers.nr",
    "pers. nr",
    "person nr",
    "civilregistreringsnummer",
    "civil registration",
    "personal identification number",
    "social security",
];

/// Words that say "this is some other number" (lower case). They lower a
/// number only on its own line (or the label line above it) and only when no
/// positive keyword is near.
pub const DEFAULT_NEGATIVE_KEYWORDS: &[&str] = &[
    "faktura",
    "invoice",
    "ordre",
    "order",
    "bestilling",
    "booking",
    "kundenr",
    "kunde nr",
    "kundenummer",
    "customer",
    "konto",
    "account",
    "reg.nr",
    "regnr",
    "reg. nr",
    "iban",
    "swift",
    "bic",
    "tlf",
    "tel",
    "telefon",
    "telephone",
    "mobil",
    "phone",
    "fax",
    "telefax",
    "ean",
    "gln",
    "cvr",
    "cvrnr",
    "se-nr",
    "p-nr",
    "varenr",
    "varenummer",
    "vare nr",
    "artikelnr",
    "sku",
    "isbn",
    "serial",
    "serienr",
    "serienummer",
    "tracking",
    "track",
    "pakke",
    "forsendelse",
    "shipment",
    "kvittering",
    "receipt",
    "transaktion",
    "transaction",
    "timestamp",
    "tidsstempel",
    "epoch",
    "unix",
    "ts",
    "kortnr",
    "card",
];

/// Valid candidates one pass keeps for judging (a few dozen bytes each, so
/// at most ~3 MB): a part with more is read twice instead of holding them
/// all. Large enough that real text, long lists included, is read once
/// (with 256 the detector benchmark's prose was read twice, 2x slower).
pub const KEPT_CANDIDATES: usize = 65_536;

/// Everything the detector needs to know, fixed for its lifetime.
#[derive(Clone)]
pub struct DetectorSettings {
    /// Birth dates issued without modulus-11.
    pub exempt_dates: Vec<Date>,
    /// Words that raise a number to a CPR number (lower case).
    pub positive_keywords: Vec<String>,
    /// Words that lower it (lower case).
    pub negative_keywords: Vec<String>,
    /// Birth dates after this are impossible.
    pub today: Date,
    /// Read today's date from the clock at every scan instead of using
    /// `today`: a daemon runs for months, and a date fixed at start would
    /// turn every child born since into a "future" date and drop its number.
    pub follow_clock: bool,
    /// Secret for keyed fingerprints in findings; `None` disables them.
    pub fingerprint_key: Option<Vec<u8>>,
    /// A part with at least this many ten-digit candidates …
    pub dense_min_candidates: usize,
    /// … of which fewer than this percentage validate (real date and mod-11
    /// or exempt date) is a table of other numbers: every number in it is
    /// lowered one level.
    pub dense_valid_percent: usize,
}

/// Shows everything but the fingerprint key.
impl std::fmt::Debug for DetectorSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectorSettings")
            .field("exempt_dates", &self.exempt_dates.len())
            .field("positive_keywords", &self.positive_keywords)
            .field("negative_keywords", &self.negative_keywords)
            .field("today", &self.today)
            .field("follow_clock", &self.follow_clock)
            .field(
                "fingerprint_key",
                &self.fingerprint_key.as_ref().map(|_| "(set)"),
            )
            .field("dense_min_candidates", &self.dense_min_candidates)
            .field("dense_valid_percent", &self.dense_valid_percent)
            .finish()
    }
}

impl Default for DetectorSettings {
    fn default() -> Self {
        DetectorSettings {
            exempt_dates: default_exempt_dates(),
            positive_keywords: DEFAULT_POSITIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            negative_keywords: DEFAULT_NEGATIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            today: Date::today(),
            follow_clock: false,
            fingerprint_key: None,
            dense_min_candidates: 6,
            dense_valid_percent: 15,
        }
    }
}

/// The candidates of both shapes (ten digits, and the dotted date form),
/// merged in text order; each finder yields its own in order.
fn in_text_order(text: &str) -> impl Iterator<Item = Candidate> + '_ {
    let mut plain = Candidates::new(text).peekable();
    let mut dotted = dotted::candidates(text).peekable();
    std::iter::from_fn(move || match (plain.peek(), dotted.peek()) {
        (Some(p), Some(d)) if d.start < p.start => dotted.next(),
        (Some(_), _) => plain.next(),
        (None, _) => dotted.next(),
    })
}

/// Finds CPR numbers in decoded text. Built once (keyword automata compiled
/// here), shared read-only.
#[derive(Clone, Debug)]
pub struct Detector {
    settings: DetectorSettings,
    positive: KeywordSet,
    negative: KeywordSet,
}

impl Detector {
    /// Compiles the keyword sets once; share the detector between texts.
    pub fn new(settings: DetectorSettings) -> Self {
        let positive = KeywordSet::new(&settings.positive_keywords);
        let negative = KeywordSet::new(&settings.negative_keywords);
        Detector {
            settings,
            positive,
            negative,
        }
    }

    /// The settings it was built from.
    pub fn settings(&self) -> &DetectorSettings {
        &self.settings
    }

    /// All MEDIUM and HIGH findings in `text` (one part), in text order.
    /// Offsets refer to `text` itself, whatever normalisation applied.
    pub fn scan(&self, text: &str) -> Vec<CprHit> {
        let mut hits = Vec::new();
        self.find_each(text, |h| hits.push(h));
        hits
    }

    /// Calls `found` with each MEDIUM and HIGH finding in `text`, in text
    /// order, holding at most [`KEPT_CANDIDATES`] of them: memory stays
    /// bounded however many numbers a text holds. The density rule needs
    /// the counts of the whole part before any number is judged, so a part
    /// with more valid candidates than that is read a second time.
    pub fn find_each(&self, text: &str, mut found: impl FnMut(CprHit)) {
        let today = if self.settings.follow_clock {
            Date::today()
        } else {
            self.settings.today
        };
        let mut total = 0usize;
        let mut plausible = 0usize;
        let mut kept: Vec<(Candidate, Validated, bool)> = Vec::new();
        let mut overflow = false;
        for c in in_text_order(text) {
            total += 1;
            if let Some(v) = validate::validate(&c.digits, today) {
                let exempt = self.settings.exempt_dates.contains(&v.birth);
                plausible += usize::from(v.mod11 || exempt);
                if kept.len() < KEPT_CANDIDATES {
                    kept.push((c, v, exempt));
                } else {
                    overflow = true;
                }
            }
        }
        if kept.is_empty() {
            return;
        }
        // "Validate" for the density rule means what a real CPR number does:
        // a real date and mod-11 (or an exempt date). Random ten-digit
        // numbers manage that about 0.6 % of the time, real CPR lists ~100 %.
        let dense = total >= self.settings.dense_min_candidates
            && plausible * 100 < total * self.settings.dense_valid_percent;
        if !overflow {
            for (c, v, exempt) in &kept {
                if let Some(hit) = self.judge(text, c, *v, *exempt, dense) {
                    found(hit);
                }
            }
            return;
        }
        drop(kept);
        for c in in_text_order(text) {
            if let Some(v) = validate::validate(&c.digits, today) {
                let exempt = self.settings.exempt_dates.contains(&v.birth);
                if let Some(hit) = self.judge(text, &c, v, exempt, dense) {
                    found(hit);
                }
            }
        }
    }

    fn judge(
        &self,
        text: &str,
        c: &Candidate,
        v: Validated,
        exempt: bool,
        dense: bool,
    ) -> Option<CprHit> {
        let evidence = score::Evidence {
            sep: c.sep,
            validated: v,
            exempt,
            facts: context::facts(text, c.start, c.end, &self.positive, &self.negative),
            dense,
        };
        let (confidence, reason) = score::score(&evidence)?;
        Some(CprHit::new(
            c.start,
            confidence,
            reason,
            c.digits,
            self.settings.fingerprint_key.as_deref(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpr::Confidence;

    fn detector() -> Detector {
        Detector::new(DetectorSettings {
            today: Date::new(2026, 11, 23),
            ..Default::default()
        })
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
    fn a_part_with_more_candidates_than_are_kept_is_read_twice_and_loses_none() {
        let n = KEPT_CANDIDATES + 3;
        let text = "Borger 241085-1337\n".repeat(n);
        let mut hits = 0usize;
        detector().find_each(&text, |h| {
            assert_eq!(h.confidence, Confidence::High);
            hits += 1;
        });
        assert_eq!(hits, n);
    }

    #[test]
    fn dotted_dates_need_a_check_digit_or_a_keyword() {
        assert_eq!(best("Borger 24.10.85-1337"), Some(Confidence::High));
        assert_eq!(best("CPR: 24.10.85-1338"), Some(Confidence::High));
        assert_eq!(best("Sag 24.10.85-1338"), None);
        assert_eq!(best("Møde 01.01.85-0930"), None, "exempt date, no keyword");
        let hits = detector().scan("x 29.02.00-4001 og 241085-1337");
        assert_eq!(hits.len(), 2);
        assert!(hits[0].offset < hits[1].offset, "text order");
        assert_eq!(hits[0].reason, "mod11+dotted-date");
    }

    #[test]
    fn debug_never_shows_digits() {
        let d = Detector::new(DetectorSettings {
            today: Date::new(2026, 11, 23),
            fingerprint_key: Some(b"k".to_vec()),
            ..Default::default()
        });
        let hits = d.scan("Borger 241085-1337");
        let shown = format!("{:?} {} {:#?}", hits[0], hits[0], hits);
        assert!(
            !shown.contains("1337") && !shown.contains("241085"),
            "{shown}"
        );
        assert!(shown.contains("2410XX-XXXX"));
        assert!(hits[0].fingerprint.is_some());
    }

    #[test]
    fn decide_needs_high_or_two_distinct_medium() {
        let d = detector();
        assert!(decide(&d.scan("Borger 241085-1337")));
        assert!(!decide(&d.scan("Sag 2410851337 og igen 2410851337")));
    }

    #[test]
    fn offsets_refer_to_the_original_text() {
        let t = "Kære Søren\u{00AD}sen – cpr\u{00A0}２４１０８５\u{2013}１３３７";
        let hits = detector().scan(t);
        assert_eq!(hits.len(), 1);
        assert!(t[hits[0].offset..].starts_with('２'));
    }
}
