//! Tables whose CPR column is split in two: the date part in one cell and
//! the serial in the next (`241085 | 1337`) under a header that says CPR.
//! The reader sees one number; the text of the table has two. HTML tables,
//! worksheets and OpenDocument tables feed their rows here and get the
//! joined numbers back as extra lines to match.

/// Does a header cell say its column holds CPR numbers?
pub(super) fn is_cpr_header(text: &str) -> bool {
    // Most cells are numbers or short words: every header word holds a c or
    // a p, and a header is short.
    if !text.bytes().any(|b| matches!(b | 0x20, b'c' | b'p')) || text.chars().count() > 40 {
        return false;
    }
    let t: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    t.contains("cpr") || t.contains("personnummer") || t.contains("personnr")
}

/// One cell of a row: its column (0-based, spans counted) and text.
pub(super) struct Cell {
    pub column: usize,
    pub text: String,
}

/// Reads rows in order and collects the joined numbers.
#[derive(Default)]
pub(super) struct SplitCells {
    /// Columns headed CPR in the table being read.
    cpr_columns: Vec<usize>,
    found: Vec<String>,
}

impl SplitCells {
    /// The next row of the table; a row with a CPR header starts a new
    /// header (the columns under it are what later rows are read by).
    pub fn row(&mut self, row: &[Cell]) {
        if let Some(h) = row.iter().find(|c| is_cpr_header(&c.text)) {
            self.cpr_columns = vec![h.column];
            return;
        }
        for &col in &self.cpr_columns {
            let Some(i) = row.iter().position(|c| c.column == col) else {
                continue;
            };
            if let (Some(a), Some(b)) = (row.get(i), row.get(i + 1)) {
                if let Some(n) = joined(&a.text, &b.text) {
                    self.found.push(n);
                }
            }
        }
    }

    /// A new table: headers of the last one no longer apply.
    pub fn end_table(&mut self) {
        self.cpr_columns.clear();
    }

    /// The joined numbers, in row order.
    pub fn found(self) -> Vec<String> {
        self.found
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `241085` + `1337` (either may carry the dash) as `241085-1337`.
fn joined(left: &str, right: &str) -> Option<String> {
    let l = left.strip_suffix(['-', '\u{2013}']).unwrap_or(left).trim();
    let r = right
        .strip_prefix(['-', '\u{2013}'])
        .unwrap_or(right)
        .trim();
    (digits(l, 6) && digits(r, 4)).then(|| format!("{l}-{r}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<Cell> {
        cells
            .iter()
            .enumerate()
            .map(|(column, t)| Cell {
                column,
                text: t.to_string(),
            })
            .collect()
    }

    #[test]
    fn headers() {
        assert!(is_cpr_header("CPR-nummer"));
        assert!(is_cpr_header("Personnr."));
        assert!(is_cpr_header("PERSONNUMMER"));
        assert!(!is_cpr_header("Telefon"));
        assert!(!is_cpr_header("2410851337"));
        assert!(!is_cpr_header(&"cpr ".repeat(20)));
    }

    #[test]
    fn only_rows_under_a_cpr_header_are_joined() {
        let mut s = SplitCells::default();
        s.row(&row(&["241085", "1337"]));
        s.row(&row(&["Navn", "CPR-nr."]));
        s.row(&row(&["Jens", "241085", "1337"]));
        s.row(&row(&["Ida", "290200-", "4001"]));
        s.row(&row(&["Bo", "ukendt", "1"]));
        s.end_table();
        s.row(&row(&["x", "241085", "1337"]));
        assert_eq!(s.found(), vec!["241085-1337", "290200-4001"]);
    }
}
