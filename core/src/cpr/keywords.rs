//! Keyword lists compiled once into an Aho-Corasick automaton, matched
//! case-insensitively inside a window of the original text.
//!
//! Short keywords (at most four letters or digits: `cpr`, `tlf`, `ean`, `cvr`,
//! `iban`, `ts` …) only match as whole words, so `ean` does not fire inside
//! "ocean" nor `ts` inside "lets". Longer ones match anywhere, so Danish
//! compounds work: `ordre` in "kundeordrenummer", `konto` in "bankkonto".

use super::normalise::{self, NChar};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};

/// One keyword occurrence, in original byte offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeywordMatch<'k> {
    /// The keyword as configured (lower case).
    pub keyword: &'k str,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct KeywordSet {
    ac: Option<AhoCorasick>,
    /// For each automaton pattern: index into `names`, and whether it must
    /// stand as a whole word.
    patterns: Vec<(usize, bool)>,
    names: Vec<String>,
}

/// Letters of any script (and `_`, `+`) count as word characters; soft
/// hyphens, zero-width characters and no-break spaces do not.
fn wordy(c: Option<NChar>) -> bool {
    c == Some(NChar::Glued)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl KeywordSet {
    pub fn new(words: &[String]) -> Self {
        let mut names = Vec::new();
        let mut pats: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        for w in words {
            let w = w.trim().to_lowercase();
            if w.is_empty() || names.contains(&w) {
                continue;
            }
            let whole = w.chars().filter(|c| c.is_alphanumeric()).count() <= 4;
            let idx = names.len();
            // ASCII case is folded by the automaton; non-ASCII letters (æ, ø,
            // å …) get their usual spellings added explicitly.
            let mut variants = vec![w.clone()];
            if !w.is_ascii() {
                for v in [w.to_uppercase(), capitalised(&w)] {
                    if !variants.contains(&v) {
                        variants.push(v);
                    }
                }
            }
            for v in variants {
                pats.push(v);
                patterns.push((idx, whole));
            }
            names.push(w);
        }
        let ac = (!pats.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::LeftmostLongest)
                .build(&pats)
                .expect("keyword automaton builds")
        });
        KeywordSet {
            ac,
            patterns,
            names,
        }
    }

    /// Matches inside `text[lo..hi]`, in order, honouring the whole-word
    /// rule (judged against the whole text, not just the window).
    pub fn matches<'s, 't>(
        &'s self,
        text: &'t str,
        lo: usize,
        hi: usize,
    ) -> impl Iterator<Item = KeywordMatch<'s>> + use<'s, 't> {
        self.ac.iter().flat_map(move |ac| {
            ac.find_iter(Input::new(text.as_bytes()).range(lo..hi))
                .filter_map(move |m| {
                    let (idx, whole) = self.patterns[m.pattern().as_usize()];
                    if whole {
                        let before = normalise::prev(text, m.start()).map(|p| p.0);
                        let after = normalise::next(text, m.end()).map(|n| n.0);
                        if wordy(before) || wordy(after) {
                            return None;
                        }
                    }
                    Some(KeywordMatch {
                        keyword: &self.names[idx],
                        start: m.start(),
                        end: m.end(),
                    })
                })
        })
    }

    /// The match in `text[lo..hi]` that ends last (nearest to a number that
    /// follows the window).
    pub fn last(&self, text: &str, lo: usize, hi: usize) -> Option<KeywordMatch<'_>> {
        self.matches(text, lo, hi).last()
    }

    /// The first match in `text[lo..hi]`.
    pub fn first(&self, text: &str, lo: usize, hi: usize) -> Option<KeywordMatch<'_>> {
        self.matches(text, lo, hi).next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> KeywordSet {
        KeywordSet::new(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn found(s: &KeywordSet, t: &str) -> Option<String> {
        s.first(t, 0, t.len()).map(|m| m.keyword.to_string())
    }

    #[test]
    fn case_insensitive_and_longest() {
        let s = set(&["cpr", "cpr-nummer", "fødselsdato"]);
        assert_eq!(found(&s, "Dit CPR-NUMMER er"), Some("cpr-nummer".into()));
        assert_eq!(found(&s, "cpr:"), Some("cpr".into()));
        assert_eq!(found(&s, "FØDSELSDATO"), Some("fødselsdato".into()));
        assert_eq!(found(&s, "Fødselsdato"), Some("fødselsdato".into()));
    }

    #[test]
    fn short_words_are_whole_words_long_ones_are_not() {
        let s = set(&["ean", "ts", "ordre"]);
        assert_eq!(found(&s, "the ocean"), None);
        assert_eq!(found(&s, "lets go"), None);
        assert_eq!(found(&s, "{\"ts\": 1}"), Some("ts".into()));
        assert_eq!(found(&s, "EAN-nr"), Some("ean".into()));
        assert_eq!(found(&s, "EAN\u{00AD}"), Some("ean".into()));
        assert_eq!(found(&s, "øean"), None);
        assert_eq!(found(&s, "Kundeordrenummer"), Some("ordre".into()));
    }

    #[test]
    fn window_limits_and_last() {
        let s = set(&["cpr", "tlf"]);
        let t = "tlf 1 cpr 2 tlf";
        assert_eq!(s.last(t, 0, 11).unwrap().keyword, "cpr");
        assert!(s.first(t, 4, 5).is_none());
        assert!(set(&[]).first(t, 0, t.len()).is_none());
    }
}
