//! Removes CPR-shaped digit runs from free text before it is logged or put
//! in a reply (file names, addresses, reasons quoting library errors): a
//! number the sender put in a file name must not reach syslog through the
//! `where=` field.

/// Keeps the first four digits of any run of six or more digits and replaces
/// the rest with `X`. Digits are any Unicode decimal digits (full-width ones
/// too); a run may contain the separators the detector accepts (ASCII and
/// Unicode dashes, spaces including no-break ones, `.`, `/`) and the
/// invisible characters it ignores (soft hyphen, zero-width), so nothing the
/// detector would read as a number survives in a log line.
pub fn redact_digits(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_digit(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        let mut digits = 0;
        let mut last_digit_end = i;
        while j < chars.len() && (is_digit(chars[j]) || (digits > 0 && is_joiner(chars[j]))) {
            if is_digit(chars[j]) {
                digits += 1;
                last_digit_end = j + 1;
            }
            j += 1;
        }
        let run = &chars[i..last_digit_end];
        if digits >= 6 {
            let mut kept = 0;
            for &c in run {
                if is_digit(c) {
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

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || is_unicode_decimal(c)
}

/// Unicode decimal digits outside ASCII (full-width, Arabic-Indic …): the
/// characters whose numeric value is a single digit.
fn is_unicode_decimal(c: char) -> bool {
    matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{0660}'..='\u{0669}' | '\u{06F0}'..='\u{06F9}' | '\u{0966}'..='\u{096F}' | '\u{1D7CE}'..='\u{1D7FF}')
}

/// Characters allowed between the digits of one number.
fn is_joiner(c: char) -> bool {
    matches!(
        c,
        '-' | ' ' | '.' | '/' | '\u{00A0}' | '\u{202F}' | '\u{2007}' | '\u{3000}' | '\u{00AD}' | '\u{200B}'..='\u{200D}'
            | '\u{2060}' | '\u{FEFF}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' | '\u{FF0D}'
    )
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

    #[test]
    fn unicode_forms_of_a_number_are_masked_too() {
        assert_eq!(
            redact_digits("Borger 241085\u{2013}1337.bin"),
            "Borger 2410XX\u{2013}XXXX.bin"
        );
        assert_eq!(redact_digits("241085\u{2011}1337"), "2410XX\u{2011}XXXX");
        assert_eq!(redact_digits("2410\u{200B}85-1337"), "2410\u{200B}XX-XXXX");
        assert_eq!(redact_digits("CPR \u{FF12}\u{FF14}\u{FF11}\u{FF10}\u{FF18}\u{FF15}-\u{FF11}\u{FF13}\u{FF13}\u{FF17}"), "CPR \u{FF12}\u{FF14}\u{FF11}\u{FF10}XX-XXXX");
    }
}
