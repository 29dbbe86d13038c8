//! A domain split at its public suffix (the embedded public suffix list of the
//! `psl` crate, no network), with the folded forms the rules compare.

use super::normalise::{self, Danish};

/// One domain, parsed once: for a protected domain when the checker is built,
/// for a recipient domain per RCPT.
#[derive(Clone, Debug)]
pub struct Name {
    /// Canonical lower-case ASCII (punycode) form, e.g. `fredericia.dk`.
    pub ascii: String,
    /// The registrable domain in ASCII: the label before the public suffix
    /// plus the suffix, e.g. `evil.org` for `fredericia.dk.evil.org`.
    pub registrable: String,
    /// Skeletons of every label (long Danish spelling), left to right.
    pub labels: Vec<String>,
    /// Skeletons of the registrable label (both Danish spellings), as characters.
    pub label: Vec<Vec<char>>,
    /// The same skeletons with hyphens removed.
    pub compact: Vec<String>,
    /// Skeleton of the public suffix, e.g. `dk` or `co.uk`.
    pub suffix: String,
    /// The suffix with dots and hyphens removed, e.g. `dk` or `couk`.
    pub compact_suffix: String,
}

impl Name {
    /// Parses `domain` (any case, Unicode or punycode). `None` when it has no
    /// label in front of its public suffix (`dk`, `co.uk`) or is not a name.
    pub fn parse(domain: &str) -> Option<Name> {
        Name::from_canonical(normalise::canonical(domain))
    }

    /// As [`Name::parse`], for a name already in canonical form.
    pub fn from_canonical(ascii: String) -> Option<Name> {
        if ascii.is_empty() || ascii.split('.').any(str::is_empty) {
            return None;
        }
        let suffix = psl::suffix(ascii.as_bytes())?;
        let suffix_labels = suffix.as_bytes().split(|&b| b == b'.').count();
        let ascii_labels: Vec<&str> = ascii.split('.').collect();
        if ascii_labels.len() <= suffix_labels {
            return None;
        }
        let at = ascii_labels.len() - suffix_labels - 1;
        let registrable = ascii_labels[at..].join(".");

        let unicode = normalise::unicode(&ascii);
        let unicode_labels: Vec<&str> = unicode.split('.').collect();
        let labels: Vec<String> = unicode_labels
            .iter()
            .map(|l| normalise::skeleton(l, Danish::Long))
            .collect();
        let variants = normalise::skeletons(unicode_labels[at]);
        let compact = variants.iter().map(|v| v.replace('-', "")).collect();
        let label = variants.iter().map(|v| v.chars().collect()).collect();
        let suffix = labels[at + 1..].join(".");
        let compact_suffix = suffix.replace(['.', '-'], "");
        Some(Name {
            ascii,
            registrable,
            labels,
            label,
            compact,
            suffix,
            compact_suffix,
        })
    }

    /// Length in characters of the registrable label's first skeleton.
    pub fn label_len(&self) -> usize {
        self.label[0].len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_public_suffix() {
        let n = Name::parse("mail.Fredericia.DK").unwrap();
        assert_eq!(n.registrable, "fredericia.dk");
        assert_eq!(n.suffix, "dk");
        assert_eq!(n.compact, vec!["fredericia".to_string()]);

        let n = Name::parse("fredericia.dk.evil.org").unwrap();
        assert_eq!(n.registrable, "evil.org");
        assert_eq!(n.labels, vec!["fredericia", "dk", "evil", "org"]);

        let n = Name::parse("kommune-nyborg.co.uk").unwrap();
        assert_eq!(n.suffix, "co.uk");
        assert_eq!(n.compact_suffix, "couk");
        assert_eq!(n.compact, vec!["kommunenyborg".to_string()]);
    }

    #[test]
    fn idn_labels_are_compared_in_unicode() {
        let n = Name::parse("xn--hillerd-v1a.dk").unwrap();
        assert_eq!(n.registrable, "xn--hillerd-v1a.dk");
        assert_eq!(
            n.compact,
            vec!["hilleroed".to_string(), "hillerod".to_string()]
        );
    }

    #[test]
    fn bare_suffixes_are_not_names() {
        assert!(Name::parse("dk").is_none());
        assert!(Name::parse("co.uk").is_none());
        assert!(Name::parse("a..dk").is_none());
        assert!(Name::parse("").is_none());
    }
}
