//! HTML to the text a reader sees.
//!
//! Inline tags (`<b>`, `<span>` …) vanish so a number split by formatting is
//! joined again; block tags, line breaks and table cells become separators so
//! neighbouring cells are not glued into one long number. Script, style and
//! comments are dropped; entities are decoded.

use super::ground::{Ctx, File, SegmentKind};
use super::{html_attrs, html_table, text};

/// An HTML file: one attachment segment of its visible text.
pub(crate) fn read(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str) {
    let text = html_to_text(&text::decode(file.bytes, file.charset));
    ctx.push(SegmentKind::Attachment, location.to_string(), text);
}

/// Tags whose start or end separates text by a line.
const BLOCK: &[&str] = &[
    "br",
    "p",
    "div",
    "tr",
    "li",
    "ul",
    "ol",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "title",
    "dt",
    "dd",
    "address",
    "form",
    "option",
];
/// Tags whose start or end separates text like a tab.
const CELL: &[&str] = &["td", "th"];
/// Elements whose content is not text for the reader.
const SKIP: &[&str] = &["script", "style", "head", "template", "noscript", "svg"];

/// The visible text of an HTML document, block elements on lines of their own.
pub fn html_to_text(html: &str) -> String {
    let mut out = markup_text(html);
    for number in html_table::joined_cpr_cells(html) {
        out.push('\n');
        out.push_str(&number);
    }
    out
}

/// The text of the markup itself, without the joined table cells.
pub(super) fn markup_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<String> = None;
    while !rest.is_empty() {
        let Some(lt) = rest.find(['<', '&']) else {
            if skip_until.is_none() {
                out.push_str(rest);
            }
            break;
        };
        if skip_until.is_none() {
            out.push_str(&rest[..lt]);
        }
        rest = &rest[lt..];
        if rest.starts_with('&') {
            let window = &rest.as_bytes()[..rest.len().min(34)];
            if let Some(end) = window.iter().position(|&b| b == b';') {
                if let Some(c) = decode_entity(&rest[1..end]) {
                    if skip_until.is_none() {
                        out.push(c);
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
            }
            if skip_until.is_none() {
                out.push('&');
            }
            rest = &rest[1..];
            continue;
        }
        // A tag, comment or declaration; a '<' not followed by one is text.
        if !rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!') {
            if skip_until.is_none() {
                out.push('<');
            }
            rest = &rest[1..];
            continue;
        }
        if let Some(inside) = html_attrs::conditional_open(rest) {
            rest = inside;
            continue;
        }
        if rest.starts_with("<!--") {
            rest = match rest.find("-->") {
                Some(e) => &rest[e + 3..],
                None => "",
            };
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // An unterminated '<' is text.
            if skip_until.is_none() {
                out.push_str(rest);
            }
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if let Some(end) = &skip_until {
            if closing && &name == end {
                skip_until = None;
            }
            continue;
        }
        if !closing && SKIP.contains(&name.as_str()) && !tag.ends_with('/') {
            skip_until = Some(name);
            continue;
        }
        html_attrs::push_shown(tag, &mut out, markup_text);
        if BLOCK.contains(&name.as_str()) {
            out.push('\n');
        } else if CELL.contains(&name.as_str()) {
            out.push('\t');
        }
    }
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "nbsp" => '\u{a0}',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "ndash" => '\u{2013}',
        "mdash" => '\u{2014}',
        "minus" => '\u{2212}',
        "hyphen" | "dash" => '\u{2010}',
        "shy" => '\u{ad}',
        "zwsp" => '\u{200b}',
        "zwj" => '\u{200d}',
        "zwnj" => '\u{200c}',
        "thinsp" => '\u{2009}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "period" => '.',
        "sol" => '/',
        "colon" => ':',
        "aelig" => 'æ',
        "AElig" => 'Æ',
        "oslash" => 'ø',
        "Oslash" => 'Ø',
        "aring" => 'å',
        "Aring" => 'Å',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "eacute" => 'é',
        "copy" => '©',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "hellip" => '…',
        "euro" => '€',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn entities_and_inline_tags_join() {
        assert_eq!(html_to_text("<p>a&nbsp;b</p>&#45;").trim(), "a\u{a0}b\n-");
        assert_eq!(
            html_to_text("CPR 2410<b>85</b>&#8209;1337"),
            "CPR 241085\u{2011}1337"
        );
    }

    #[test]
    fn cells_and_breaks_separate() {
        let t = html_to_text("<table><tr><td>241085</td><td>1337</td></tr></table>line<br>next");
        assert!(t.contains("241085\t\t1337"), "{t:?}");
        assert!(t.contains("line\nnext"));
    }

    #[test]
    fn script_style_and_comments_are_skipped() {
        let t = html_to_text(
            "<style>p{}</style><script>var x='241085-1337';</script><!-- 290200-4001 -->ok",
        );
        assert_eq!(t, "ok");
    }

    #[test]
    fn broken_markup_does_not_panic() {
        assert_eq!(html_to_text("a < b & c"), "a < b & c");
        assert_eq!(html_to_text("&#xFFFFFFFF; <scr"), "&#xFFFFFFFF; <scr");
        let _ = html_to_text("<script>never closed 241085-1337");
    }
}
