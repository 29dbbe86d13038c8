//! A text file (attachment, ZIP entry): its bytes to a string.
//!
//! A declared charset wins when mail-parser knows it; otherwise a BOM, then
//! UTF-8 when the bytes are valid UTF-8, then windows-1252 (a superset of
//! ISO-8859-1 for printable text, the usual charset of Danish Office exports).

use mail_parser::decoders::charsets::map::charset_decoder;

use super::ground::{Ctx, File, SegmentKind};

/// A text file: one attachment segment.
pub(crate) fn read(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str) {
    let text = decode(file.bytes, file.charset);
    ctx.push(SegmentKind::Attachment, location.to_string(), text);
}

pub fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    if let Some(decoder) = charset.and_then(|c| charset_decoder(c.as_bytes())) {
        return decoder(bytes);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => match charset_decoder(b"windows-1252") {
            Some(decoder) => decoder(bytes),
            None => String::from_utf8_lossy(bytes).into_owned(),
        },
    }
}

fn utf16(bytes: &[u8], f: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| f([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets() {
        assert_eq!(
            decode(b"S\xf8ren 241085\x961337", None),
            "Søren 241085\u{2013}1337"
        );
        assert_eq!(decode(b"S\xf8ren", Some("iso-8859-1")), "Søren");
        assert_eq!(decode(b"\xa4", Some("iso-8859-15")), "€");
        assert_eq!(decode("Søren".as_bytes(), None), "Søren");
        assert_eq!(decode(b"\xff\xfe2\x004\x00", None), "24");
    }
}
