//! The dispatcher: a file to text. One match on the sniffed format picks the
//! reader; ZIP-based files are told apart by their entries.
//!
//! [`embedded`] is the one entry through which extraction recurses: the MIME
//! walker hands it attachments and nested messages, containers (archives,
//! Office documents) hand it the files they hold. It checks the nesting
//! depth and the deadline once for all of them, and runs the reader behind
//! `catch_unwind`, so a panicking parser costs an `unscannable` entry, never
//! the process.

use std::panic::{catch_unwind, AssertUnwindSafe};

use mail_parser::Message;

use super::ground::{Cause, Ctx, File};
use super::sniff::{self, Format};
use super::zip::{Archive, Flavour};
use super::{archive, compound, html, mime, odf, ole, ooxml, pdf, text_forms, tnef};

/// Something found inside the message or inside a document.
pub(crate) enum Embedded<'a, 't> {
    /// A file's bytes: an attachment, an archive entry, an embedded object.
    File(File<'a>),
    /// A message/rfc822 part mail-parser left unparsed.
    RawMessage(&'a [u8]),
    /// A nested message mail-parser already parsed.
    Message(&'a Message<'t>),
}

/// Reads `item`, found `depth` containers deep, into segments labelled
/// under `location` (`attachment:x.docx`, `attachment:a.zip:b/c.csv`, or
/// the prefix `message:1/` of a nested message).
pub(crate) fn embedded<'t>(
    ctx: &mut Ctx<'t>,
    item: Embedded<'_, 't>,
    location: &str,
    depth: usize,
) {
    if ctx.expired(location) || !ctx.depth_ok(depth, location) {
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| match item {
        Embedded::File(file) => read_file(ctx, &file, location, depth),
        Embedded::RawMessage(bytes) => mime::read_raw(bytes, location, depth, ctx),
        Embedded::Message(msg) => mime::walk(msg, location, depth, ctx),
    }));
    if result.is_err() {
        ctx.unscannable(
            location,
            Cause::Broken,
            "reader failed on malformed content",
        );
    }
}

/// A file to text: one line per format.
fn read_file(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    if tnef::is_tnef(file.bytes) {
        return tnef::read(ctx, file.bytes, location, depth);
    }
    match sniff::format_of(file.bytes, file.name, file.ctype) {
        Format::Zip => read_zip(ctx, file, location, depth),
        Format::Pdf => pdf::read(ctx, file.bytes, location),
        Format::Ole => {
            if !compound::read(ctx, file, location, depth) {
                ole::read(ctx, file, location);
            }
        }
        Format::Mail => mime::read_raw(file.bytes, &format!("{location}/"), depth, ctx),
        Format::Html => html::read(ctx, file, location),
        Format::Text => text_forms::read(ctx, file, location, depth),
        Format::Opaque => {}
    }
}

/// A ZIP-based file: OOXML, ODF or a plain archive, by its entries.
fn read_zip(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    let Some(mut zip) = Archive::open(ctx, file.bytes, location) else {
        return;
    };
    match zip.flavour() {
        Flavour::Ooxml => ooxml::read(ctx, &mut zip, location, depth),
        Flavour::Odf => odf::read(ctx, &mut zip, location),
        Flavour::Plain => archive::read(ctx, &mut zip, location, depth),
    }
}
