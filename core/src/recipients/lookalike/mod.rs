//! Lookalike recipient domains (docs/design.md, "Lookalike recipients").
//!
//! A recipient domain is flagged when it is neither protected (nor a
//! subdomain of a protected domain) nor allow-listed, and one of the rules in
//! [`rules`] ties it to a protected domain. Everything about the protected
//! set is parsed and folded once, in [`LookalikeChecker::new`]; a check per
//! RCPT parses one name and compares it with each protected name.

mod distance;
mod name;
mod normalise;
mod rules;

use name::Name;
pub use rules::Rule;

/// The lower-case ASCII (punycode) form of a domain, safe to quote in an SMTP
/// reply even when the recipient domain was given in Unicode (SMTPUTF8).
pub fn ascii_form(domain: &str) -> String {
    normalise::canonical(domain)
}

/// A recipient domain that imitates a protected one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookalike {
    /// The protected domain the sender probably meant.
    pub suggestion: String,
    /// Which rule matched (`skeleton`, `embedded`, `tld-swap`, `typo`, `truncation`, `combo`).
    pub reason: &'static str,
}

/// Checks recipient domains against the protected set.
#[derive(Clone, Debug, Default)]
pub struct LookalikeChecker {
    /// Canonical ASCII forms of protected and allow-listed domains: these and
    /// their subdomains are never flagged.
    trusted: Vec<String>,
    /// Parsed protected domains, in configuration order.
    protected: Vec<Name>,
    /// Skeletons of the combo affixes.
    affixes: Vec<String>,
}

impl LookalikeChecker {
    /// `protected` is organisation.domains plus partner_domains, `allow` is
    /// recipients.allow. Either may be in Unicode or punycode, any case.
    pub fn new(protected: &[String], allow: &[String]) -> Self {
        let clean = |d: &String| {
            normalise::canonical(d.trim().trim_start_matches("*.").trim_start_matches('.'))
        };
        let mut trusted: Vec<String> = protected
            .iter()
            .chain(allow)
            .map(clean)
            .filter(|d| !d.is_empty())
            .collect();
        trusted.sort();
        trusted.dedup();
        let mut parsed: Vec<Name> = Vec::with_capacity(protected.len());
        for d in protected {
            if let Some(n) = Name::parse(&clean(d)) {
                if !parsed.iter().any(|p| p.ascii == n.ascii) {
                    parsed.push(n);
                }
            }
        }
        let affixes = rules::AFFIXES
            .iter()
            .map(|a| normalise::skeleton(a, normalise::Danish::Long))
            .collect();
        LookalikeChecker {
            trusted,
            protected: parsed,
            affixes,
        }
    }

    /// Whether `domain` is protected, allow-listed, or a subdomain of either.
    pub fn is_trusted(&self, domain: &str) -> bool {
        let ascii = normalise::canonical(domain);
        self.trusted
            .iter()
            .any(|t| super::domain_matches(&ascii, t))
    }

    /// `Some` when `domain` looks like, but is not, a protected domain.
    pub fn check(&self, domain: &str) -> Option<Lookalike> {
        self.explain(domain).map(|(rule, suggestion)| Lookalike {
            suggestion: suggestion.to_string(),
            reason: rule.name(),
        })
    }

    /// The rule and the protected domain (canonical ASCII form) that `domain`
    /// imitates; the strongest rule wins, then the closest match, then the
    /// protected domain listed first.
    pub fn explain(&self, domain: &str) -> Option<(Rule, &str)> {
        let ascii = normalise::canonical(domain);
        if self
            .trusted
            .iter()
            .any(|t| super::domain_matches(&ascii, t))
        {
            return None;
        }
        let recipient = Name::from_canonical(ascii)?;
        self.protected
            .iter()
            .filter_map(|p| {
                rules::judge(&recipient, p, &self.affixes).map(|(rule, score)| (rule, score, p))
            })
            .min_by_key(|(rule, score, _)| (*rule, *score))
            .map(|(rule, _, p)| (rule, p.ascii.as_str()))
    }

