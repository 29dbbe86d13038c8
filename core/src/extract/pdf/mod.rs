//! PDF text. lopdf parses the file (xref, object streams, filters, empty
//! user password) with a bound on every inflated stream; the pages are
//! found by a cycle-safe walk of the page tree ([`pages`]); each page's
//! content streams are inflated one at a time and tokenised incrementally
//! keeping only text state ([`content`]), the shown strings decoded through
//! the page's fonts (ToUnicode CMaps, WinAnsi/MacRoman/Standard and
//! /Differences, as lopdf resolves them).
//!
//! Work per document is bounded inside the reading: pages (`max_pdf_pages`),
//! content operators (`max_pdf_operators`), bytes inflated (the message's
//! budget, and at most [`MAX_STREAM`] per stream) and the deadline, checked
//! after every operator.

mod content;
mod pages;

use std::collections::BTreeMap;

use lopdf::{Document, Encoding, LoadOptions, Object, ObjectId};

use super::ground::{Cause, Ctx, SegmentKind};
use content::PageText;
use pages::Found;

/// One inflated stream may not exceed this, whatever the total budget.
const MAX_STREAM: u64 = 64 * 1024 * 1024;

pub(crate) fn read(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) {
    let per_stream = ctx.budget_left().min(MAX_STREAM) as usize;
    let options = LoadOptions {
        max_decompressed_size: Some(per_stream),
        ..LoadOptions::default()
    };
    let doc = match Document::load_mem_with_options(bytes, options) {
        Ok(d) => d,
        Err(e) => {
            let (cause, what) = classify(&e);
            ctx.unscannable(location, cause, format!("{what} PDF: {}", first_line(&e)));
            return;
        }
    };
    if doc.is_encrypted() && !doc.was_encrypted() {
        ctx.unscannable(location, Cause::Encrypted, "password-protected PDF");
        return;
    }
    info_text(ctx, &doc, location);
    let (pages, found) = pages::pages(&doc);
    if pages.is_empty() {
        ctx.unscannable(location, Cause::Broken, "PDF has no readable pages");
        return;
    }
    let max = ctx.limits.max_pdf_pages;
    if pages.len() > max {
        ctx.unscannable(
            location,
            Cause::Limit,
            format!("PDF has {} pages, more than {max}", pages.len()),
        );
    }
    let mut operators = 0u64;
    for (i, page_id) in pages.into_iter().take(max).enumerate() {
        let loc = format!("{location}:page{}", i + 1);
        if ctx.expired(&loc) {
            return;
        }
        if !read_page(ctx, &doc, page_id, &loc, &mut operators) {
            return;
        }
    }
    if found == Found::Repaired {
        // Read, but the file is not what it claims: say so, so that the
        // policy may decide on a file built to mislead a reader.
        ctx.unscannable(
            location,
            Cause::Broken,
            "PDF page tree reaches no page (pages read from the objects)",
        );
    }
}

/// Reads one page into a segment; false once the document must stop (the
/// operator budget or the deadline is spent, already recorded).
fn read_page(
    ctx: &mut Ctx<'_>,
    doc: &Document,
    page_id: ObjectId,
    loc: &str,
    operators: &mut u64,
) -> bool {
    let limit = ctx.budget_left().min(MAX_STREAM) as usize;
    let fonts: BTreeMap<Vec<u8>, Encoding<'_>> = doc
        .get_page_fonts(page_id)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, font)| {
            font.get_font_encoding_with_limit(doc, limit)
                .ok()
                .map(|e| (name, e))
        })
        .collect();
    let mut page = PageText::new(&fonts);
    let max_ops = ctx.limits.max_pdf_operators;
    let mut go_on = true;
    for stream_id in doc.get_page_contents(page_id) {
        let Ok(stream) = doc.get_object(stream_id).and_then(Object::as_stream) else {
            continue;
        };
        let limit = ctx.budget_left().min(MAX_STREAM) as usize;
        let data = match stream.decompressed_content_with_limit(limit) {
            Ok(d) => d,
            // Unfiltered, or a filter lopdf does not know: the raw bytes,
            // which are what a viewer reads too.
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                ..
            })) => {
                ctx.unscannable(
                    loc,
                    Cause::Limit,
                    format!("PDF content stream inflates to more than {limit} bytes"),
                );
                continue;
            }
            Err(_) if stream.content.len() <= limit => stream.content.clone(),
            Err(e) => {
                ctx.unscannable(
                    loc,
                    Cause::Broken,
                    format!("unreadable page content: {}", first_line(&e)),
                );
                continue;
            }
        };
        ctx.charge(data.len() as u64);
        let mut over_budget = false;
        let mut stop = || {
            *operators += 1;
            over_budget = *operators > max_ops;
            over_budget || ctx.tick(loc)
        };
        let stopped = page.feed(&data, &mut stop).is_err();
        if over_budget {
            ctx.unscannable(
                loc,
                Cause::Limit,
                format!("PDF has more than {max_ops} content operators"),
            );
        }
        if stopped {
            go_on = false;
            break;
        }
    }
    ctx.push(SegmentKind::Attachment, loc.to_string(), page.text);
    go_on
}

/// The cause of a failed load: a bound hit, or a damaged file.
fn classify(e: &lopdf::Error) -> (Cause, &'static str) {
    match e {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            (Cause::Limit, "oversized stream in")
        }
        _ => (Cause::Broken, "unreadable"),
    }
}

fn first_line(e: &lopdf::Error) -> String {
    let s = e.to_string();
    s.lines().next().unwrap_or_default().to_string()
}

/// Title, Subject, Author and Keywords of the document information.
fn info_text(ctx: &mut Ctx<'_>, doc: &Document, location: &str) {
    let Ok(info) = doc
        .trailer
        .get(b"Info")
        .and_then(|o| doc.dereference(o))
        .and_then(|(_, o)| o.as_dict())
    else {
        return;
    };
    let mut text = Vec::new();
    for key in [&b"Title"[..], b"Subject", b"Author", b"Keywords"] {
        if let Ok(s) = info.get(key).and_then(lopdf::decode_text_string) {
            text.push(s);
        }
    }
    ctx.push(
        SegmentKind::Attachment,
        format!("{location}:info"),
        text.join("\n"),
    );
}
