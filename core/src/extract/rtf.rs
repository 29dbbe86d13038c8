//! RTF to the text a reader sees, and Outlook's compressed RTF (MS-OXRTFCP,
//! "LZFu"): the only body many Outlook items and Exchange `winmail.dat`
//! files carry.
//!
//! Control words are dropped except those that stand for text (paragraph,
//! tab, cell, dashes, `\'hh` and `\uN` characters); destinations that hold
//! no visible text (font and colour tables, pictures, embedded objects,
//! `\*` groups such as Outlook's encapsulated HTML tags) are skipped.

use super::ground::{Cause, Ctx, SegmentKind};

/// The dictionary's initial content (MS-OXRTFCP 2.1.2.1).
const PREBUF: &[u8] = b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

const LZFU: u32 = 0x7546_5A4C;
const MELA: u32 = 0x414C_454D;

/// An RTF file.
pub fn is_rtf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"{\\rtf")
}

/// Decompresses compressed RTF, producing at most `max_out` bytes.
pub fn decompress(data: &[u8], max_out: usize) -> Result<Vec<u8>, String> {
    let u32_at = |i: usize| {
        data.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (Some(comp_size), Some(raw_size), Some(kind)) = (u32_at(0), u32_at(4), u32_at(8)) else {
        return Err("compressed RTF header is cut off".into());
    };
    let body_end = (comp_size as usize).saturating_add(4).min(data.len());
    let body = data.get(16..body_end).unwrap_or_default();
    let cap = (raw_size as usize).min(max_out);
    match kind {
        MELA => Ok(body[..body.len().min(cap)].to_vec()),
        LZFU => {
            let mut dict = [0u8; 4096];
            dict[..PREBUF.len()].copy_from_slice(PREBUF);
            let mut wp = PREBUF.len();
            let mut out = Vec::with_capacity(cap.min(1 << 20));
            let mut i = 0;
            while i < body.len() && out.len() < cap {
                let control = body[i];
                i += 1;
                for bit in 0..8 {
                    if out.len() >= cap || i >= body.len() {
                        break;
                    }
                    if control & (1 << bit) == 0 {
                        let b = body[i];
                        i += 1;
                        out.push(b);
                        dict[wp] = b;
                        wp = (wp + 1) % 4096;
                        continue;
                    }
                    let Some(pair) = body.get(i..i + 2) else {
                        return Ok(out);
                    };
                    i += 2;
                    let word = u16::from_be_bytes([pair[0], pair[1]]) as usize;
                    let (offset, len) = (word >> 4, (word & 0xF) + 2);
                    if offset == wp {
                        return Ok(out);
                    }
                    for k in 0..len {
                        let b = dict[(offset + k) % 4096];
                        out.push(b);
                        dict[wp] = b;
                        wp = (wp + 1) % 4096;
                    }
                }
            }
            Ok(out)
        }
        other => Err(format!("unknown compressed RTF type {other:#010x}")),
    }
}

/// Destinations whose content is not shown as text.
const HIDDEN: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "pict",
    "object",
    "objdata",
    "datastore",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "rsidtbl",
    "generator",
    "xmlnstbl",
    "mmathPr",
    "filetbl",
    "revtbl",
    "bkmkstart",
    "bkmkend",
];

