//! Lookalike recipient domains (DESIGN §4).

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
    protected: Vec<String>,
    allow: Vec<String>,
}

impl LookalikeChecker {
    pub fn new(protected: &[String], allow: &[String]) -> Self {
        LookalikeChecker { protected: protected.to_vec(), allow: allow.to_vec() }
    }

    /// `Some` when `domain` (lower case) looks like, but is not, a protected domain.
    pub fn check(&self, domain: &str) -> Option<Lookalike> {
        let domain = domain.trim_end_matches('.').to_lowercase();
        if self.protected.iter().chain(&self.allow).any(|p| super::domain_matches(&domain, p)) {
            return None;
        }
        for p in &self.protected {
            if domain.starts_with(&format!("{p}.")) {
                return Some(Lookalike { suggestion: p.clone(), reason: "embedded" });
            }
        }
        None
    }
}
