//! DOCX, XLSX and PPTX: every XML part that holds text a person wrote
//! (body, headers, footers, footnotes, comments, slides, notes, sheets,
//! shared strings, document properties), and embedded files recursively.
//!
//! Spreadsheets get one treatment of their own: cells are resolved against
//! the shared strings and laid out row by row, and a 9-digit number in a
//! column headed "CPR" gets back the leading zero Excel dropped when the
//! column was typed as a number.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::dispatch::{self, Embedded};
use super::ground::{Cause, Ctx, File, SegmentKind};
use super::image_text;
use super::sheet_formats::{self, DigitPattern};
use super::sheet_places;
use super::split_cells::{is_cpr_header, Cell, SplitCells};
use super::xml;
use super::zip::Archive;

/// XML parts that hold layout, not text.
const SKIP_PARTS: &[&str] = &[
    "[Content_Types].xml",
    "styles.xml",
    "stylesWithEffects.xml",
    "fontTable.xml",
    "settings.xml",
    "webSettings.xml",
    "numbering.xml",
    "presProps.xml",
    "viewProps.xml",
    "tableStyles.xml",
    "calcChain.xml",
    "app.xml",
];
const SKIP_DIRS: &[&str] = &[
    "theme/",
    "slideLayouts/",
    "slideMasters/",
    "printerSettings/",
    "_rels/",
    "media/",
];

pub(crate) fn read(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str, depth: usize) {
    let names = archive.names.clone();
    let mut shared: Option<SharedStrings> = None;
    if let Some(i) = archive.index_of("xl/sharedStrings.xml") {
        let loc = format!("{location}:xl/sharedStrings.xml");
        if ctx.count_entry(&loc) {
            if let Ok(bytes) = archive.read(ctx, i) {
                shared = Some(shared_strings(ctx, &bytes, &loc));
            }
        }
    }
    // Custom number formats such as 000000-0000 decide what a cell shows.
    let mut patterns = Vec::new();
    if let Some(i) = archive.index_of("xl/styles.xml") {
        let loc = format!("{location}:xl/styles.xml");
        if ctx.count_entry(&loc) {
            if let Ok(bytes) = archive.read(ctx, i) {
                patterns = sheet_formats::cell_patterns(ctx, &bytes, &loc);
            }
        }
    }
    for (i, name) in names.iter().enumerate() {
        let loc = format!("{location}:{name}");
        let base = name.rsplit('/').next().unwrap_or(name);
        if name.contains("/media/") && ctx.image_text().is_some() {
            // Pictures pasted into the document: scans, screenshots.
            if !ctx.count_entry(&loc) {
                return;
            }
            if let Ok(bytes) = archive.read(ctx, i) {
                image_text::read_picture(ctx, &bytes, &loc);
            }
            continue;
        }
        if name.ends_with('/')
            || name == "xl/sharedStrings.xml"
            || SKIP_PARTS.contains(&base)
            || SKIP_DIRS.iter().any(|d| name.contains(d))
        {
            continue;
        }
        let is_xml = name.ends_with(".xml");
        let embedded = name.contains("/embeddings/");
        if !is_xml && !embedded {
            continue;
        }
        if !ctx.count_entry(&loc) {
            return;
        }
        let Ok(bytes) = archive.read(ctx, i) else {
            continue;
        };
        if embedded && !is_xml {
            let entry = Embedded::File(File::entry(&bytes, base));
            dispatch::embedded(ctx, entry, &loc, depth + 1);
            continue;
        }
        let (text, err) = if name.starts_with("xl/worksheets/") {
            sheet_text(ctx, &bytes, &loc, shared.as_mut(), &patterns)
        } else {
            xml::part_text(ctx, &bytes, &loc)
        };
        if let Some(err) = err {
            ctx.unscannable(&loc, Cause::Broken, err);
        }
        if name.starts_with("xl/worksheets/") {
            sheet_margins(ctx, &bytes, &loc);
        } else if name == "xl/workbook.xml" {
            let (names, _) = sheet_places::attribute_values(ctx, &bytes, &loc, "sheet", "name");
            ctx.push(
                SegmentKind::Attachment,
                format!("{location}:sheetnames"),
                names.join("\n"),
            );
        }
        ctx.push(SegmentKind::Attachment, loc, text);
    }
    // Shared strings no sheet referred to are still text in the file.
    if let Some(shared) = shared {
        let rest: Vec<&str> = shared
            .strings
            .iter()
            .zip(&shared.used)
            .filter(|(_, u)| !**u)
            .map(|(s, _)| s.as_str())
            .collect();
        if !rest.is_empty() {
            ctx.push(
                SegmentKind::Attachment,
                format!("{location}:xl/sharedStrings.xml"),
                rest.join("\n"),
            );
        }
    }
}

