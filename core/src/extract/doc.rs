//! Word 97-2003 documents (`.doc`, MS-DOC): the text through the piece
//! table, story by story: the main text, footnotes, headers and footers,
//! comments, endnotes and text boxes, each with its own location.
//!
//! The FIB at the start of the `WordDocument` stream gives the length of
//! each story (in characters) and where the piece table (`Clx`) lies in the
//! table stream; each piece says where its characters are in
//! `WordDocument` and whether they are 8-bit (windows-1252) or UTF-16.

use super::compound::{self as ole, Ole};
use super::ground::{Cause, Ctx, SegmentKind};
use super::text;

/// Stories in the order they follow each other in the character stream,
/// with their index in the FIB's `fibRgLw` (ccpText, ccpFtn, ccpHdd, …).
const STORIES: &[(&str, usize)] = &[
    ("body", 3),
    ("footnotes", 4),
    ("headers", 5),
    ("macros", 6),
    ("comments", 7),
    ("endnotes", 8),
    ("textboxes", 9),
    ("header-textboxes", 10),
];
/// Index of `fcClx` in `fibRgFcLcb`.
const CLX_INDEX: usize = 33;

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// What the FIB says.
struct Fib {
    encrypted: bool,
    table: &'static str,
    story_lengths: Vec<u32>,
    clx: (usize, usize),
}

fn fib(wd: &[u8]) -> Result<Fib, String> {
    let cut = || "Word FIB is cut off".to_string();
    if u16_at(wd, 0) != Some(0xA5EC) {
        return Err("not a Word 97-2003 document (FIB signature)".into());
    }
    let flags = u16_at(wd, 0x0A).ok_or_else(cut)?;
    let csw = u16_at(wd, 32).ok_or_else(cut)? as usize;
    let lw_at = 34 + csw * 2;
    let cslw = u16_at(wd, lw_at).ok_or_else(cut)? as usize;
    let lw = lw_at + 2;
    let story_lengths = STORIES
        .iter()
        .map(|&(_, i)| {
            if i < cslw {
                u32_at(wd, lw + 4 * i).unwrap_or(0)
            } else {
                0
            }
        })
        .collect();
    let fc_at = lw + cslw * 4;
    let cb = u16_at(wd, fc_at).ok_or_else(cut)? as usize;
    if cb <= CLX_INDEX {
        return Err("Word FIB has no piece table (Word 6/95 format)".into());
    }
    let pair = fc_at + 2 + CLX_INDEX * 8;
    let fc = u32_at(wd, pair).ok_or_else(cut)? as usize;
    let lcb = u32_at(wd, pair + 4).ok_or_else(cut)? as usize;
    Ok(Fib {
        encrypted: flags & 0x0100 != 0,
        table: if flags & 0x0200 != 0 {
            "1Table"
        } else {
            "0Table"
        },
        story_lengths,
        clx: (fc, lcb),
    })
}

/// One piece: characters `[cp, cp_end)` at byte `fc` of `WordDocument`.
struct Piece {
    cp: u32,
    cp_end: u32,
    fc: usize,
    compressed: bool,
}

fn pieces(clx: &[u8]) -> Result<Vec<Piece>, String> {
    let mut i = 0;
    // Skip the Prc entries (formatting), find the Pcdt.
    loop {
        match clx.get(i) {
            Some(1) => {
                let n = u16_at(clx, i + 1).ok_or("Word piece table is cut off")? as usize;
                i += 3 + n;
            }
            Some(2) => break,
            _ => return Err("Word piece table is malformed".into()),
        }
    }
    let lcb = u32_at(clx, i + 1).ok_or("Word piece table is cut off")? as usize;
    let plc = clx
        .get(i + 5..i + 5 + lcb)
        .ok_or("Word piece table is cut off")?;
    // (n + 1) character positions, then n 8-byte descriptors.
    if plc.len() < 4 {
        return Err("Word piece table is empty".into());
    }
    let n = (plc.len() - 4) / 12;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let cp = u32_at(plc, 4 * k).unwrap_or(0);
        let cp_end = u32_at(plc, 4 * (k + 1)).unwrap_or(0);
        let raw = u32_at(plc, 4 * (n + 1) + 8 * k + 2).unwrap_or(0);
        let compressed = raw & 0x4000_0000 != 0;
        let fc = (raw & 0x3FFF_FFFF) as usize;
        out.push(Piece {
            cp,
            cp_end,
            fc: if compressed { fc / 2 } else { fc },
            compressed,
        });
    }
    Ok(out)
}

