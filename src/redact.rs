//! Removes CPR-shaped digit runs from free text before it is logged (file
//! names, addresses): a number the sender put in a file name must not reach
//! syslog through the `where=` field.

/// Keeps the first four digits of any run of six or more digits (separators
/// `-`, ` `, `.`, `/` allowed inside) and replaces the rest with `X`.
pub fn redact_digits(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Extent of a digit run with inner separators.
        let mut j = i;
        let mut digits = 0;
        let mut last_digit_end = i;
        while j < chars.len()
            && (chars[j].is_ascii_digit()
                || (matches!(chars[j], '-' | ' ' | '.' | '/') && digits > 0))
        {
            if chars[j].is_ascii_digit() {
                digits += 1;
                last_digit_end = j + 1;
            }
            j += 1;
        }
        let run = &chars[i..last_digit_end];
        if digits >= 6 {
            let mut kept = 0;
            for &c in run {
                if c.is_ascii_digit() {
                    kept += 1;
                    out.push(if kept <= 4 { c } else { 'X' });
                } else {
                    out.push(c);
                }
            }
        } else {
            out.extend(run);
        }
        i = last_digit_end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_runs_are_masked() {
        assert_eq!(
            redact_digits("attachment:241085-1337.pdf"),
            "attachment:2410XX-XXXX.pdf"
        );
        assert_eq!(redact_digits("2410851337@x.dk"), "2410XXXXXX@x.dk");
        assert_eq!(redact_digits("rapport 2024.docx"), "rapport 2024.docx");
        assert_eq!(redact_digits("a 12 b"), "a 12 b");
    }
}
