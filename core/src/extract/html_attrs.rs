//! Parts of HTML that a reader sees although they are not element text:
//! `alt` text (shown in place of a blocked image, read by screen readers),
//! `title` tooltips, and the content of Outlook's conditional comments
//! (`<!--[if mso]> … <![endif]-->`, where Outlook's VML text boxes live),
//! which Outlook renders as ordinary markup.

/// Attributes whose values are shown to the reader.
const SHOWN: &[&str] = &["alt", "title", "placeholder", "aria-label"];

/// If `rest` opens a conditional comment, the markup after its `]>`: the
/// content is read as HTML. `<!--[if !mso]><!-->` opens one too.
pub fn conditional_open(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix("<!--[")?;
    if !after.get(..2)?.eq_ignore_ascii_case("if") {
        return None;
    }
    let close = after.find("]>")?;
    let tail = &after[close + 2..];
    // The downlevel-revealed form closes its comment at once.
    Some(tail.strip_prefix("<!-->").unwrap_or(tail))
}

/// Appends the shown attribute values of one tag (the text between `<` and
/// `>`), each on a line of its own so it never glues to element text.
pub fn push_shown(tag: &str, out: &mut String, decode: impl Fn(&str) -> String) {
    let mut rest = tag;
    // Skip the tag name.
    let name_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest = &rest[name_end..];
    while let Some((name, value, after)) = next_attribute(rest) {
        rest = after;
        if SHOWN.iter().any(|s| name.eq_ignore_ascii_case(s)) && !value.trim().is_empty() {
            out.push('\n');
            out.push_str(&decode(value));
            out.push('\n');
        }
    }
}

/// The next `name=value` (quoted or not) or bare `name` of a tag.
fn next_attribute(s: &str) -> Option<(&str, &str, &str)> {
    let s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
    if s.is_empty() {
        return None;
    }
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
        .unwrap_or(s.len());
    let (name, rest) = s.split_at(name_end);
    let rest = rest.trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        // Never return without progress: an empty name is one odd byte.
        let rest = if name.is_empty() { &s[1..] } else { rest };
        return Some((name, "", rest));
    };
    let rest = rest.trim_start();
    match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let body = &rest[1..];
            let end = body.find(q).unwrap_or(body.len());
            Some((name, &body[..end], body.get(end + 1..).unwrap_or("")))
        }
        _ => {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            Some((name, &rest[..end], &rest[end..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(tag: &str) -> String {
        let mut out = String::new();
        push_shown(tag, &mut out, str::to_string);
        out
    }

    #[test]
    fn alt_and_title_values() {
        assert_eq!(
            shown(r#"img src="x.png" ALT="CPR 241085-1337" width=3"#),
            "\nCPR 241085-1337\n"
        );
        assert_eq!(shown("a href=x title='Sag 7' alt"), "\nSag 7\n");
        assert_eq!(shown("span title=kort"), "\nkort\n");
        assert_eq!(shown("img src=\"x"), "");
        assert_eq!(shown("img ="), "");
        assert_eq!(shown(""), "");
    }

    #[test]
    fn conditional_comments_open() {
        assert_eq!(
            conditional_open("<!--[if gte mso 9]><v:textbox>x"),
            Some("<v:textbox>x")
        );
        assert_eq!(conditional_open("<!--[if !mso]><!-->y"), Some("y"));
        assert_eq!(conditional_open("<!-- plain -->"), None);
        assert_eq!(conditional_open("<!--[if"), None);
    }
}
