//! Recipient checks made at RCPT time: lookalike domains and retired mailboxes.

mod lookalike;

pub use lookalike::{ascii_form, Lookalike, LookalikeChecker, Rule as LookalikeRule};

/// Whether `domain` is `base` or a subdomain of it.
pub fn domain_matches(domain: &str, base: &str) -> bool {
    domain == base
        || (domain.len() > base.len()
            && domain.ends_with(base)
            && domain.as_bytes()[domain.len() - base.len() - 1] == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_match_their_base() {
        assert!(domain_matches("nyborg.dk", "nyborg.dk"));
        assert!(domain_matches("mail.nyborg.dk", "nyborg.dk"));
        assert!(!domain_matches("xnyborg.dk", "nyborg.dk"));
    }
}
