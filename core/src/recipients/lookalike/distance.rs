//! Edit distance between labels.

/// Damerau-Levenshtein distance (optimal string alignment form: insertions,
/// deletions, substitutions and transpositions of adjacent characters, no
/// substring edited twice), counted in characters.
///
/// Returns `None` as soon as the distance is known to exceed `limit`, so the
/// usual call (limit 1 or 2) costs little more than a scan of the labels.
pub fn damerau_levenshtein(a: &[char], b: &[char], limit: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let width = b.len() + 1;
    // Three rows: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = current[0];
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let d = previous[b.len()];
    (d <= limit).then_some(d)
}

/// How many leading characters `a` and `b` share.
pub fn common_prefix(a: &[char], b: &[char]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dl(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        damerau_levenshtein(&a, &b, 3)
    }

    #[test]
    fn counts_each_kind_of_edit_once() {
        assert_eq!(dl("nyborg", "nyborg"), Some(0));
        assert_eq!(dl("gmail", "gmial"), Some(1)); // transposition
        assert_eq!(dl("nyborg", "nyborgg"), Some(1)); // insertion
        assert_eq!(dl("nyborg", "nyorg"), Some(1)); // deletion
        assert_eq!(dl("nyborg", "nyberg"), Some(1)); // substitution
        assert_eq!(dl("vejle", "vejen"), Some(2));
        assert_eq!(dl("", "abc"), Some(3));
    }

    #[test]
    fn gives_up_past_the_limit() {
        let a: Vec<char> = "frederikshavn".chars().collect();
        let b: Vec<char> = "frederikssund".chars().collect();
        assert_eq!(damerau_levenshtein(&a, &b, 2), None);
        let c: Vec<char> = "fred".chars().collect();
        assert_eq!(damerau_levenshtein(&a, &c, 2), None);
    }

    #[test]
    fn common_prefix_counts_characters() {
        let a: Vec<char> = "fredericia".chars().collect();
        let b: Vec<char> = "fredensborg".chars().collect();
        assert_eq!(common_prefix(&a, &b), 5);
    }
}
