//! One attached file (or archive entry) to text: picks the extractor by
//! format and runs it behind `catch_unwind`, so a panicking parser costs an
//! `unscannable` entry, never the process.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::sniff::{self, Format};
use super::{html, ical, ole, pdf, rtf, text, tnef, uuencode, zip, Ctx, SegmentKind};

/// A file to extract.
pub struct File<'a> {
    pub bytes: &'a [u8],
    /// File name (or archive entry path), used for sniffing.
    pub name: &'a str,
    /// Declared content type, lower case ("" inside archives).
    pub ctype: &'a str,
    pub charset: Option<&'a str>,
}

/// Extracts `file` into segments labelled `location` (`attachment:x.docx`,
/// `attachment:a.zip:b/c.csv` …). `depth` counts containers around it.
pub fn scan(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    if ctx.expired(location) || !ctx.depth_ok(depth, location) {
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| dispatch(ctx, file, location, depth)));
    if result.is_err() {
        ctx.unscannable(location, "extractor failed on malformed content");
    }
}

fn dispatch(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    if tnef::is_tnef(file.bytes) {
        return tnef::scan(ctx, file.bytes, location, depth);
    }
    match sniff::detect(file.bytes, file.name, file.ctype) {
        Format::Zip => zip::scan_container(ctx, file, location, depth),
        Format::Pdf => pdf::scan(ctx, file.bytes, location),
        Format::Ole => {
            if !ole::scan(ctx, file, location, depth) {
                scan_ole(ctx, file, location);
            }
        }
        Format::Mail => super::walk_raw_message(file.bytes, &format!("{location}/"), depth, ctx),
        Format::Html => {
            let t = html::html_to_text(&text::decode(file.bytes, file.charset));
            ctx.push(SegmentKind::Attachment, location.to_string(), t);
        }
        Format::Text => {
            let mut t = if file.bytes.starts_with(b"{\\rtf") {
                rtf::to_text(file.bytes)
            } else {
                text::decode(file.bytes, file.charset)
            };
            if ical::is_calendar(file.ctype, file.name) {
                t = ical::unfold(&t);
            }
            if uuencode::may_contain(&t) {
                scan_uuencoded(ctx, &t, location, depth + 1);
            }
            ctx.push(SegmentKind::Attachment, location.to_string(), t);
        }
        Format::Opaque => {}
    }
}

/// OLE compound files: an encrypted OOXML document (password-protected
/// Word/Excel/PowerPoint) or a legacy binary Office file. Neither is parsed;
/// both are reported so the policy sees them.
fn scan_ole(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str) {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    if sniff::find(file.bytes, &utf16("EncryptionInfo")).is_some() {
        ctx.unscannable(location, "password-protected Office document");
        return;
    }
    let ext = sniff::extension(file.name);
    if matches!(ext.as_str(), "doc" | "xls" | "ppt" | "dot" | "xlt" | "pps")
        || file.ctype.contains("ms")
    {
        ctx.unscannable(location, "legacy binary Office format is not extracted");
    }
}

/// The uuencoded files in a text (`location` is the text's), each read as
/// an attachment of its own: `{location}/uuencoded:{name}`. Their names are
/// shown like attachment names.
pub fn scan_uuencoded(ctx: &mut Ctx<'_>, text: &str, location: &str, depth: usize) {
    for block in uuencode::blocks(text, ctx.budget_left()) {
        ctx.inflated += block.bytes.len() as u64;
        let loc = format!("{location}/uuencoded:{}", block.name);
        if !ctx.count_entry(&loc) {
            return;
        }
        ctx.push(
            SegmentKind::Header,
            format!("filename:{}", block.name),
            block.name.clone(),
        );
        if block.truncated {
            ctx.unscannable(
                &loc,
                "uuencoded block is cut off or malformed; read up to there",
            );
        }
        let file = File {
            bytes: &block.bytes,
            name: &block.name,
            ctype: "",
            charset: None,
        };
        scan(ctx, &file, &loc, depth);
    }
}