/// RTF markup to text. `\'hh` bytes are read as windows-1252.
pub fn to_text(rtf: &[u8]) -> String {
    let mut out = String::with_capacity(rtf.len() / 2);
    // Per group: hidden, and the \ucN fallback count.
    let mut stack: Vec<(bool, usize)> = vec![(false, 1)];
    let mut pending_bytes: Vec<u8> = Vec::new();
    let mut skip_fallback = 0usize;
    let mut i = 0;
    let flush = |bytes: &mut Vec<u8>, out: &mut String| {
        if !bytes.is_empty() {
            out.push_str(&super::text::decode(bytes, Some("windows-1252")));
            bytes.clear();
        }
    };
    while i < rtf.len() {
        let hidden = stack.last().is_some_and(|g| g.0);
        let c = rtf[i];
        match c {
            b'{' => {
                let uc = stack.last().map_or(1, |g| g.1);
                stack.push((hidden, uc));
                i += 1;
                // `{\*\dest …}`: an optional destination, never text.
                if rtf.get(i..i + 2) == Some(b"\\*") {
                    if let Some(g) = stack.last_mut() {
                        g.0 = true;
                    }
                }
            }
            b'}' => {
                flush(&mut pending_bytes, &mut out);
                if stack.len() > 1 {
                    stack.pop();
                }
                i += 1;
            }
            b'\\' => {
                let next = rtf.get(i + 1).copied();
                match next {
                    Some(b'\'') => {
                        let hex = rtf.get(i + 2..i + 4).and_then(|h| {
                            u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
                        });
                        i += 4;
                        if let Some(b) = hex {
                            if skip_fallback > 0 {
                                skip_fallback -= 1;
                            } else if !hidden {
                                pending_bytes.push(b);
                            }
                        }
                    }
                    Some(n) if n.is_ascii_alphabetic() => {
                        let start = i + 1;
                        let mut j = start;
                        while j < rtf.len() && rtf[j].is_ascii_alphabetic() {
                            j += 1;
                        }
                        let word = std::str::from_utf8(&rtf[start..j]).unwrap_or("");
                        let num_start = j;
                        if j < rtf.len() && rtf[j] == b'-' {
                            j += 1;
                        }
                        while j < rtf.len() && rtf[j].is_ascii_digit() {
                            j += 1;
                        }
                        let param: Option<i64> = std::str::from_utf8(&rtf[num_start..j])
                            .ok()
                            .and_then(|s| s.parse().ok());
                        if rtf.get(j) == Some(&b' ') {
                            j += 1;
                        }
                        i = j;
                        flush(&mut pending_bytes, &mut out);
                        if HIDDEN.contains(&word) {
                            if let Some(g) = stack.last_mut() {
                                g.0 = true;
                            }
                            continue;
                        }
                        if word == "uc" {
                            if let Some(g) = stack.last_mut() {
                                g.1 = param.unwrap_or(1).clamp(0, 10) as usize;
                            }
                            continue;
                        }
                        if hidden {
                            continue;
                        }
                        match word {
                            "par" | "line" | "row" | "sect" | "page" => out.push('\n'),
                            "tab" | "cell" => out.push('\t'),
                            "emdash" | "endash" => out.push('-'),
                            "emspace" | "enspace" | "qmspace" => out.push(' '),
                            "lquote" | "rquote" => out.push('\''),
                            "ldblquote" | "rdblquote" => out.push('"'),
                            "u" => {
                                if let Some(p) = param {
                                    let code = if p < 0 { p + 65536 } else { p };
                                    if let Some(ch) =
                                        u32::try_from(code).ok().and_then(char::from_u32)
                                    {
                                        out.push(ch);
                                    }
                                    skip_fallback = stack.last().map_or(1, |g| g.1);
                                }
                            }
                            _ => {}
                        }
                    }
                    Some(sym) => {
                        i += 2;
                        if hidden {
                            continue;
                        }
                        flush(&mut pending_bytes, &mut out);
                        match sym {
                            b'~' => out.push('\u{a0}'),
                            b'_' => out.push('-'),
                            b'\\' | b'{' | b'}' => out.push(sym as char),
                            b'\n' | b'\r' => out.push('\n'),
                            _ => {}
                        }
                    }
                    None => i += 1,
                }
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                i += 1;
                if skip_fallback > 0 {
                    skip_fallback -= 1;
                    continue;
                }
                if !hidden {
                    pending_bytes.push(c);
                }
            }
        }
    }
    flush(&mut pending_bytes, &mut out);
    out
}

/// Decompresses an Outlook compressed-RTF body and pushes its text.
pub fn push_compressed(ctx: &mut Ctx<'_>, data: &[u8], location: &str) {
    let max = usize::try_from(ctx.budget_left()).unwrap_or(usize::MAX);
    match decompress(data, max) {
        Ok(raw) => {
            ctx.charge(raw.len() as u64);
            ctx.push(SegmentKind::Attachment, location.to_string(), to_text(&raw));
        }
        Err(e) => ctx.unscannable(location, Cause::Broken, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_prefix_is_the_specified_one() {
        assert_eq!(PREBUF.len(), 207);
    }

    #[test]
    fn the_specification_example_decompresses() {
        // MS-OXRTFCP 3.1.1: "{\rtf1\ansi\ansicpg1252\pard hello world}\r\n"
        let data = [
            0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5,
            0xc7, 0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42,
            0x32, 0x0a, 0xf3, 0x20, 0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0,
            0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f, 0xa0,
        ];
        let out = decompress(&data, 1 << 20).unwrap();
        assert_eq!(out, b"{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
        assert!(decompress(&data[..10], 100).is_err());
        assert!(
            decompress(&data[..30], 100).is_ok(),
            "cut data gives what it has"
        );
    }

    #[test]
    fn text_of_rtf() {
        let rtf = br"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\*\generator x 111111-1111;}\pard S\'f8ren CPR 241085\endash 1337\par\u8211?x{\*\htmltag84 <td>}\tab y}";
        assert_eq!(to_text(rtf), "Søren CPR 241085-1337\n\u{2013}x\ty");
        assert_eq!(to_text(b"{\\"), "");
        assert_eq!(to_text(b"}}}{{{\\'zz\\u-"), "");
    }
}
