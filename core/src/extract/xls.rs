//! Excel 97-2003 workbooks (`.xls`, BIFF8 in the `Workbook` stream): cell
//! text and numbers laid out row by row per sheet (strings through the
//! shared string table), sheet names, print headers and footers, and cell
//! comments.
//!
//! Records longer than 8224 bytes go on in CONTINUE records; a string split
//! there starts the next part with a fresh flags byte (8-bit or UTF-16), so
//! strings are read through [`Chunks`], which knows the seams.

use std::collections::BTreeMap;

use super::compound::{self as ole, Ole};
use super::ground::{Cause, Ctx, SegmentKind};
use super::sheet_formats::DigitPattern;
use super::text;

const BOF: u16 = 0x0809;
const BOUNDSHEET: u16 = 0x0085;
const CONTINUE: u16 = 0x003C;
const FILEPASS: u16 = 0x002F;
const SST: u16 = 0x00FC;
const LABELSST: u16 = 0x00FD;
const LABEL: u16 = 0x0204;
const NUMBER: u16 = 0x0203;
const RK: u16 = 0x027E;
const MULRK: u16 = 0x00BD;
const FORMULA: u16 = 0x0006;
const STRING: u16 = 0x0207;
const HEADER: u16 = 0x0014;
const FOOTER: u16 = 0x0015;
const TXO: u16 = 0x01B6;
const FORMAT: u16 = 0x041E;
const XF: u16 = 0x00E0;

/// One record with its CONTINUE parts.
struct Record<'b> {
    kind: u16,
    offset: usize,
    parts: Vec<&'b [u8]>,
}

fn records(stream: &[u8]) -> (Vec<Record<'_>>, bool) {
    let mut out: Vec<Record<'_>> = Vec::new();
    let mut i = 0;
    while i + 4 <= stream.len() {
        let kind = u16::from_le_bytes([stream[i], stream[i + 1]]);
        let len = u16::from_le_bytes([stream[i + 2], stream[i + 3]]) as usize;
        let Some(body) = stream.get(i + 4..i + 4 + len) else {
            return (out, true);
        };
        match (kind, out.last_mut()) {
            (CONTINUE, Some(prev)) => prev.parts.push(body),
            _ => out.push(Record {
                kind,
                offset: i,
                parts: vec![body],
            }),
        }
        i += 4 + len;
    }
    (out, false)
}

/// A reader over a record's parts.
struct Chunks<'a, 'b> {
    parts: &'a [&'b [u8]],
    part: usize,
    pos: usize,
}

impl<'a, 'b> Chunks<'a, 'b> {
    fn new(parts: &'a [&'b [u8]]) -> Self {
        Chunks {
            parts,
            part: 0,
            pos: 0,
        }
    }

    fn at_seam(&mut self) -> bool {
        while self.part < self.parts.len() && self.pos >= self.parts[self.part].len() {
            self.part += 1;
            self.pos = 0;
            if self.part < self.parts.len() {
                return true;
            }
        }
        false
    }

    fn byte(&mut self) -> Option<u8> {
        self.at_seam();
        let b = *self.parts.get(self.part)?.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        for _ in 0..n {
            self.byte()?;
        }
        Some(())
    }

    /// `cch` characters, 8-bit or UTF-16 as `high` says; at a seam the
    /// next part starts with a new flags byte.
    fn chars(&mut self, cch: usize, mut high: bool) -> Option<String> {
        let mut units: Vec<u16> = Vec::with_capacity(cch.min(4096));
        let mut bytes: Vec<u8> = Vec::new();
        let flush = |bytes: &mut Vec<u8>, units: &mut Vec<u16>| {
            units.extend(text::decode(bytes, Some("windows-1252")).encode_utf16());
            bytes.clear();
        };
        for _ in 0..cch {
            let seam = self.pos >= self.parts.get(self.part)?.len();
            if seam {
                if !self.at_seam() {
                    return None;
                }
                flush(&mut bytes, &mut units);
                high = self.byte()? & 1 != 0;
            }
            if high {
                units.push(self.u16()?);
            } else {
                bytes.push(self.byte()?);
            }
        }
        flush(&mut bytes, &mut units);
        Some(
            char::decode_utf16(units)
                .map(|r| r.unwrap_or('\u{fffd}'))
                .collect(),
        )
    }

    /// XLUnicodeRichExtendedString (the SST's strings).
    fn rich_string(&mut self) -> Option<String> {
        let cch = self.u16()? as usize;
        let flags = self.byte()?;
        let runs = if flags & 0x08 != 0 {
            self.u16()? as usize
        } else {
            0
        };
        let ext = if flags & 0x04 != 0 {
            self.u32()? as usize
        } else {
            0
        };
        let s = self.chars(cch, flags & 1 != 0)?;
        self.skip(4 * runs)?;
        self.skip(ext)?;
        Some(s)
    }
}

