//! Text of an office XML part (OOXML or ODF), paragraph by paragraph.
//!
//! Runs of a paragraph (`w:r`, `a:r`, `text:span`) are joined without a
//! separator, so a number the editor split across runs (spell check,
//! formatting, revision marks) reads as one. Paragraphs, rows, line breaks
//! end a line; table cells and tabs become a tab, so neighbouring cells are
//! never glued into one long number.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ground::Ctx;

/// Elements whose end is a line break (local names, OOXML and ODF).
const LINE_END: &[&str] = &[
    "p",
    "h",
    "tr",
    "table-row",
    "si",
    "list-item",
    "comment",
    "txbxContent",
    // Comment authors, and each document property (OOXML core.xml, ODF
    // meta.xml) on a line of its own, so that neighbouring values (a
    // revision count, a date) are never glued to a number in a title.
    "author",
    "title",
    "subject",
    "creator",
    "keywords",
    "keyword",
    "description",
    "lastModifiedBy",
    "language",
    "revision",
    "category",
    "contentStatus",
    "created",
    "modified",
    "generator",
    "initial-creator",
    "creation-date",
    "date",
    "editing-cycles",
    "editing-duration",
    "print-date",
    "printed-by",
    "user-defined",
];
/// Elements whose end is a cell separator.
const CELL_END: &[&str] = &["tc", "table-cell", "c"];
/// Empty elements that stand for a character.
const EMPTY: &[(&str, char)] = &[
    ("tab", '\t'),
    ("br", '\n'),
    ("cr", '\n'),
    ("line-break", '\n'),
    ("s", ' '),
    ("noBreakHyphen", '-'),
];
/// Elements whose content is not text the reader sees.
const SKIP: &[&str] = &[
    "rPh",
    "instrText",
    "binData",
    "fldData",
    "script",
    "bookmarkStart",
    // A spreadsheet comment's box: anchor cells and offsets, not text.
    "commentPr",
];
/// Elements whose whitespace-only content is meaningful (`w:t`, `a:t`, `t`).
const KEEP_SPACE: &[&str] = &["t", "delText"];

/// Extracts the text of one XML part (at `location`); an error text when the
/// XML is broken (the text read up to the error is kept by the caller). Past
/// the deadline it stops with what it has (the deadline is recorded).
pub fn part_text(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) -> (String, Option<String>) {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    reader.config_mut().allow_dangling_amp = true;
    let mut out = String::new();
    let mut skip_depth = 0usize;
    let mut keep_space = false;
    loop {
        if ctx.tick(location) {
            return (out, None);
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                if skip_depth > 0 || SKIP.contains(&name.as_ref()) {
                    skip_depth += 1;
                    continue;
                }
                keep_space = KEEP_SPACE.contains(&name.as_ref());
            }
            Ok(Event::End(e)) => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                keep_space = false;
                let name = e.local_name();
                if LINE_END.contains(&name.as_ref()) {
                    out.push('\n');
                } else if CELL_END.contains(&name.as_ref()) {
                    out.push('\t');
                }
            }
            Ok(Event::Empty(e)) => {
                if skip_depth > 0 {
                    continue;
                }
                let name = e.local_name();
                if let Some((_, c)) = EMPTY.iter().find(|(n, _)| *n == name.as_ref()) {
                    out.push(*c);
                } else if LINE_END.contains(&name.as_ref()) {
                    out.push('\n');
                }
            }
            Ok(Event::Text(t)) if skip_depth == 0 => {
                let s = t.xml10_content();
                // Whitespace-only text with a line break is pretty-printing between
                // elements, not content: dropping it keeps split runs joined.
                if keep_space || !s.trim().is_empty() || !s.contains('\n') {
                    out.push_str(&s);
                }
            }
            Ok(Event::CData(t)) if skip_depth == 0 => {
                out.push_str(t.as_ref());
            }
            Ok(Event::GeneralRef(r)) if skip_depth == 0 => push_ref(&mut out, &r),
            Ok(Event::Eof) => return (out, None),
            Err(e) => return (out, Some(format!("broken XML: {e}"))),
            Ok(_) => {}
        }
    }
}

/// The text of a character or predefined entity reference (`&#x2D;`,
/// `&amp;`); any other entity is nothing, as no DTD is read.
pub(super) fn push_ref(out: &mut String, r: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
        return;
    }
    out.push_str(match r.xml10_content().as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Limits;

    fn part_text(bytes: &[u8]) -> (String, Option<String>) {
        super::part_text(&mut Ctx::new(&Limits::default()), bytes, "test")
    }

    #[test]
    fn runs_join_paragraphs_and_cells_separate() {
        let xml = br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>CPR 2410</w:t></w:r>
            <w:r><w:rPr><w:b/></w:rPr><w:t>85-1337</w:t></w:r></w:p>
            <w:tbl><w:tr><w:tc><w:p><w:r><w:t>241085</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>1337</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
            </w:body></w:document>"#;
        let (t, err) = part_text(xml);
        assert!(err.is_none());
        assert!(t.contains("CPR 241085-1337\n"), "{t:?}");
        assert!(!t.contains("2410851337"), "{t:?}");
    }

    #[test]
    fn comment_boxes_and_properties_are_not_glued_to_a_number() {
        let xml = br#"<comments><authors><author>Ida</author></authors><commentList><comment ref="A3"><text><r><t>Se 311237-9001</t></r></text><commentPr><anchor><from><col>1</col><row>0</row></from></anchor></commentPr></comment></commentList></comments>"#;
        let (t, _) = part_text(xml);
        assert_eq!(t, "Ida\nSe 311237-9001\n");
        let core = br#"<cp:coreProperties><cp:revision>12</cp:revision><dc:title>290200-4001</dc:title></cp:coreProperties>"#;
        let (t, _) = part_text(core);
        assert_eq!(t, "12\n290200-4001\n");
    }

    #[test]
    fn odf_spaces_entities_and_broken_xml() {
        let (t, _) = part_text(b"<text:p>a<text:s/>b &amp; &#50;4</text:p>");
        assert_eq!(t, "a b & 24\n");
        let (t, err) = part_text(b"<a><b>241085-1337</b><<<");
        assert!(t.contains("241085-1337"));
        assert!(err.is_some());
    }
}
