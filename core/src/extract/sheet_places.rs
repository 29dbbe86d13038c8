//! Spreadsheet text that sits outside the cells: sheet names (workbook tabs,
//! held in attributes, so the paragraph reader never sees them) and
//! Excel's print headers and footers (`headerFooter`, written in Excel's
//! own formatting codes).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::ground::Ctx;

/// The values of attribute `attr` (local name) on every element named
/// `element` (local name), in document order; an error text when the XML
/// is broken (the values read up to there are kept).
pub(crate) fn attribute_values(
    ctx: &mut Ctx<'_>,
    bytes: &[u8],
    location: &str,
    element: &str,
    attr: &str,
) -> (Vec<String>, Option<String>) {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut values = Vec::new();
    loop {
        if ctx.tick(location) {
            return (values, None);
        }
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == element => {
                if let Some(v) = attribute(&e, attr) {
                    values.push(v);
                }
            }
            Ok(Event::Eof) => return (values, None),
            Err(e) => return (values, Some(format!("broken XML: {e}"))),
            Ok(_) => {}
        }
    }
}

fn attribute(e: &BytesStart<'_>, attr: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == attr)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// The print headers and footers of one worksheet part, as shown on paper:
/// (headers, footers), one section per line.
pub(crate) fn headers_footers(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) -> (String, String) {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let (mut headers, mut footers) = (String::new(), String::new());
    // Inside a header (true) or footer (false) element, and its raw text.
    let mut inside: Option<bool> = None;
    let mut raw = String::new();
    loop {
        if ctx.tick(location) {
            break;
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                inside = match name.as_ref() {
                    "oddHeader" | "evenHeader" | "firstHeader" => Some(true),
                    "oddFooter" | "evenFooter" | "firstFooter" => Some(false),
                    _ => None,
                };
                raw.clear();
            }
            Ok(Event::Text(t)) if inside.is_some() => raw.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if inside.is_some() => super::xml::push_ref(&mut raw, &r),
            Ok(Event::End(_)) => {
                if let Some(is_header) = inside.take() {
                    let out = if is_header {
                        &mut headers
                    } else {
                        &mut footers
                    };
                    let text = printed_text(&raw);
                    if !text.trim().is_empty() {
                        out.push_str(text.trim());
                        out.push('\n');
                    }
                }
            }
            // Whatever was read before broken XML is kept; the worksheet
            // reader reports the breakage for the part.
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    (headers, footers)
}

/// A header/footer string with Excel's codes removed: `&L`, `&C`, `&R`
/// start a section (a new line, so sections are never glued into one
/// number), `&&` is an ampersand, `&"font,style"`, `&K` + colour and a
/// font size in digits are formatting, any other `&X` is a field (page
/// number, date, file name) or a style toggle.
fn printed_text(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => out.push('&'),
            Some('L' | 'C' | 'R') => out.push('\n'),
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some('K') => {
                for _ in 0..6 {
                    if chars
                        .next_if(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '-')
                        .is_none()
                    {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => while chars.next_if(char::is_ascii_digit).is_some() {},
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    #[test]
    fn codes_are_removed_and_sections_kept_apart() {
        assert_eq!(
            printed_text("&CUdskrift: 290200-4001"),
            "\nUdskrift: 290200-4001"
        );
        assert_eq!(
            printed_text("&L&\"Arial,Fed\"&12Sag&R&KFF0000side &P af &N && mere"),
            "\nSag\nside  af  & mere"
        );
        assert_eq!(printed_text("&L241085&R1337"), "\n241085\n1337");
    }

    #[test]
    fn headers_footers_and_sheet_names() {
        let mut ctx = Ctx::new(&Limits::default());
        let sheet = br#"<worksheet><headerFooter><oddHeader>&amp;CUdskrift: 290200-4001</oddHeader><oddFooter>&amp;Rside &amp;P</oddFooter><evenFooter></evenFooter></headerFooter></worksheet>"#;
        let (h, f) = headers_footers(&mut ctx, sheet, "test");
        assert_eq!(h, "Udskrift: 290200-4001\n");
        assert_eq!(f, "side\n");
        let book = br#"<workbook><sheets><sheet name="Borgere" sheetId="1"/><sheet name="Sag &amp; 241085-1337" sheetId="2"/></sheets></workbook>"#;
        let (names, err) = attribute_values(&mut ctx, book, "test", "sheet", "name");
        assert!(err.is_none());
        assert_eq!(names, ["Borgere", "Sag & 241085-1337"]);
        let (names, err) =
            attribute_values(&mut ctx, b"<a><sheet name=\"x\"/><<", "t", "sheet", "name");
        assert_eq!(names, ["x"]);
        assert!(err.is_some());
    }
}
