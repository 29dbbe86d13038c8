//! OLE compound files (CFB) opened once under the limits, and handed to the
//! reader of the format their streams say: an Outlook item (`.msg`), a Word
//! 97-2003 document, an Excel workbook or a PowerPoint presentation. Every
//! stream read counts against the inflated-bytes budget and the deadline;
//! a broken file (truncated, sector loops, sizes past the file) is an
//! `unscannable` entry with the parser's reason.

use std::io::{Cursor, Read};

use cfb::CompoundFile;

use super::ground::{Cause, Ctx, File};
use super::{doc, msg, ppt, summary, xls};

pub type Ole<'b> = CompoundFile<Cursor<&'b [u8]>>;

/// Reads `file` if it is one of the OLE formats with a reader; false when
/// it is another kind of compound file (an encrypted OOXML document …), for
/// the caller to report.
pub fn read(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) -> bool {
    // An encrypted OOXML document is the other reader's to report.
    let encryption_info: Vec<u8> = "EncryptionInfo"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    if memchr::memmem::find(file.bytes, &encryption_info).is_some() {
        return false;
    }
    // Strict first: a file that breaks the specification (a FAT loop, a
    // stream longer than its chain, a cut-off sector) is reported, and what
    // the lenient reading still finds in it is read all the same.
    let mut cf = match cfb::OpenOptions::new()
        .strict()
        .open_with(Cursor::new(file.bytes))
    {
        Ok(cf) => cf,
        Err(strict) => match CompoundFile::open(Cursor::new(file.bytes)) {
            Ok(cf) => {
                // Red-black colouring of the directory tree is wrong in
                // files LibreOffice writes, and harmless to reading.
                if !strict.to_string().contains("RB tree") {
                    ctx.unscannable(
                        location,
                        Cause::Broken,
                        format!("damaged OLE compound file ({strict}); read what is left"),
                    );
                }
                cf
            }
            Err(e) => {
                ctx.unscannable(
                    location,
                    Cause::Broken,
                    format!("broken OLE compound file: {e}"),
                );
                return true;
            }
        },
    };
    let has = |cf: &Ole<'_>, name: &str| cf.is_stream(format!("/{name}"));
    if has(&cf, "__properties_version1.0") {
        msg::read(ctx, &mut cf, "/", location, depth);
        return true;
    } else if has(&cf, "WordDocument") {
        doc::read(ctx, &mut cf, location);
    } else if has(&cf, "Workbook") || has(&cf, "Book") {
        xls::read(ctx, &mut cf, location);
    } else if has(&cf, "PowerPoint Document") {
        ppt::read(ctx, &mut cf, location);
    } else {
        return false;
    }
    summary::read(ctx, &mut cf, location);
    true
}

/// The entries of a storage: (name, full path, is a stream).
pub fn entries(cf: &Ole<'_>, storage: &str) -> Vec<(String, String, bool)> {
    match cf.read_storage(storage) {
        Ok(it) => it
            .map(|e| {
                (
                    e.name().to_string(),
                    e.path().to_string_lossy().into_owned(),
                    e.is_stream(),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// One whole stream, or `None` with the reason recorded.
pub fn read_stream(
    ctx: &mut Ctx<'_>,
    cf: &mut Ole<'_>,
    path: &str,
    location: &str,
) -> Option<Vec<u8>> {
    if ctx.expired(location) {
        return None;
    }
    let mut stream = match cf.open_stream(path) {
        Ok(s) => s,
        Err(e) => {
            ctx.unscannable(
                location,
                Cause::Broken,
                format!("unreadable OLE stream {path}: {e}"),
            );
            return None;
        }
    };
    let len = stream.len();
    let left = ctx.budget_left();
    if len > left {
        ctx.unscannable(
            location,
            Cause::Limit,
            format!(
                "OLE stream {path} declares {len} bytes, more than the {left} bytes left to read"
            ),
        );
        return None;
    }
    let mut buf = Vec::new();
    let read = (&mut stream).take(len).read_to_end(&mut buf);
    ctx.charge(buf.len() as u64);
    if let Err(e) = read {
        ctx.unscannable(
            location,
            Cause::Broken,
            format!("OLE stream {path} is cut off: {e}"),
        );
        return None;
    }
    if (buf.len() as u64) < len {
        ctx.unscannable(
            location,
            Cause::Broken,
            format!("OLE stream {path} is cut off: {} of {len} bytes", buf.len()),
        );
    }
    Some(buf)
}

/// UTF-16LE to a string (a trailing odd byte and NULs dropped).
pub fn utf16le(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .filter(|&c| c != '\0')
        .collect()
}
