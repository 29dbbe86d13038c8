//! The lookalike rules of docs/design.md, each comparing one recipient name with
//! one protected name. All comparisons are on skeletons (see `normalise`).

use super::distance::{common_prefix, damerau_levenshtein};
use super::name::Name;

/// Which rule matched. Ordered from strongest to weakest evidence: when a
/// recipient matches several protected domains, the strongest rule wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// Same skeleton and suffix: a homoglyph or IDN lookalike (`nyb0rg.dk`).
    Skeleton,
    /// The protected domain as labels inside another (`fredericia.dk.com`).
    Embedded,
    /// Same label under another suffix (`fredericia.com`).
    TldSwap,
    /// Protected label plus an affix (`kommune-nyborg.dk`).
    Combo,
    /// One or two edits away (`gmial.com`).
    Typo,
    /// A shortened protected label (`fred.dk`).
    Truncation,
}

impl Rule {
    /// The rule's name in audit reasons (`skeleton`, `typo` …).
    pub fn name(self) -> &'static str {
        match self {
            Rule::Skeleton => "skeleton",
            Rule::Embedded => "embedded",
            Rule::TldSwap => "tld-swap",
            Rule::Combo => "combo",
            Rule::Typo => "typo",
            Rule::Truncation => "truncation",
        }
    }
}

/// Words put in front of or after a protected label to make a lookalike.
pub const AFFIXES: &[&str] = &[
    "kommune",
    "kommunen",
    "kommunes",
    "kom",
    "borger",
    "borgere",
    "borgerservice",
    "mail",
    "email",
    "webmail",
    "post",
    "sikker",
    "sikkermail",
    "sikkerpost",
    "secure",
    "securemail",
    "login",
    "mitid",
    "nemid",
    "nemlogin",
    "digital",
    "online",
    "service",
    "support",
    "dk",
];

/// Minimum protected label length for the TLD-swap rule.
pub const TLD_SWAP_MIN: usize = 4;
/// Minimum protected label length for a one-edit typo.
pub const TYPO1_MIN: usize = 5;
/// Minimum protected label length for a two-edit typo, and the common prefix it needs.
pub const TYPO2_MIN: usize = 9;
pub const TYPO2_PREFIX: usize = 3;
/// Truncation: minimum recipient label, minimum characters cut, minimum kept ratio.
pub const TRUNCATION_MIN: usize = 4;
pub const TRUNCATION_CUT: usize = 2;
pub const TRUNCATION_RATIO: f64 = 0.35;
/// Minimum protected label length for the combo rule (two-letter labels such
/// as `kk` or `rk` are too common inside ordinary words).
pub const COMBO_MIN: usize = 3;

/// The strongest rule by which `r` imitates `p`, with a score that ranks
/// matches of the same rule (lower is closer). The caller has already made
/// sure `r` is neither protected nor allow-listed.
pub fn judge(r: &Name, p: &Name, affixes: &[String]) -> Option<(Rule, usize)> {
    if r.registrable == p.registrable {
        // Another name under the same registration: same owner.
        return None;
    }
    let same_suffix = r.suffix == p.suffix;
    let same_label = r.label.iter().any(|a| p.label.contains(a));
    if same_label && same_suffix {
        return Some((Rule::Skeleton, 0));
    }
    if embedded(r, p) {
        return Some((Rule::Embedded, 0));
    }
    if same_label && p.label_len() >= TLD_SWAP_MIN {
        return Some((Rule::TldSwap, 0));
    }
    if let Some(extra) = combo(r, p, affixes) {
        return Some((Rule::Combo, extra));
    }
    if !same_suffix {
        return None;
    }
    if let Some(d) = typo(r, p) {
        return Some((Rule::Typo, d));
    }
    truncation(r, p).map(|cut| (Rule::Truncation, cut))
}

/// The protected name's labels appear, in order, inside the recipient with
/// more after them (`fredericia.dk.com`, `fredericia.dk.evil.org`), or the
/// protected label and suffix run together in one label (`fredericia-dk.com`).
fn embedded(r: &Name, p: &Name) -> bool {
    let n = p.labels.len();
    if r.labels.len() > n
        && r.labels
            .windows(n)
            .take(r.labels.len() - n)
            .any(|w| w == p.labels.as_slice())
    {
        return true;
    }
    r.compact.iter().any(|c| {
        p.compact
            .iter()
            .any(|pc| c.strip_prefix(pc.as_str()) == Some(p.compact_suffix.as_str()))
    })
}

/// The recipient label is the protected label with one or two affixes in
/// front or behind (hyphens ignored). Returns the number of added characters.
fn combo(r: &Name, p: &Name, affixes: &[String]) -> Option<usize> {
    if p.label_len() < COMBO_MIN {
        return None;
    }
    for c in &r.compact {
        for pc in &p.compact {
            if c.len() <= pc.len() {
                continue;
            }
            let rest = if let Some(after) = c.strip_prefix(pc.as_str()) {
                Some(after)
            } else {
                c.strip_suffix(pc.as_str())
            };
            if let Some(rest) = rest {
                if is_affix_chain(rest, affixes) {
                    return Some(rest.len());
                }
            }
            // Affixes on both sides: `sikker-nyborg-kommune`.
            if let Some(at) = c.find(pc.as_str()) {
                let (before, after) = (&c[..at], &c[at + pc.len()..]);
                if !before.is_empty()
                    && !after.is_empty()
                    && affixes.iter().any(|a| a == before)
                    && affixes.iter().any(|a| a == after)
                {
                    return Some(before.len() + after.len());
                }
            }
        }
    }
    None
}

