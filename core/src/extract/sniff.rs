//! Which reader a file goes to: magic bytes first, then the file name,
//! then the declared content type (senders and clients get it wrong often).

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A ZIP container: plain archive, OOXML or ODF (told apart by its entries).
    Zip,
    Pdf,
    /// An OLE compound file: legacy Office, or an encrypted OOXML document.
    Ole,
    /// A whole mail (.eml, message/rfc822 sent as a file).
    Mail,
    Html,
    Text,
    /// Images, audio, executables, unknown binaries: nothing to read.
    Opaque,
}

const TEXT_EXT: &[&str] = &[
    "txt", "csv", "tsv", "log", "xml", "json", "md", "ini", "sql", "vcf", "ics", "rtf", "tab",
];
const HTML_EXT: &[&str] = &["html", "htm", "xhtml"];
const OPAQUE_MAGIC: &[&[u8]] = &[
    b"\x89PNG",
    b"\xFF\xD8\xFF",
    b"GIF8",
    b"II*\0",
    b"MM\0*",
    b"RIFF",
    b"ID3",
    b"\x1F\x8B",
    b"7z\xBC\xAF",
    b"Rar!",
    b"MZ",
    b"\x7FELF",
    b"OggS",
    b"fLaC",
    b"\0\0\0",
    b"\x30\x82",
    b"\x30\x80",
];

pub fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

pub fn format_of(bytes: &[u8], name: &str, ctype: &str) -> Format {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if bytes.len() >= 5 && position_of(&bytes[..bytes.len().min(1024)], b"%PDF-").is_some() {
        return Format::Pdf;
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Format::Ole;
    }
    if OPAQUE_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return Format::Opaque;
    }
    let ext = extension(name);
    let ctype = ctype.to_ascii_lowercase();
    if ext == "eml" || ctype == "message/rfc822" {
        return Format::Mail;
    }
    if !looks_like_text(bytes) {
        return Format::Opaque;
    }
    if HTML_EXT.contains(&ext.as_str()) || ctype == "text/html" || starts_like_html(bytes) {
        return Format::Html;
    }
    if looks_like_mail(bytes) {
        return Format::Mail;
    }
    if TEXT_EXT.contains(&ext.as_str()) || ctype.starts_with("text/") {
        return Format::Text;
    }
    // Unknown name and type but textual content: read it as text.
    Format::Text
}

fn starts_like_html(bytes: &[u8]) -> bool {
    let head: Vec<u8> = bytes
        .iter()
        .take(512)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let head = head.trim_ascii_start();
    head.starts_with(b"<!doctype html") || head.starts_with(b"<html")
}

/// Starts with RFC 5322 header lines of a mail.
fn looks_like_mail(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(2048)];
    let mut lines = head
        .split(|&b| b == b'\n')
        .take(6)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    let first = first.to_ascii_lowercase();
    const NAMES: &[&[u8]] = &[
        b"from:",
        b"received:",
        b"return-path:",
        b"mime-version:",
        b"date:",
        b"subject:",
        b"to:",
        b"message-id:",
        b"delivered-to:",
        b"x-",
        b"from ",
    ];
    if !NAMES.iter().any(|n| first.starts_with(n)) {
        return false;
    }
    head.windows(5).any(|w| w.eq_ignore_ascii_case(b"from:"))
        || head.windows(8).any(|w| w.eq_ignore_ascii_case(b"subject:"))
}

/// Heuristic: the first 8 KiB hold no NUL and mostly printable characters.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.is_empty() {
        return false;
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    control * 100 < head.len()
}

/// Where `needle` first occurs in `hay`.
pub fn position_of(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_name_and_type() {
        assert_eq!(
            format_of(b"PK\x03\x04rest", "x.txt", "text/plain"),
            Format::Zip
        );
        assert_eq!(
            format_of(b"%PDF-1.4\n", "x.bin", "application/octet-stream"),
            Format::Pdf
        );
        assert_eq!(
            format_of(b"\x89PNG\r\n", "x.csv", "text/csv"),
            Format::Opaque
        );
    }

    #[test]
    fn name_and_content() {
        assert_eq!(
            format_of(b"a;b\n1;2\n", "x.csv", "application/octet-stream"),
            Format::Text
        );
        assert_eq!(
            format_of(b"<html><body>x", "x", "application/octet-stream"),
            Format::Html
        );
        assert_eq!(
            format_of(
                b"From: a@b.dk\nSubject: x\n\nhi",
                "fwd",
                "application/octet-stream"
            ),
            Format::Mail
        );
        assert_eq!(format_of(b"Subject: x\n\nhi", "fwd.eml", ""), Format::Mail);
    }

    #[test]
    fn text_sniffing() {
        assert!(looks_like_text(b"navn;cpr\r\nJens;241085-1337\r\n"));
        assert!(!looks_like_text(b"\x89PNG\r\n\x1a\n\0\0\0"));
    }
}