/// XLUnicodeString (LABEL, HEADER, FOOTER, STRING): 16-bit count.
fn unicode_string(data: &[u8]) -> Option<String> {
    let parts = [data];
    let mut c = Chunks::new(&parts);
    let cch = c.u16()? as usize;
    let flags = c.byte()?;
    c.chars(cch, flags & 1 != 0)
}

fn rk_value(rk: u32) -> f64 {
    let v = if rk & 2 != 0 {
        f64::from((rk as i32) >> 2)
    } else {
        f64::from_bits(u64::from(rk & 0xFFFF_FFFC) << 32)
    };
    if rk & 1 != 0 {
        v / 100.0
    } else {
        v
    }
}

fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

fn cell_ref(d: &[u8]) -> Option<(u16, u16)> {
    Some((
        u16::from_le_bytes([*d.first()?, *d.get(1)?]),
        u16::from_le_bytes([*d.get(2)?, *d.get(3)?]),
    ))
}

#[derive(Default)]
struct Sheet {
    name: String,
    cells: BTreeMap<(u16, u16), Cell>,
    header_footer: Vec<String>,
    comments: Vec<String>,
}

struct Cell {
    text: String,
    numeric: bool,
}

impl Sheet {
    fn set(&mut self, rc: Option<(u16, u16)>, text: String, numeric: bool) {
        if let Some(rc) = rc {
            self.cells.insert(rc, Cell { text, numeric });
        }
    }

    /// Rows as lines, cells separated by tabs; a 9-digit number under a
    /// CPR header gets back the leading zero Excel dropped, and a number
    /// split over two cells under a CPR header gets a line of its own.
    fn layout(&self) -> String {
        use super::split_cells::{Cell as RowCell, SplitCells};
        let mut cpr_cols: Vec<u16> = Vec::new();
        let mut out = String::new();
        let mut row = None;
        let (mut split, mut row_cells) = (SplitCells::default(), Vec::new());
        for (&(r, c), cell) in &self.cells {
            if row.is_some_and(|prev| prev != r) {
                out.push('\n');
                split.row(&row_cells);
                row_cells.clear();
            } else if row.is_some() {
                out.push('\t');
            }
            row = Some(r);
            row_cells.push(RowCell {
                column: c as usize,
                text: cell.text.trim().to_string(),
            });
            if !cell.numeric && super::split_cells::is_cpr_header(&cell.text) {
                cpr_cols.push(c);
            }
            let nine = cell.text.len() == 9 && cell.text.bytes().all(|b| b.is_ascii_digit());
            if cell.numeric && nine && cpr_cols.contains(&c) {
                out.push('0');
            }
            out.push_str(&cell.text);
        }
        split.row(&row_cells);
        for n in split.found() {
            out.push('\n');
            out.push_str(&n);
        }
        out
    }
}

