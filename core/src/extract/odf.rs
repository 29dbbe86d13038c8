//! ODT, ODS and ODP (OpenDocument): content.xml (body, tables, slides),
//! styles.xml (headers and footers), meta.xml, and the same parts of
//! embedded objects. An encrypted package is reported, not guessed at.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ground::{Cause, Ctx, SegmentKind};
use super::image_text;
use super::sheet_places;
use super::sniff;
use super::split_cells::{Cell, SplitCells};
use super::xml;
use super::zip::Archive;

pub(crate) fn read(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str) {
    if let Some(i) = archive.index_of("META-INF/manifest.xml") {
        if let Ok(manifest) = archive.read(ctx, i) {
            if sniff::position_of(&manifest, b"encryption-data").is_some() {
                ctx.unscannable(
                    location,
                    Cause::Encrypted,
                    "password-protected OpenDocument file",
                );
                return;
            }
        }
    }
    let names = archive.names.clone();
    for (i, name) in names.iter().enumerate() {
        let base = name.rsplit('/').next().unwrap_or(name);
        if name.starts_with("Pictures/") && ctx.image_text().is_some() {
            // Pictures pasted into the document: scans, screenshots.
            let loc = format!("{location}:{name}");
            if !ctx.count_entry(&loc) {
                return;
            }
            if let Ok(bytes) = archive.read(ctx, i) {
                image_text::read_picture(ctx, &bytes, &loc);
            }
            continue;
        }
        if !matches!(base, "content.xml" | "styles.xml" | "meta.xml") {
            continue;
        }
        let loc = format!("{location}:{name}");
        if !ctx.count_entry(&loc) {
            return;
        }
        let Ok(bytes) = archive.read(ctx, i) else {
            continue;
        };
        let (text, err) = xml::part_text(ctx, &bytes, &loc);
        if let Some(err) = err {
            ctx.unscannable(&loc, Cause::Broken, err);
        }
        if base == "content.xml" {
            // Sheet (and table) names are attributes: the tabs a reader sees.
            let (names, _) = sheet_places::attribute_values(ctx, &bytes, &loc, "table", "name");
            if !names.is_empty() {
                ctx.push(
                    SegmentKind::Attachment,
                    format!("{loc}:tablenames"),
                    names.join("\n"),
                );
            }
        }
        let split = if base == "content.xml" {
            split_table_numbers(ctx, &bytes, &loc)
        } else {
            Vec::new()
        };
        ctx.push(SegmentKind::Attachment, loc.clone(), text);
        if !split.is_empty() {
            ctx.push(
                SegmentKind::Attachment,
                format!("{loc}:joined"),
                split.join("\n"),
            );
        }
    }
}

/// CPR numbers split over two cells of a table (spreadsheet or text
/// document) under a CPR header; found without reading the tables when the
/// part has no header word at all.
fn split_table_numbers(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) -> Vec<String> {
    let words = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["cpr", "personn"]);
    if !words.is_ok_and(|w| w.is_match(bytes)) {
        return Vec::new();
    }
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut split = SplitCells::default();
    let mut row: Vec<Cell> = Vec::new();
    let mut column = 0usize;
    // Inside a cell: its text so far and how many columns it covers.
    let mut cell: Option<(String, usize)> = None;
    let repeated = |e: &quick_xml::events::BytesStart<'_>| {
        e.attributes()
            .flatten()
            .find(|a| a.key.local_name().as_ref() == "number-columns-repeated")
            .and_then(|a| a.value.parse::<usize>().ok())
            .unwrap_or(1)
            .clamp(1, 1 << 14)
    };
    while !ctx.tick(location) {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "table-cell" | "covered-table-cell" => cell = Some((String::new(), repeated(&e))),
                "table-row" => column = 0,
                _ => {}
            },
            Ok(Event::Empty(e)) => {
                if matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell") {
                    column += repeated(&e);
                }
            }
            Ok(Event::Text(t)) => {
                if let Some((text, _)) = cell.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "table-cell" | "covered-table-cell" => {
                    if let Some((text, span)) = cell.take() {
                        row.push(Cell {
                            column,
                            text: text.trim().to_string(),
                        });
                        column += span;
                    }
                }
                "table-row" => {
                    split.row(&row);
                    row.clear();
                }
                "table" => split.end_table(),
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    split.found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_split_over_two_table_cells_under_a_cpr_header_is_joined() {
        let content = br#"<office:document-content><office:body><office:spreadsheet>
<table:table table:name="Borgere">
<table:table-row><table:table-cell><text:p>Navn</text:p></table:table-cell><table:table-cell table:number-columns-spanned="2"><text:p>CPR-nr.</text:p></table:table-cell><table:covered-table-cell/></table:table-row>
<table:table-row><table:table-cell><text:p>Jens</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="241085"><text:p>241085</text:p></table:table-cell><table:table-cell><text:p>1337</text:p></table:table-cell></table:table-row>
<table:table-row><table:table-cell table:number-columns-repeated="2"/><table:table-cell><text:p>290200</text:p></table:table-cell><table:table-cell><text:p>4001</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="Andet"><table:table-row><table:table-cell><text:p>x</text:p></table:table-cell><table:table-cell><text:p>241085</text:p></table:table-cell><table:table-cell><text:p>1337</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;
        let mut ctx = Ctx::new(&crate::extract::Limits::default());
        // The third row's pair sits one column right of the CPR column.
        assert_eq!(
            split_table_numbers(&mut ctx, content, "t"),
            vec!["241085-1337"]
        );
        let plain = br#"<table:table><table:table-row><table:table-cell><text:p>241085</text:p></table:table-cell><table:table-cell><text:p>1337</text:p></table:table-cell></table:table-row></table:table>"#;
        assert!(split_table_numbers(&mut ctx, plain, "t").is_empty());
    }
}