/// `s` is one affix or two affixes run together.
fn is_affix_chain(s: &str, affixes: &[String]) -> bool {
    affixes.iter().any(|a| {
        a == s
            || s.strip_prefix(a.as_str())
                .is_some_and(|rest| affixes.iter().any(|b| b == rest))
    })
}

/// One edit on a label of five or more, or two edits on a label of nine or
/// more that keep the first three characters. Returns the distance.
fn typo(r: &Name, p: &Name) -> Option<usize> {
    let mut best: Option<usize> = None;
    for a in &r.label {
        for b in &p.label {
            let found = if b.len() >= TYPO2_MIN && common_prefix(a, b) >= TYPO2_PREFIX {
                damerau_levenshtein(a, b, 2)
            } else if b.len() >= TYPO1_MIN {
                damerau_levenshtein(a, b, 1)
            } else {
                None
            };
            if let Some(d) = found.filter(|&d| d > 0) {
                best = Some(best.map_or(d, |x| x.min(d)));
            }
        }
    }
    best
}

/// The recipient label is a prefix of the protected label, at least four
/// characters, at least two shorter, and at least 35% of its length
/// (`fred` for `fredericia`). Returns how many characters were cut.
fn truncation(r: &Name, p: &Name) -> Option<usize> {
    let mut best: Option<usize> = None;
    for a in &r.label {
        for b in &p.label {
            let (la, lb) = (a.len(), b.len());
            if la >= TRUNCATION_MIN
                && lb >= la + TRUNCATION_CUT
                && la as f64 / lb as f64 >= TRUNCATION_RATIO
                && b.starts_with(a)
            {
                let cut = lb - la;
                best = Some(best.map_or(cut, |x| x.min(cut)));
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affixes() -> Vec<String> {
        AFFIXES.iter().map(|a| a.to_string()).collect()
    }

    fn rule(recipient: &str, protected: &str) -> Option<&'static str> {
        let r = Name::parse(recipient).unwrap();
        let p = Name::parse(protected).unwrap();
        judge(&r, &p, &affixes()).map(|(rule, _)| rule.name())
    }

    #[test]
    fn skeleton() {
        assert_eq!(rule("nyb0rg.dk", "nyborg.dk"), Some("skeleton"));
        assert_eq!(rule("nуbоrg.dk", "nyborg.dk"), Some("skeleton"));
        assert_eq!(rule("xn--hillerd-v1a.dk", "hillerod.dk"), Some("skeleton"));
        assert_eq!(rule("heming.dk", "herning.dk"), Some("skeleton"));
    }

    #[test]
    fn embedded() {
        assert_eq!(rule("fredericia.dk.com", "fredericia.dk"), Some("embedded"));
        assert_eq!(
            rule("fredericia.dk.evil.org", "fredericia.dk"),
            Some("embedded")
        );
        assert_eq!(
            rule("mail.fredericia.dk.evil.org", "fredericia.dk"),
            Some("embedded")
        );
        assert_eq!(rule("fredericia-dk.com", "fredericia.dk"), Some("embedded"));
        assert_eq!(rule("fredericiadk.net", "fredericia.dk"), Some("embedded"));
    }

    #[test]
    fn tld_swap() {
        assert_eq!(rule("fredericia.com", "fredericia.dk"), Some("tld-swap"));
        assert_eq!(rule("nyb0rg.eu", "nyborg.dk"), Some("tld-swap"));
        assert_eq!(rule("kk.com", "kk.dk"), None);
        assert_eq!(rule("holb.com", "holb.dk"), Some("tld-swap"));
    }

    #[test]
    fn combo() {
        assert_eq!(rule("kommune-nyborg.dk", "nyborg.dk"), Some("combo"));
        assert_eq!(rule("nyborgkommune.dk", "nyborg.dk"), Some("combo"));
        assert_eq!(rule("nyborg-sikker-mail.com", "nyborg.dk"), Some("combo"));
        assert_eq!(rule("mitid-nyborg-login.dk", "nyborg.dk"), Some("combo"));
        assert_eq!(rule("kkmail.dk", "kk.dk"), None);
        assert_eq!(rule("nyborgbilleder.dk", "nyborg.dk"), None);
    }

    #[test]
    fn typo() {
        assert_eq!(rule("gmial.com", "gmail.com"), Some("typo"));
        assert_eq!(rule("nyborgg.dk", "nyborg.dk"), Some("typo"));
        assert_eq!(rule("fredricia.dk", "fredericia.dk"), Some("typo"));
        assert_eq!(rule("fredrecia.dk", "fredericia.dk"), Some("typo")); // two edits, long label
        assert_eq!(rule("vejen.dk", "vejle.dk"), None); // two edits, short label
        assert_eq!(rule("fmi.dk", "fmk.dk"), None); // too short
        assert_eq!(rule("gmial.dk", "gmail.com"), None); // other suffix
    }

    #[test]
    fn truncation() {
        assert_eq!(rule("fred.dk", "fredericia.dk"), Some("truncation"));
        assert_eq!(rule("fred.dk", "frederikshavn.dk"), None); // ratio 4/13
        assert_eq!(rule("fm.dk", "fmk.dk"), None);
        assert_eq!(rule("nyb.dk", "nyborg.dk"), None); // below four characters
    }

    #[test]
    fn same_registration_is_never_a_lookalike() {
        assert_eq!(rule("nyborg.dk", "mail.nyborg.dk"), None);
    }
}
