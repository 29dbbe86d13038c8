//! Spreadsheet number formats that lay digits out in a pattern. Excel users
//! type CPR numbers as numbers and give the column the custom format
//! `000000-0000`: the file stores `2410851337` (or `101650000`, the leading
//! zero gone) and the reader sees `241085-1337` / `010165-0000`. Reading the
//! cell as shown needs the format, which lives in `xl/styles.xml`.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::ground::Ctx;

/// A format of digit placeholders (`0`) and literal characters, e.g.
/// `000000-0000`; only formats with at least six placeholders are kept
/// (shorter ones are for amounts and dates, not identifiers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DigitPattern {
    /// `None` is a digit placeholder, `Some(c)` a literal.
    slots: Vec<Option<char>>,
    digits: usize,
}

impl DigitPattern {
    /// The pattern of an Excel format code, if it is one.
    pub fn parse(code: &str) -> Option<Self> {
        // Only the first section (positive numbers) is used.
        let mut slots = Vec::new();
        let mut chars = code.chars();
        let mut in_quote = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => in_quote = !in_quote,
                _ if in_quote => slots.push(Some(c)),
                ';' => break,
                '\\' => slots.push(Some(chars.next()?)),
                '0' => slots.push(None),
                '-' | ' ' | '/' | '.' | '(' | ')' | ':' => slots.push(Some(c)),
                _ => return None,
            }
        }
        let digits = slots.iter().filter(|s| s.is_none()).count();
        (digits >= 6 && !in_quote).then_some(DigitPattern { slots, digits })
    }

    /// `value` (a stored cell value) as the pattern shows it, when it is a
    /// whole number.
    pub fn show(&self, value: &str) -> Option<String> {
        let int = value.trim();
        let int = int.strip_suffix(".0").unwrap_or(int);
        if int.is_empty() || int.len() > 20 || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Pad to the placeholders; digits beyond them go in front, as Excel
        // shows them.
        let padded = format!("{int:0>width$}", width = self.digits);
        let extra = padded.len() - self.digits;
        let mut out = String::from(&padded[..extra]);
        let mut digits = padded[extra..].chars();
        for slot in &self.slots {
            match slot {
                None => out.push(digits.next()?),
                Some(c) => out.push(*c),
            }
        }
        Some(out)
    }
}

/// The digit pattern of each cell style (`<cellXfs>` order, what a cell's
/// `s` attribute indexes), from `xl/styles.xml`.
pub(super) fn cell_patterns(
    ctx: &mut Ctx<'_>,
    styles: &[u8],
    location: &str,
) -> Vec<Option<DigitPattern>> {
    let mut reader = Reader::from_reader(styles);
    reader.config_mut().check_end_names = false;
    let mut formats: Vec<(u32, DigitPattern)> = Vec::new();
    let mut cells = Vec::new();
    let mut in_cell_xfs = false;
    while !ctx.tick(location) {
        let (e, empty) = match reader.read_event() {
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(Event::End(e)) => {
                if e.local_name().as_ref() == "cellXfs" {
                    in_cell_xfs = false;
                }
                continue;
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => continue,
        };
        let attr = |name: &str| {
            e.attributes()
                .flatten()
                .find(|a| a.key.local_name().as_ref() == name)
                .map(|a| a.value.to_string())
        };
        match e.local_name().as_ref() {
            "cellXfs" if !empty => in_cell_xfs = true,
            "numFmt" => {
                let id = attr("numFmtId").and_then(|v| v.parse().ok());
                let pattern = attr("formatCode").and_then(|c| DigitPattern::parse(&c));
                if let (Some(id), Some(p)) = (id, pattern) {
                    formats.push((id, p));
                }
            }
            "xf" if in_cell_xfs => {
                let id: Option<u32> = attr("numFmtId").and_then(|v| v.parse().ok());
                cells.push(id.and_then(|id| {
                    formats
                        .iter()
                        .find(|(f, _)| *f == id)
                        .map(|(_, p)| p.clone())
                }));
            }
            _ => {}
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpr_formats_show_the_number_as_written() {
        for code in [
            "000000-0000",
            "000000\\-0000",
            "000000\"-\"0000",
            "000000-0000;@",
        ] {
            let p = DigitPattern::parse(code).unwrap_or_else(|| panic!("{code}"));
            assert_eq!(
                p.show("2410851337").as_deref(),
                Some("241085-1337"),
                "{code}"
            );
            assert_eq!(
                p.show("101650000").as_deref(),
                Some("010165-0000"),
                "{code}"
            );
            assert_eq!(p.show("2410851337.0").as_deref(), Some("241085-1337"));
            assert_eq!(p.show("2.41E+9"), None);
        }
        assert_eq!(
            DigitPattern::parse("0000000000")
                .unwrap()
                .show("101650000")
                .as_deref(),
            Some("0101650000")
        );
        // More digits than placeholders go in front.
        assert_eq!(
            DigitPattern::parse("000000")
                .unwrap()
                .show("12345678")
                .as_deref(),
            Some("12345678")
        );
    }

    #[test]
    fn other_formats_are_not_patterns() {
        for code in [
            "0",
            "0.00",
            "#,##0",
            "dd-mm-yyyy",
            "00-00",
            "General",
            "000000-0000\"",
        ] {
            assert_eq!(DigitPattern::parse(code), None, "{code}");
        }
    }

    #[test]
    fn cell_styles_index_their_patterns() {
        let styles = br#"<styleSheet><numFmts count="2"><numFmt numFmtId="164" formatCode="000000\-0000"/><numFmt numFmtId="165" formatCode="0.00"/></numFmts>
<cellStyleXfs count="1"><xf numFmtId="164"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="165"/><xf numFmtId="164" applyNumberFormat="1"/></cellXfs></styleSheet>"#;
        let mut ctx = Ctx::new(&crate::extract::Limits::default());
        let cells = cell_patterns(&mut ctx, styles, "t");
        assert_eq!(cells.len(), 3);
        assert!(cells[0].is_none() && cells[1].is_none());
        assert_eq!(
            cells[2].as_ref().unwrap().show("2410851337").as_deref(),
            Some("241085-1337")
        );
    }
}
