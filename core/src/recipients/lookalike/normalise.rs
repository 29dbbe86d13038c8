//! Comparable forms of a domain name: the canonical ASCII (punycode) form used
//! for identity, and the folded "skeleton" of a label used for likeness.
//!
//! Folding, in order: IDNA (UTS 46) mapping to lower-case Unicode; Danish
//! letters spelled out (æ→ae, ø→oe, å→aa); other diacritics stripped
//! (NFD, combining marks dropped); Cyrillic, Greek and Latin homoglyphs
//! mapped to the ASCII letter they imitate; digits 0→o and 1→l; and the
//! glyph pairs rn→m, vv→w, cl→d.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The lower-case ASCII (punycode) form of `domain`, without a trailing dot.
/// Names that IDNA rejects are kept as given, lower-cased.
pub fn canonical(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.');
    if d.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !has_ace_label(d)
    {
        // Plain ASCII: IDNA would only lower-case it.
        return d.to_ascii_lowercase();
    }
    match idna::domain_to_ascii(d) {
        Ok(ascii) if !ascii.is_empty() => ascii,
        _ => d.to_lowercase(),
    }
}

/// The Unicode form of a canonical (ASCII) domain, labels unchanged in number.
pub fn unicode(ascii: &str) -> String {
    if !has_ace_label(ascii) {
        return ascii.to_string();
    }
    let (uni, result) = idna::domain_to_unicode(ascii);
    if result.is_ok() && uni.split('.').count() == ascii.split('.').count() {
        uni
    } else {
        ascii.to_string()
    }
}

/// Whether any label is punycode (`xn--`, any case). Compared as bytes: a
/// label from the wire may hold any character, and the fourth byte need not
/// end one.
fn has_ace_label(domain: &str) -> bool {
    domain.split('.').any(|l| {
        l.as_bytes()
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
    })
}

/// How the Danish letters æ, ø and å are spelled out. Both spellings are in
/// use in real domains (`alleroed.dk` but `hillerod.dk`), so labels are
/// folded both ways and compared on either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Danish {
    /// æ→ae, ø→oe, å→aa (the official transliteration).
    Long,
    /// æ→ae, ø→o, å→a (the common short form in domains).
    Short,
}

/// Lower case, Danish letters spelled out, other diacritics stripped.
pub fn fold(label: &str, danish: Danish) -> String {
    let mut spelled = String::with_capacity(label.len() + 4);
    for c in label.chars().flat_map(char::to_lowercase) {
        match (c, danish) {
            ('æ', _) => spelled.push_str("ae"),
            ('ø', Danish::Long) => spelled.push_str("oe"),
            ('ø', Danish::Short) => spelled.push('o'),
            ('å', Danish::Long) => spelled.push_str("aa"),
            ('å', Danish::Short) => spelled.push('a'),
            ('ß', _) => spelled.push_str("ss"),
            ('œ', _) => spelled.push_str("oe"),
            ('þ', _) => spelled.push_str("th"),
            ('ð' | 'đ', _) => spelled.push('d'),
            ('ł', _) => spelled.push('l'),
            _ => spelled.push(c),
        }
    }
    spelled.nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// The ASCII letter a character imitates, if it is a known homoglyph.
fn homoglyph(c: char) -> Option<char> {
    Some(match c {
        // Digits that pass for letters.
        '0' => 'o',
        '1' => 'l',
        // Cyrillic.
        'а' => 'a',
        'в' => 'b',
        'ь' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'є' => 'e',
        'һ' => 'h',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' => 'n',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' => 't',
        'ц' => 'u',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' => 'x',
        'у' => 'y',
        // Greek.
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'ω' => 'w',
        'χ' => 'x',
        'γ' => 'y',
        // Latin letters outside ASCII that pass for ASCII ones.
        'ı' | 'ɩ' => 'i',
        'ȷ' => 'j',
        'ɑ' => 'a',
        'ɡ' => 'g',
        'ɴ' => 'n',
        'ʀ' => 'r',
        _ => return None,
    })
}

/// The skeleton of a label: folded, homoglyphs mapped, glyph pairs merged.
/// Two labels with the same skeleton look alike to a reader.
pub fn skeleton(label: &str, danish: Danish) -> String {
    let mapped: String = fold(label, danish)
        .chars()
        .map(|c| homoglyph(c).unwrap_or(c))
        .collect();
    merge_pairs(&mapped)
}

/// rn→m, vv→w, cl→d, left to right.
fn merge_pairs(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let pair = chars.get(i + 1).map(|&next| (chars[i], next));
        let merged = match pair {
            Some(('r', 'n')) => Some('m'),
            Some(('v', 'v')) => Some('w'),
            Some(('c', 'l')) => Some('d'),
            _ => None,
        };
        match merged {
            Some(m) => {
                out.push(m);
                i += 2;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

/// Both skeletons of a label (long and short Danish spelling), deduplicated.
pub fn skeletons(label: &str) -> Vec<String> {
    let long = skeleton(label, Danish::Long);
    let short = skeleton(label, Danish::Short);
    if long == short {
        vec![long]
    } else {
        vec![long, short]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_lower_case_punycode() {
        assert_eq!(canonical("Nyborg.DK."), "nyborg.dk");
        assert_eq!(canonical("XN--hillerd-v1a.dk"), "xn--hillerd-v1a.dk");
        assert_eq!(canonical("Hillerød.dk"), "xn--hillerd-v1a.dk");
        assert_eq!(unicode("nyborg.dk"), "nyborg.dk");
        assert_eq!(canonical("hillerød.dk"), "xn--hillerd-v1a.dk");
        assert_eq!(unicode("xn--hillerd-v1a.dk"), "hillerød.dk");
    }

    #[test]
    fn danish_letters_are_spelled_out_both_ways() {
        assert_eq!(fold("Ærøskøbing", Danish::Long), "aeroeskoebing");
        assert_eq!(fold("Århus", Danish::Short), "arhus");
        assert_eq!(
            skeletons("hillerød"),
            vec!["hilleroed".to_string(), "hillerod".to_string()]
        );
    }

    #[test]
    fn diacritics_are_stripped() {
        assert_eq!(fold("köge", Danish::Long), "koge");
        assert_eq!(fold("nybôrg", Danish::Long), "nyborg");
    }

    #[test]
    fn homoglyphs_and_glyph_pairs_fold() {
        assert_eq!(skeleton("nyb0rg", Danish::Long), "nyborg");
        assert_eq!(skeleton("gmai1", Danish::Long), "gmail");
        assert_eq!(skeleton("nуbоrg", Danish::Long), "nyborg"); // Cyrillic у and о
        assert_eq!(skeleton("οdense", Danish::Long), "odense"); // Greek omicron
        assert_eq!(
            skeleton("heming", Danish::Long),
            skeleton("herning", Danish::Long)
        );
        assert_eq!(skeleton("vvest", Danish::Long), "west");
        assert_eq!(skeleton("clanske", Danish::Long), "danske");
    }
}