/// A worksheet's print headers and footers, each a segment of its own.
fn sheet_margins(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) {
    // The schema puts <headerFooter> after the cells: parse from there rather
    // than reading the whole sheet a second time (a namespace prefix, or the
    // word in a cell before it, only makes the slice longer).
    let Some(at) = memchr::memmem::find(bytes, b"headerFooter") else {
        return;
    };
    let start = memchr::memrchr(b'<', &bytes[..at]).unwrap_or(0);
    let (headers, footers) = sheet_places::headers_footers(ctx, &bytes[start..], location);
    for (what, text) in [("header", headers), ("footer", footers)] {
        if !text.is_empty() {
            ctx.push(SegmentKind::Attachment, format!("{location}:{what}"), text);
        }
    }
}

struct SharedStrings {
    strings: Vec<String>,
    used: Vec<bool>,
}

fn shared_strings(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) -> SharedStrings {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut strings = Vec::new();
    let mut cur = String::new();
    let (mut in_t, mut in_rph) = (false, false);
    while !ctx.tick(location) {
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "si" => cur.clear(),
                "t" => in_t = true,
                "rPh" => in_rph = true,
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "si" => strings.push(std::mem::take(&mut cur)),
                "t" => in_t = false,
                "rPh" => in_rph = false,
                _ => {}
            },
            Ok(Event::Text(t)) if in_t && !in_rph => cur.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_t && !in_rph => xml::push_ref(&mut cur, &r),
            Ok(Event::Eof) => break,
            Err(e) => {
                ctx.unscannable(location, Cause::Broken, format!("broken XML: {e}"));
                break;
            }
            _ => {}
        }
    }
    let used = vec![false; strings.len()];
    SharedStrings { strings, used }
}

/// Column letters of a cell reference ("AB12" → "AB").
fn column_of(reference: &str) -> String {
    reference
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect()
}

/// A numeric cell value that is a CPR number with its leading zero lost.
fn restore_leading_zero(value: &str) -> Option<String> {
    let int = value.strip_suffix(".0").unwrap_or(value);
    (int.len() == 9 && int.bytes().all(|b| b.is_ascii_digit())).then(|| format!("0{int}"))
}

/// The 0-based column of column letters ("A" → 0, "AB" → 27).
fn column_number(letters: &str) -> Option<usize> {
    letters
        .bytes()
        .try_fold(0usize, |n, b| {
            let d = (b.to_ascii_uppercase().checked_sub(b'A')? as usize) + 1;
            (d <= 26).then(|| n.checked_mul(26)?.checked_add(d))?
        })?
        .checked_sub(1)
}

