//! PowerPoint 97-2003 presentations (`.ppt`, MS-PPT): the text atoms of the
//! `PowerPoint Document` stream (slide text, notes, outline; UTF-16 and
//! 8-bit), found by walking its record tree.

use super::compound::{self as ole, Ole};
use super::ground::{Cause, Ctx, SegmentKind};
use super::text;

const TEXT_CHARS_ATOM: u16 = 0x0FA0;
const TEXT_BYTES_ATOM: u16 = 0x0FA8;
const CSTRING: u16 = 0x0FBA;
const CRYPT_SESSION: u16 = 0x2F14;

/// Names PowerPoint gives its own layouts and masters: not the author's text.
const BUILT_IN: &[&str] = &["Office Theme", "Default Design", "Standard"];

/// Every text atom of a record stream, in order. Containers (version 0xF)
/// are entered; atoms are skipped by their length, so a length past the
/// end stops the walk instead of reading beyond it.
fn texts(stream: &[u8], encrypted: &mut bool) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut i = 0;
    let mut cut = false;
    while i + 8 <= stream.len() {
        let ver_inst = u16::from_le_bytes([stream[i], stream[i + 1]]);
        let kind = u16::from_le_bytes([stream[i + 2], stream[i + 3]]);
        let len = u32::from_le_bytes([stream[i + 4], stream[i + 5], stream[i + 6], stream[i + 7]])
            as usize;
        i += 8;
        if kind == CRYPT_SESSION {
            *encrypted = true;
        }
        if ver_inst & 0xF == 0xF {
            // A container: its children follow directly.
            continue;
        }
        let Some(body) = i.checked_add(len).and_then(|end| stream.get(i..end)) else {
            cut = true;
            break;
        };
        i += len;
        let t = match kind {
            TEXT_CHARS_ATOM | CSTRING => ole::utf16le(body),
            TEXT_BYTES_ATOM => text::decode(body, Some("windows-1252")),
            _ => continue,
        };
        if !BUILT_IN.contains(&t.trim()) {
            // PowerPoint ends paragraphs with a carriage return.
            out.push(t.replace(['\r', '\u{b}'], "\n"));
        }
    }
    (out, cut)
}

pub fn read(ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, location: &str) {
    let Some(stream) = ole::read_stream(ctx, cf, "/PowerPoint Document", location) else {
        return;
    };
    let mut encrypted = false;
    let (texts, cut) = texts(&stream, &mut encrypted);
    if encrypted {
        return ctx.unscannable(
            location,
            Cause::Encrypted,
            "password-protected PowerPoint presentation",
        );
    }
    if cut {
        ctx.unscannable(
            location,
            Cause::Broken,
            "PowerPoint record runs past the end of its stream",
        );
    }
    ctx.push(
        SegmentKind::Attachment,
        format!("{location}:slides"),
        texts.join("\n"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ver: u16, kind: u16, body: &[u8]) -> Vec<u8> {
        let mut r = ver.to_le_bytes().to_vec();
        r.extend(kind.to_le_bytes());
        r.extend((body.len() as u32).to_le_bytes());
        r.extend(body);
        r
    }

    #[test]
    fn atoms_inside_containers() {
        let chars: Vec<u8> = "CPR 241085-1337\r"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut inner = record(0, TEXT_CHARS_ATOM, &chars);
        inner.extend(record(0, TEXT_BYTES_ATOM, b"S\xf8ren"));
        inner.extend(record(0, 0x0FF5, &[0; 4]));
        let mut stream = record(0xF, 0x03E8, &[]);
        stream.truncate(4);
        stream.extend((inner.len() as u32).to_le_bytes());
        stream.extend(inner);
        let mut enc = false;
        let (t, cut) = texts(&stream, &mut enc);
        assert_eq!(t, vec!["CPR 241085-1337\n", "Søren"]);
        assert!(!cut && !enc);
        let mut broken = record(0, TEXT_BYTES_ATOM, b"abc");
        broken[4] = 0xFF;
        assert!(texts(&broken, &mut enc).1);
    }
}
