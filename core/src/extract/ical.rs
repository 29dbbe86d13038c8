//! iCalendar (RFC 5545) and vCard text: long content lines are folded by
//! inserting a line break and one blank, anywhere, even inside a number
//! (Outlook folds at 75 octets). Calendar clients unfold before showing a
//! value, and so does this. Escaped characters (`\,` `\;` `\n`) are turned
//! back into what the reader sees.

/// True for the content types and file extensions that use this folding.
pub fn is_calendar(ctype: &str, name: &str) -> bool {
    let ext = super::sniff::extension(name);
    matches!(ctype, "text/calendar" | "text/vcard" | "text/x-vcard")
        || matches!(ext.as_str(), "ics" | "ifb" | "vcs" | "vcf")
}

/// The unfolded, unescaped text.
pub fn unfold(text: &str) -> String {
    let mut joined = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match line.strip_prefix([' ', '\t']) {
            // A line that starts with a blank continues the one before.
            Some(rest) if i > 0 => joined.push_str(rest),
            _ => {
                if i > 0 {
                    joined.push('\n');
                }
                joined.push_str(line);
            }
        }
    }
    // Escapes are resolved after unfolding: a fold may split one.
    let mut out = String::with_capacity(joined.len());
    unescape_into(&joined, &mut out);
    out
}

fn unescape_into(s: &str, out: &mut String) {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_values_are_joined() {
        let t = "BEGIN:VEVENT\r\nDESCRIPTION:Møde om borger CPR 2410\r\n 85-1337\\, husk\r\n\t papirer\\nog mere\r\nEND:VEVENT\r\n";
        assert_eq!(
            unfold(t),
            "BEGIN:VEVENT\nDESCRIPTION:Møde om borger CPR 241085-1337, husk papirer\nog mere\nEND:VEVENT\n"
        );
    }

    #[test]
    fn odd_input() {
        assert_eq!(unfold(""), "");
        assert_eq!(unfold(" \r\n \r\n"), " \n");
        assert_eq!(unfold("a\\"), "a\\");
        assert!(is_calendar("text/calendar", ""));
        assert!(is_calendar("", "invitation.ICS"));
        assert!(!is_calendar("text/plain", "a.txt"));
    }
}