/// One worksheet as text: a line per row, a tab between cells, then a line
/// for each CPR number split over two cells under a CPR header.
fn sheet_text(
    ctx: &mut Ctx<'_>,
    bytes: &[u8],
    location: &str,
    mut shared: Option<&mut SharedStrings>,
    patterns: &[Option<DigitPattern>],
) -> (String, Option<String>) {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().check_end_names = false;
    let mut out = String::new();
    // Column letters → the header text that called it a CPR column.
    let mut cpr_columns: Vec<(String, String)> = Vec::new();
    let (mut col, mut ty, mut value) = (String::new(), String::new(), String::new());
    let mut style: Option<usize> = None;
    let (mut in_v, mut in_t) = (false, false);
    let mut row_has_cells = false;
    // Cells of the current row, kept only once a CPR header has been seen.
    let (mut split, mut row_cells, mut next_column) = (SplitCells::default(), Vec::new(), 0);
    let finish = |mut out: String, split: SplitCells| {
        for n in split.found() {
            out.push_str(&n);
            out.push('\n');
        }
        out
    };
    loop {
        if ctx.tick(location) {
            return (finish(out, split), None);
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => match e.local_name().as_ref() {
                "c" => {
                    value.clear();
                    col.clear();
                    ty.clear();
                    style = None;
                    for a in e.attributes().flatten() {
                        let v = a.value.to_string();
                        match a.key.local_name().as_ref() {
                            "r" => col = column_of(&v),
                            "t" => ty = v,
                            "s" => style = v.parse().ok(),
                            _ => {}
                        }
                    }
                }
                "v" => in_v = true,
                "t" => in_t = true,
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().as_ref() {
                "v" => in_v = false,
                "t" => in_t = false,
                "c" => {
                    let text = match ty.as_str() {
                        "s" => match (value.trim().parse::<usize>(), shared.as_deref_mut()) {
                            (Ok(i), Some(s)) if i < s.strings.len() => {
                                s.used[i] = true;
                                s.strings[i].clone()
                            }
                            _ => String::new(),
                        },
                        "" | "n" => {
                            let shown = style
                                .and_then(|s| patterns.get(s))
                                .and_then(Option::as_ref)
                                .and_then(|p| p.show(&value));
                            let header = cpr_columns.iter().find(|(c, _)| *c == col);
                            match (shown, header) {
                                (Some(v), Some((_, h))) => format!("{h} {v}"),
                                (Some(v), None) => v,
                                (None, Some((_, h))) => match restore_leading_zero(value.trim()) {
                                    Some(v) => format!("{h} {v}"),
                                    None => value.clone(),
                                },
                                (None, None) => value.clone(),
                            }
                        }
                        _ => value.clone(),
                    };
                    let header = is_cpr_header(&text);
                    if header && !col.is_empty() && !cpr_columns.iter().any(|(c, _)| *c == col) {
                        cpr_columns.push((col.clone(), text.trim().to_string()));
                    }
                    let column = column_number(&col).unwrap_or(next_column);
                    next_column = column + 1;
                    if header || !cpr_columns.is_empty() {
                        row_cells.push(Cell {
                            column,
                            text: text.trim().to_string(),
                        });
                    }
                    if row_has_cells {
                        out.push('\t');
                    }
                    out.push_str(&text);
                    row_has_cells = true;
                }
                "row" => {
                    out.push('\n');
                    row_has_cells = false;
                    next_column = 0;
                    if !row_cells.is_empty() {
                        split.row(&row_cells);
                        row_cells.clear();
                    }
                }
                _ => {}
            },
            Ok(Event::Text(t)) if in_v || in_t => value.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_v || in_t => xml::push_ref(&mut value, &r),
            Ok(Event::Eof) => return (finish(out, split), None),
            Err(e) => return (finish(out, split), Some(format!("broken XML: {e}"))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_column_gets_leading_zero_back() {
        let mut shared = SharedStrings {
            strings: vec!["CPR-nr".into(), "Navn".into()],
            used: vec![false; 2],
        };
        let sheet = br#"<worksheet><sheetData>
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
            <row r="2"><c r="A2"><v>101650000</v></c><c r="B2" t="inlineStr"><is><t>Jens</t></is></c></row>
            <row r="3"><c r="A3"><v>2410851337</v></c><c r="B3"><v>123456789</v></c></row>
            </sheetData></worksheet>"#;
        let mut ctx = Ctx::new(&crate::extract::Limits::default());
        let (t, err) = sheet_text(&mut ctx, sheet, "test", Some(&mut shared), &[]);
        assert!(err.is_none());
        assert_eq!(
            t,
            "CPR-nr\tNavn\nCPR-nr 0101650000\tJens\n2410851337\t123456789\n"
        );
        assert!(shared.used.iter().all(|u| *u));
    }

    #[test]
    fn a_custom_number_format_shows_the_number_as_written() {
        let sheet = br#"<worksheet><sheetData>
            <row r="1"><c r="A1" s="1"><v>2410851337</v></c><c r="B1" s="1"><v>101650000</v></c><c r="C1"><v>2410851337</v></c></row>
            </sheetData></worksheet>"#;
        let patterns = [None, sheet_formats::DigitPattern::parse("000000-0000")];
        let mut ctx = Ctx::new(&crate::extract::Limits::default());
        let (t, _) = sheet_text(&mut ctx, sheet, "test", None, &patterns);
        assert_eq!(t, "241085-1337\t010165-0000\t2410851337\n");
    }

    #[test]
    fn a_number_split_over_two_cells_under_a_cpr_header_is_joined() {
        let sheet = br#"<worksheet><sheetData>
            <row r="1"><c r="A1" t="inlineStr"><is><t>Navn</t></is></c><c r="B1" t="inlineStr"><is><t>CPR-nummer</t></is></c></row>
            <row r="2"><c r="A2" t="inlineStr"><is><t>Jens</t></is></c><c r="B2" t="inlineStr"><is><t>241085</t></is></c><c r="C2"><v>1337</v></c></row>
            <row r="3"><c r="A3" t="inlineStr"><is><t>Ida</t></is></c><c r="B3"><v>2410</v></c><c r="C3"><v>85</v></c></row>
            </sheetData></worksheet>"#;
        let mut ctx = Ctx::new(&crate::extract::Limits::default());
        let (t, err) = sheet_text(&mut ctx, sheet, "test", None, &[]);
        assert!(err.is_none());
        assert_eq!(
            t,
            "Navn\tCPR-nummer\nJens\t241085\t1337\nIda\t2410\t85\n241085-1337\n"
        );
    }

    #[test]
    fn print_headers_are_found_after_the_cells_with_or_without_a_prefix() {
        let limits = crate::extract::Limits::default();
        for sheet in [
            &br#"<worksheet><sheetData><row><c><v>1</v></c></row></sheetData><headerFooter><oddHeader>&amp;CSag 290200-4001</oddHeader></headerFooter></worksheet>"#[..],
            br#"<x:worksheet><x:sheetData/><x:headerFooter><x:oddFooter>&amp;LSag 290200-4001</x:oddFooter></x:headerFooter></x:worksheet>"#,
        ] {
            let mut ctx = Ctx::new(&limits);
            sheet_margins(&mut ctx, sheet, "s");
            let out = ctx.finish();
            assert_eq!(out.segments.len(), 1, "{sheet:?}");
            assert_eq!(out.segments[0].text, "Sag 290200-4001\n");
        }
        let mut ctx = Ctx::new(&limits);
        sheet_margins(&mut ctx, b"<worksheet><sheetData/></worksheet>", "s");
        assert!(ctx.finish().segments.is_empty());
    }

    #[test]
    fn leading_zeros_and_columns() {
        assert_eq!(column_number("A"), Some(0));
        assert_eq!(column_number("AB"), Some(27));
        assert_eq!(column_number(""), None);
        assert_eq!(column_number("A1"), None);
        assert_eq!(restore_leading_zero("101650000"), Some("0101650000".into()));
        assert_eq!(restore_leading_zero("1016500001"), None);
    }
}