pub fn read(ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, location: &str) {
    let path = if cf.is_stream("/Workbook") {
        "/Workbook"
    } else {
        "/Book"
    };
    let Some(stream) = ole::read_stream(ctx, cf, path, location) else {
        return;
    };
    let (recs, cut) = records(&stream);
    if cut {
        ctx.unscannable(
            location,
            Cause::Broken,
            "Excel record runs past the end of its stream",
        );
    }
    if recs.iter().any(|r| r.kind == FILEPASS) {
        return ctx.unscannable(
            location,
            Cause::Encrypted,
            "password-protected Excel workbook",
        );
    }
    // Sheet names by the stream offset of their BOF record.
    let mut names: BTreeMap<usize, String> = BTreeMap::new();
    let mut sst: Vec<String> = Vec::new();
    // Custom number formats by id, and each cell style's format id.
    let mut formats: BTreeMap<u16, DigitPattern> = BTreeMap::new();
    let mut xf_formats: Vec<u16> = Vec::new();
    for r in &recs {
        let u16_at = |d: &[u8], i: usize| d.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
        match r.kind {
            FORMAT => {
                let d = r.parts[0];
                let code = d.get(2..).and_then(unicode_string);
                if let (Some(id), Some(p)) =
                    (u16_at(d, 0), code.and_then(|c| DigitPattern::parse(&c)))
                {
                    formats.insert(id, p);
                }
            }
            XF => xf_formats.push(u16_at(r.parts[0], 2).unwrap_or(0)),
            BOUNDSHEET => {
                let d = r.parts[0];
                if d.len() >= 8 {
                    let pos = u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize;
                    let parts = [&d[6..]];
                    let mut c = Chunks::new(&parts);
                    let name = c
                        .byte()
                        .zip(c.byte())
                        .and_then(|(cch, flags)| c.chars(cch as usize, flags & 1 != 0));
                    names.insert(pos, name.unwrap_or_default());
                }
            }
            SST => {
                let mut c = Chunks::new(&r.parts);
                let unique = c.skip(4).and_then(|_| c.u32()).unwrap_or(0);
                for _ in 0..unique {
                    if ctx.expired(location) {
                        return;
                    }
                    match c.rich_string() {
                        Some(s) => sst.push(s),
                        None => break,
                    }
                }
            }
            _ => {}
        }
    }
    // A number as its cell style shows it (`ixfe` indexes the XF records).
    let shown = |ixfe: Option<u16>, v: f64| {
        let text = number_text(v);
        ixfe.and_then(|x| xf_formats.get(x as usize))
            .and_then(|f| formats.get(f))
            .and_then(|p| p.show(&text))
            .unwrap_or(text)
    };
    let ixfe_of = |d: &[u8]| d.get(4..6).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let mut sheets: Vec<Sheet> = Vec::new();
    let mut pending_formula: Option<(u16, u16)> = None;
    for r in &recs {
        if r.kind == BOF {
            if let Some(name) = names.get(&r.offset) {
                sheets.push(Sheet {
                    name: name.clone(),
                    ..Sheet::default()
                });
            }
            continue;
        }
        let Some(sheet) = sheets.last_mut() else {
            continue;
        };
        let d = r.parts[0];
        match r.kind {
            LABELSST => {
                let idx = d
                    .get(6..10)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                if let Some(s) = idx.and_then(|i| sst.get(i as usize)) {
                    sheet.set(cell_ref(d), s.clone(), false);
                }
            }
            LABEL => {
                if let Some(s) = d.get(6..).and_then(unicode_string) {
                    sheet.set(cell_ref(d), s, false);
                }
            }
            NUMBER => {
                if let Some(b) = d.get(6..14) {
                    let v = f64::from_le_bytes(b.try_into().unwrap_or_default());
                    sheet.set(cell_ref(d), shown(ixfe_of(d), v), true);
                }
            }
            RK => {
                if let Some(b) = d.get(6..10) {
                    let v = rk_value(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                    sheet.set(cell_ref(d), shown(ixfe_of(d), v), true);
                }
            }
            MULRK => {
                if let Some((row, first)) = cell_ref(d) {
                    for (k, rk) in d
                        .get(4..d.len().saturating_sub(2))
                        .unwrap_or_default()
                        .chunks_exact(6)
                        .enumerate()
                    {
                        let v = rk_value(u32::from_le_bytes([rk[2], rk[3], rk[4], rk[5]]));
                        let col = first.saturating_add(k as u16);
                        let ixfe = Some(u16::from_le_bytes([rk[0], rk[1]]));
                        sheet.set(Some((row, col)), shown(ixfe, v), true);
                    }
                }
            }
            FORMULA => {
                // A cached number, or a string in the STRING record next.
                if let Some(b) = d.get(6..14) {
                    if b[6..8] == [0xFF, 0xFF] {
                        pending_formula = cell_ref(d).filter(|_| b[0] == 0);
                    } else {
                        let v = f64::from_le_bytes(b.try_into().unwrap_or_default());
                        sheet.set(cell_ref(d), shown(ixfe_of(d), v), true);
                    }
                }
            }
            STRING => {
                if let (Some(rc), Some(s)) = (pending_formula.take(), unicode_string(d)) {
                    sheet.set(Some(rc), s, false);
                }
            }
            HEADER | FOOTER => {
                if let Some(s) = unicode_string(d) {
                    sheet.header_footer.push(s);
                }
            }
            TXO => {
                let cch = d
                    .get(10..12)
                    .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
                if r.parts.len() > 1 && cch > 0 {
                    let mut c = Chunks::new(&r.parts[1..]);
                    if let Some(flags) = c.byte() {
                        if let Some(s) = c.chars(cch as usize, flags & 1 != 0) {
                            sheet.comments.push(s);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let sheet_names: Vec<&str> = names.values().map(String::as_str).collect();
    ctx.push(
        SegmentKind::Attachment,
        format!("{location}:sheetnames"),
        sheet_names.join("\n"),
    );
    for sheet in &sheets {
        let loc = format!("{location}:sheet:{}", sheet.name);
        ctx.push(SegmentKind::Attachment, loc.clone(), sheet.layout());
        // Print headers and footers carry &-codes (&C centre, &P page).
        let hf: Vec<String> = sheet.header_footer.iter().map(|h| strip_codes(h)).collect();
        ctx.push(
            SegmentKind::Attachment,
            format!("{loc}:header"),
            hf.join("\n"),
        );
        ctx.push(
            SegmentKind::Attachment,
            format!("{loc}:comments"),
            sheet.comments.join("\n"),
        );
    }
}

/// `&L`, `&C`, `&R`, `&P`, `&"Arial,Bold"`, `&12` … out of a print header.
fn strip_codes(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut chars = h.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '&' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('&') => out.push('&'),
            Some('"') => {
                for d in chars.by_ref() {
                    if d == '"' {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
            Some('L' | 'C' | 'R') => out.push(' '),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_across_continue_seams() {
        // "24108" in 8-bit, a seam, then "5" in UTF-16 after a flags byte.
        let a: &[u8] = &[6, 0, 0, b'2', b'4', b'1', b'0', b'8'];
        let b: &[u8] = &[1, b'5', 0];
        let parts = [a, b];
        let mut c = Chunks::new(&parts);
        assert_eq!(c.rich_string().as_deref(), Some("241085"));
        assert_eq!(c.byte(), None);
        let cut: &[u8] = &[9, 0, 0, b'a'];
        let parts = [cut];
        assert_eq!(Chunks::new(&parts).rich_string(), None);
    }

    #[test]
    fn layout_joins_a_number_split_under_a_cpr_header() {
        let mut sheet = Sheet::default();
        sheet.set(Some((0, 0)), "CPR-nr.".into(), false);
        sheet.set(Some((1, 0)), "241085".into(), true);
        sheet.set(Some((1, 1)), "1337".into(), true);
        sheet.set(Some((2, 0)), "101650000".into(), true);
        assert_eq!(
            sheet.layout(),
            "CPR-nr.\n241085\t1337\n0101650000\n241085-1337"
        );
    }

    #[test]
    fn numbers_and_codes() {
        assert_eq!(number_text(rk_value((241085 << 2) | 2)), "241085");
        assert_eq!(number_text(rk_value((12345 << 2) | 3)), "123.45");
        assert_eq!(
            strip_codes("&L&\"Arial,Bold\"&12CPR &C290200-4001&R&P"),
            " CPR  290200-4001 "
        );
    }

    #[test]
    fn records_stop_at_a_cut_length() {
        let (recs, cut) = records(&[0x09, 0x08, 0xFF, 0x00, 1, 2]);
        assert!(recs.is_empty() && cut);
    }
}
