//! A number whose date part and serial sit in two adjacent table cells
//! (`<td>241085</td><td>1337</td>`) under a column header that says CPR:
//! the reader sees one number, the text of the table has two. Rows under
//! such a header are read again with the two cells joined.

use super::html::markup_text;
use super::split_cells::{Cell, SplitCells};

/// Tag at the start of `s` (just after `<`): lower-case name and whether it
/// closes, plus the `colspan`.
fn tag_at(s: &str) -> (bool, String, usize) {
    let end = s.find('>').unwrap_or(s.len());
    let tag = &s[..end];
    let closing = tag.starts_with('/');
    let name: String = tag
        .trim_start_matches('/')
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let lower = tag.to_ascii_lowercase();
    let colspan = lower
        .find("colspan")
        .map(|i| &lower[i + 7..])
        .map(|r| r.trim_start_matches([' ', '=', '"', '\'']))
        .and_then(|r| {
            r.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(1usize)
        .clamp(1, 100);
    (closing, name, colspan)
}

/// Rows of cells of every table in `html`.
fn rows(html: &str) -> Vec<Vec<Cell>> {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut column = 0;
    // Where the open cell's content starts, and its colspan.
    let mut open: Option<(usize, usize)> = None;
    let mut pos = 0;
    while let Some(p) = html[pos..].find('<') {
        let lt = pos + p;
        pos = lt + 1;
        let (closing, name, colspan) = tag_at(&html[pos..]);
        let is_cell = name == "td" || name == "th";
        let ends_cell = is_cell || name == "tr" || name == "table";
        if ends_cell {
            if let Some((start, span)) = open.take() {
                row.push(Cell {
                    column,
                    text: markup_text(&html[start..lt]).trim().to_string(),
                });
                column += span;
            }
        }
        if (name == "tr" || name == "table") && !row.is_empty() {
            rows.push(std::mem::take(&mut row));
            column = 0;
        }
        if name == "tr" || name == "table" {
            column = 0;
        }
        if is_cell && !closing {
            let gt = html[pos..].find('>').map_or(html.len(), |g| pos + g + 1);
            open = Some((gt, colspan));
            pos = gt.min(html.len());
        }
    }
    if let Some((start, _)) = open {
        row.push(Cell {
            column,
            text: markup_text(&html[start..]).trim().to_string(),
        });
    }
    if !row.is_empty() {
        rows.push(row);
    }
    rows
}

/// One line per row where a CPR column's date part and serial were split
/// over two adjacent cells: the joined number. Empty for most HTML (no CPR
/// header at all), found without building the table.
pub fn joined_cpr_cells(html: &str) -> Vec<String> {
    let header_words = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(["cpr", "personn"]);
    if !header_words.is_ok_and(|w| w.is_match(html)) {
        return Vec::new();
    }
    let mut split = SplitCells::default();
    for row in rows(html) {
        split.row(&row);
    }
    split.found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cells_under_a_cpr_header_are_joined() {
        let html = "<table><tr><th>Navn</th><th colspan=2>CPR-nr.</th></tr>\
<tr><td>Jens</td><td>241085</td><td>1337</td></tr>\
<tr><td>Ida</td><td>290200-</td><td>4001</td></tr>\
<tr><td>Bo</td><td>ukendt</td><td>1</td></tr></table>";
        assert_eq!(joined_cpr_cells(html), vec!["241085-1337", "290200-4001"]);
    }

    #[test]
    fn other_tables_are_left_alone() {
        let html = "<table><tr><th>Dato</th><th>Beløb</th></tr>\
<tr><td>241085</td><td>1337</td></tr></table>";
        assert!(joined_cpr_cells(html).is_empty());
        let html = "<p>cpr</p><table><tr><td>241085</td><td>1337</td></tr></table>";
        assert!(joined_cpr_cells(html).is_empty());
        assert!(joined_cpr_cells("<td>cpr<td>241085<td").is_empty());
    }
}
