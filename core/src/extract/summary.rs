//! Document properties of OLE files (`\u{5}SummaryInformation`, MS-OLEPS):
//! title, subject, author, keywords and comments, which Word, Excel and
//! PowerPoint show in the file's properties and often fill from the text.

use super::compound::{self, Ole};
use super::ground::{Ctx, SegmentKind};
use super::text;

const STREAM: &str = "/\u{5}SummaryInformation";
/// Title, subject, author, keywords, comments, last saved by.
const SHOWN: &[u32] = &[2, 3, 4, 5, 6, 8];
const VT_LPSTR: u32 = 0x1E;
const VT_LPWSTR: u32 = 0x1F;

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(o..o.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The shown string properties of the first property set.
fn strings(stream: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    // Header 28 bytes, then (FMTID, offset) of the first set.
    let Some(section) = u32_at(stream, 44).map(|o| o as usize) else {
        return out;
    };
    let count = u32_at(stream, section + 4).unwrap_or(0).min(1024) as usize;
    for k in 0..count {
        let entry = section + 8 + 8 * k;
        let (Some(id), Some(offset)) = (u32_at(stream, entry), u32_at(stream, entry + 4)) else {
            break;
        };
        if !SHOWN.contains(&id) {
            continue;
        }
        let at = section + offset as usize;
        let (Some(kind), Some(len)) = (u32_at(stream, at), u32_at(stream, at + 4)) else {
            continue;
        };
        let value = match kind & 0xFFFF {
            VT_LPSTR => stream
                .get(at + 8..)
                .map(|b| &b[..(len as usize).min(b.len())])
                .map(|b| text::decode(b, None)),
            VT_LPWSTR => stream
                .get(at + 8..)
                .map(|b| &b[..(2 * len as usize).min(b.len())])
                .map(compound::utf16le),
            _ => None,
        };
        if let Some(v) = value {
            out.push(v.trim_end_matches('\0').to_string());
        }
    }
    out
}

/// Pushes the document properties of `cf`, if it has them.
pub fn read(ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, location: &str) {
    if !cf.is_stream(STREAM) {
        return;
    }
    if let Some(stream) = compound::read_stream(ctx, cf, STREAM, location) {
        ctx.push(
            SegmentKind::Attachment,
            format!("{location}:properties"),
            strings(&stream).join("\n"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_author() {
        let mut s = vec![0u8; 48];
        s[44..48].copy_from_slice(&48u32.to_le_bytes());
        let mut sec = Vec::new();
        sec.extend(0u32.to_le_bytes());
        sec.extend(2u32.to_le_bytes());
        sec.extend([2, 0, 0, 0, 24, 0, 0, 0]);
        sec.extend([4, 0, 0, 0, 40, 0, 0, 0]);
        sec.extend(VT_LPSTR.to_le_bytes());
        sec.extend(8u32.to_le_bytes());
        sec.extend(b"CPR sag\0");
        sec.extend(VT_LPWSTR.to_le_bytes());
        sec.extend(3u32.to_le_bytes());
        sec.extend([b'J', 0, b'H', 0, 0, 0, 0, 0]);
        s.extend(sec);
        assert_eq!(strings(&s), vec!["CPR sag", "JH"]);
        assert!(strings(&s[..50]).is_empty());
        assert!(strings(&[]).is_empty());
    }
}
