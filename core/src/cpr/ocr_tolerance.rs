//! OCR reads digits as look-alike letters (O for 0, l or I for 1, S for 5,
//! B for 8). Turning every such letter into a digit would make numbers out
//! of words, so it is done only in a short window after a positive keyword
//! ("CPR-nr: O1O1S5-1234"), and only in tokens that already hold digits.

/// How far after a positive keyword a number is looked for, in bytes.
const WINDOW: usize = 40;

/// The digit OCR most often misreads as `c`.
fn as_digit(c: u8) -> Option<u8> {
    match c {
        b'O' | b'o' | b'D' | b'Q' => Some(b'0'),
        b'l' | b'I' | b'i' | b'|' => Some(b'1'),
        b'S' | b's' => Some(b'5'),
        b'B' => Some(b'8'),
        _ => None,
    }
}

/// `text` with look-alike letters made digits in number-like tokens within
/// [`WINDOW`] bytes after any of `keywords` (matched ignoring ASCII case).
/// Only ASCII bytes are replaced by ASCII bytes, so offsets stay valid.
pub fn normalise(text: &str, keywords: &[String]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for kw in keywords
        .iter()
        .map(|k| k.as_bytes())
        .filter(|k| !k.is_empty())
    {
        let mut from = 0;
        while let Some(at) = find_ignore_case(&text.as_bytes()[from..], kw) {
            let end = from + at + kw.len();
            let stop = (end + WINDOW).min(bytes.len());
            fix_window(&mut bytes[end..stop]);
            from = end;
        }
    }
    // Only ASCII letters were replaced by ASCII digits.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Makes digits of the look-alikes in every token of `window` that holds
/// at least four real digits and nothing but digits, look-alikes and `-`.
fn fix_window(window: &mut [u8]) {
    let mut start = 0;
    while start < window.len() {
        let len = window[start..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b':' | b',' | b';' | b'.'))
            .unwrap_or(window.len() - start);
        let token = &mut window[start..start + len];
        let digits = token.iter().filter(|b| b.is_ascii_digit()).count();
        let numeric = token
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b'-' || as_digit(b).is_some());
        if numeric && digits >= 4 {
            for b in token.iter_mut() {
                if let Some(d) = as_digit(*b) {
                    *b = d;
                }
            }
        }
        start += len + 1;
    }
}

fn find_ignore_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw() -> Vec<String> {
        vec!["cpr".to_string(), "personnummer".to_string()]
    }

    #[test]
    fn look_alikes_after_a_keyword_become_digits() {
        assert_eq!(
            normalise("CPR-nr.: O1O1S5-l234 ok", &kw()),
            "CPR-nr.: 010155-1234 ok"
        );
        assert_eq!(
            normalise("personnummer 24I08B-1337", &kw()),
            "personnummer 241088-1337"
        );
    }

    #[test]
    fn words_and_far_text_are_left_alone() {
        // No keyword: nothing changes.
        assert_eq!(normalise("Ordre O1O1S5-l234", &kw()), "Ordre O1O1S5-l234");
        // A word after the keyword holds no digits: unchanged.
        assert_eq!(normalise("CPR Oslo ISBN", &kw()), "CPR Oslo ISBN");
        // Past the window: unchanged.
        let far = format!("CPR {} O1O1S5-l234", "x".repeat(45));
        assert_eq!(normalise(&far, &kw()), far);
    }

    #[test]
    fn offsets_survive_non_ascii_text() {
        let t = "Fødselsdato og CPR: 2SO39O-1234 æøå";
        let n = normalise(t, &kw());
        assert_eq!(n.len(), t.len());
        assert_eq!(n, "Fødselsdato og CPR: 250390-1234 æøå");
    }
}