/// The characters of the whole document (all stories), as Word stores them,
/// at most `max` (pieces of a forged table may all point at the whole
/// stream).
fn characters(wd: &[u8], pieces: &[Piece], max: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for p in pieces {
        if out.len() >= max {
            break;
        }
        let n = (p.cp_end.saturating_sub(p.cp) as usize).min(max - out.len());
        if p.compressed {
            let bytes = wd.get(p.fc..).unwrap_or_default();
            let bytes = &bytes[..n.min(bytes.len())];
            // windows-1252 through the shared decoder, back to UTF-16.
            out.extend(text::decode(bytes, Some("windows-1252")).encode_utf16());
        } else {
            let bytes = wd.get(p.fc..).unwrap_or_default();
            let bytes = &bytes[..(2 * n).min(bytes.len() & !1)];
            out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]])),
            );
        }
    }
    out
}

/// Word's control characters to what a reader sees; field instructions
/// (between 0x13 and 0x14) are dropped, their results kept.
fn visible(chars: &[u16]) -> String {
    let mut out = Vec::with_capacity(chars.len());
    let mut field_code_depth = 0usize;
    // Per open field: still in its instruction part?
    let mut fields: Vec<bool> = Vec::new();
    for &c in chars {
        match c {
            0x13 => {
                fields.push(true);
                field_code_depth += 1;
            }
            0x14 => {
                if fields.last() == Some(&true) {
                    field_code_depth -= 1;
                    if let Some(f) = fields.last_mut() {
                        *f = false;
                    }
                }
            }
            0x15 => {
                if fields.pop() == Some(true) {
                    field_code_depth -= 1;
                }
            }
            _ if field_code_depth > 0 => {}
            0x0B..=0x0E => out.push(u16::from(b'\n')),
            0x07 => out.push(u16::from(b'\t')),
            0x1E => out.push(u16::from(b'-')),
            0x1F | 0x01 | 0x02 | 0x08 | 0x05 | 0x00 => {}
            _ => out.push(c),
        }
    }
    char::decode_utf16(out)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .collect()
}

pub fn read(ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, location: &str) {
    let Some(wd) = ole::read_stream(ctx, cf, "/WordDocument", location) else {
        return;
    };
    let fib = match fib(&wd) {
        Ok(f) => f,
        Err(e) => return ctx.unscannable(location, Cause::Broken, e),
    };
    if fib.encrypted {
        return ctx.unscannable(
            location,
            Cause::Encrypted,
            "password-protected Word document",
        );
    }
    let Some(table) = ole::read_stream(ctx, cf, &format!("/{}", fib.table), location) else {
        return;
    };
    let (fc, lcb) = fib.clx;
    let Some(clx) = fc.checked_add(lcb).and_then(|end| table.get(fc..end)) else {
        return ctx.unscannable(
            location,
            Cause::Broken,
            "Word piece table lies outside the table stream",
        );
    };
    let pieces = match pieces(clx) {
        Ok(p) => p,
        Err(e) => return ctx.unscannable(location, Cause::Broken, e),
    };
    let counted: usize = fib.story_lengths.iter().map(|&n| n as usize).sum();
    let max = counted
        .max(1)
        .min(usize::try_from(ctx.budget_left() / 2).unwrap_or(usize::MAX));
    let chars = characters(&wd, &pieces, max);
    ctx.charge(2 * chars.len() as u64);
    let mut at = 0usize;
    for (&(story, _), &len) in STORIES.iter().zip(&fib.story_lengths) {
        let end = at.saturating_add(len as usize).min(chars.len());
        if story != "macros" {
            ctx.push(
                SegmentKind::Attachment,
                format!("{location}:{story}"),
                visible(&chars[at..end]),
            );
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_control_characters() {
        let s: Vec<u16> = "a\u{13} HYPERLINK \"x\" \u{14}241085\u{1e}1337\u{15}\rb\u{7}c"
            .encode_utf16()
            .collect();
        assert_eq!(visible(&s), "a241085-1337\nb\tc");
        assert_eq!(visible(&[0x15, 0x14, 0x13]), "");
    }

    #[test]
    fn broken_fib_and_piece_tables() {
        assert!(fib(&[0xEC, 0xA5]).is_err());
        assert!(fib(b"not word").is_err());
        assert!(pieces(&[]).is_err());
        assert!(pieces(&[1, 0xFF, 0xFF]).is_err());
        assert!(pieces(&[2, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(pieces(&[2, 0, 0, 0, 0]).is_err());
    }
}