    /// Number of protected domains that could be parsed.
    pub fn protected_len(&self) -> usize {
        self.protected.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn protected_domains_and_their_subdomains_pass() {
        let c = LookalikeChecker::new(&strings(&["nyborg.dk", "Fredericia.DK"]), &[]);
        assert_eq!(c.check("nyborg.dk"), None);
        assert_eq!(c.check("mail.nyborg.dk"), None);
        assert_eq!(c.check("FREDERICIA.dk."), None);
    }

    #[test]
    fn names_the_rule_and_the_protected_domain() {
        let c = LookalikeChecker::new(&strings(&["nyborg.dk", "fredericia.dk"]), &[]);
        let l = c.check("nyb0rg.dk").unwrap();
        assert_eq!((l.suggestion.as_str(), l.reason), ("nyborg.dk", "skeleton"));
        let l = c.check("fred.dk").unwrap();
        assert_eq!(
            (l.suggestion.as_str(), l.reason),
            ("fredericia.dk", "truncation")
        );
    }

    #[test]
    fn allow_list_suppresses_a_domain_and_its_subdomains() {
        let c = LookalikeChecker::new(&strings(&["nyborg.dk"]), &strings(&["nyborgkommune.dk"]));
        assert_eq!(c.check("nyborgkommune.dk"), None);
        assert_eq!(c.check("post.nyborgkommune.dk"), None);
        assert!(c.check("kommune-nyborg.dk").is_some());
    }

    #[test]
    fn idn_protected_domains_are_understood() {
        let c = LookalikeChecker::new(&strings(&["hillerød.dk"]), &[]);
        assert_eq!(c.check("xn--hillerd-v1a.dk"), None);
        assert_eq!(c.check("hillerød.dk"), None);
        assert_eq!(c.check("hillerod.dk").map(|l| l.reason), Some("skeleton"));
        let ascii = ascii_form("Nybørg.dk");
        assert!(ascii.is_ascii() && ascii.starts_with("xn--"), "{ascii}");
        assert_eq!(normalise::unicode(&ascii), "nybørg.dk");
    }

    #[test]
    fn nonsense_does_not_panic() {
        let c = LookalikeChecker::new(&strings(&["nyborg.dk", "", "dk", "."]), &[]);
        for d in [
            "",
            ".",
            "..",
            "dk",
            "co.uk",
            "a..b",
            "-.dk",
            "xn--.dk",
            "[1.2.3.4]",
            "localhost",
        ] {
            let _ = c.check(d);
        }
        assert_eq!(c.protected_len(), 1);
    }

    #[test]
    fn replacement_characters_and_raw_bytes_in_a_domain_do_not_panic() {
        let c = LookalikeChecker::new(&strings(&["nyborg.dk", "fredericia.dk"]), &[]);
        // What a milter value with a raw 0xFF byte becomes once read lossily,
        // and the shapes that once sliced a label inside a character.
        let raw = String::from_utf8_lossy(b"ny\xffborg.dk").into_owned();
        for d in [
            raw.as_str(),
            "ab\u{FFFD}.dk",
            "\u{FFFD}\u{FFFD}.dk",
            "x\u{FFFD}n--.dk",
            "ny\u{FFFD}borg.dk",
            "\u{FFFD}",
        ] {
            let _ = c.check(d);
            let _ = ascii_form(d);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_domain_text_is_checked_without_panicking(d in "\\PC{0,40}") {
            let c = LookalikeChecker::new(&strings(&["nyborg.dk", "hillerød.dk"]), &[]);
            let _ = c.check(&d);
            let _ = ascii_form(&d);
        }

        #[test]
        fn any_bytes_read_lossily_are_checked_without_panicking(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..40)
        ) {
            let c = LookalikeChecker::new(&strings(&["nyborg.dk"]), &[]);
            let d = String::from_utf8_lossy(&b);
            let _ = c.check(&d);
        }
    }
}
