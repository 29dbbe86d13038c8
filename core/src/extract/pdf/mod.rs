//! PDF text. lopdf parses the file (xref, object streams, filters, empty
//! user password) with a bound on every inflated stream; the pages are
//! found by a cycle-safe walk of the page tree ([`pages`]); each page's
//! content streams are inflated one at a time and tokenised incrementally
//! keeping only text state ([`content`]), the shown strings decoded through
//! the page's fonts (ToUnicode CMaps, WinAnsi/MacRoman/Standard and
//! /Differences, as lopdf resolves them).
//!
//! Annotations (comments, notes, free text) and form fields are read too
//! ([`annots`]), each page's as `pageN:annotations`, the form's as `form`.
//!
//! Text drawn through form XObjects (`Do`: letterheads, stamps, pages
//! imported from other PDFs) is read with the form's own fonts, each form
//! once per page, at most eight forms deep.
//!
//! Work per document is bounded inside the reading: pages (`max_pdf_pages`),
//! content operators (`max_pdf_operators`), bytes inflated (the message's
//! budget, and at most [`MAX_STREAM`] per stream) and the deadline, checked
//! after every operator.

mod annots;
mod content;
mod page_image;
mod pages;
mod scanned;

use std::collections::{BTreeMap, HashSet};

use lopdf::{Dictionary, Document, Encoding, LoadOptions, Object, ObjectId};

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
    annots::form_fields(ctx, &doc, location);
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
    let fonts = encodings(doc, doc.get_page_fonts(page_id).unwrap_or_default(), limit);
    let (inline, ids) = doc.get_page_resources(page_id).unwrap_or_default();
    let resources: Vec<&Dictionary> = inline
        .into_iter()
        .chain(ids.iter().filter_map(|id| doc.get_dictionary(*id).ok()))
        .collect();
    let xobjects = xobjects_of(doc, &resources);
    let mut content = Content {
        doc,
        loc,
        operators,
        seen: HashSet::new(),
        text: String::new(),
    };
    let go_on = content.read(ctx, &doc.get_page_contents(page_id), &fonts, &xobjects, 0);
    let text = content.text;
    if go_on && text.trim().is_empty() {
        scanned::read(ctx, doc, &xobjects, loc);
    }
    ctx.push(SegmentKind::Attachment, loc.to_string(), text);
    annots::page_annotations(ctx, doc, page_id, loc);
    go_on
}

/// Form XObjects drawn inside forms, followed this deep.
const MAX_FORM_DEPTH: usize = 8;

/// The content of one page: its streams and the forms they draw.
struct Content<'a, 'd> {
    doc: &'d Document,
    loc: &'a str,
    operators: &'a mut u64,
    /// Forms already read on this page (a form drawn twice, or drawing
    /// itself, is read once).
    seen: HashSet<ObjectId>,
    text: String,
}

impl<'d> Content<'_, 'd> {
    /// Reads the content streams `ids` with `fonts`, then the forms they
    /// draw, depth first; false once the document must stop.
    fn read(
        &mut self,
        ctx: &mut Ctx<'_>,
        ids: &[ObjectId],
        fonts: &BTreeMap<Vec<u8>, Encoding<'d>>,
        xobjects: &[&'d Dictionary],
        depth: usize,
    ) -> bool {
        let mut page = PageText::new(fonts);
        let max_ops = ctx.limits.max_pdf_operators;
        for &stream_id in ids {
            let Ok(stream) = self.doc.get_object(stream_id).and_then(Object::as_stream) else {
                continue;
            };
            let Some(data) = inflate(ctx, stream, self.loc) else {
                continue;
            };
            let mut over_budget = false;
            let operators = &mut *self.operators;
            let loc = self.loc;
            let mut stop = || {
                *operators += 1;
                over_budget = *operators > max_ops;
                over_budget || ctx.tick(loc)
            };
            let stopped = page.feed(&data, &mut stop).is_err();
            if over_budget {
                ctx.unscannable(
                    self.loc,
                    Cause::Limit,
                    format!("PDF has more than {max_ops} content operators"),
                );
            }
            if stopped {
                self.append(&page.text);
                return false;
            }
        }
        self.append(&page.text);
        for name in &page.drawn {
            let Some(form_id) = xobjects
                .iter()
                .find_map(|x| x.get(name).and_then(Object::as_reference).ok())
            else {
                continue;
            };
            let Ok(form) = self.doc.get_object(form_id).and_then(Object::as_stream) else {
                continue;
            };
            let is_form = form
                .dict
                .get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|s| s == b"Form");
            if !is_form || depth >= MAX_FORM_DEPTH || !self.seen.insert(form_id) {
                continue;
            }
            // A form's own resources, else the page's (older files).
            let own = form
                .dict
                .get_deref(b"Resources", self.doc)
                .and_then(Object::as_dict)
                .ok();
            let limit = ctx.budget_left().min(MAX_STREAM) as usize;
            let own_fonts = own.and_then(|r| form_fonts(self.doc, r, limit));
            let own_xobjects = own.map(|r| xobjects_of(self.doc, &[r]));
            let go_on = self.read(
                ctx,
                &[form_id],
                own_fonts.as_ref().unwrap_or(fonts),
                own_xobjects.as_deref().unwrap_or(xobjects),
                depth + 1,
            );
            if !go_on {
                return false;
            }
        }
        true
    }

    fn append(&mut self, text: &str) {
        if !self.text.is_empty() && !self.text.ends_with('\n') && !text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(text);
    }
}

/// The inflated bytes of one content stream (charged to the message's
/// budget), or `None` with the reason recorded.
fn inflate(ctx: &mut Ctx<'_>, stream: &lopdf::Stream, loc: &str) -> Option<Vec<u8>> {
    let limit = ctx.budget_left().min(MAX_STREAM) as usize;
    let data = match stream.decompressed_content_with_limit(limit) {
        Ok(d) => d,
        Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. })) => {
            ctx.unscannable(
                loc,
                Cause::Limit,
                format!("PDF content stream inflates to more than {limit} bytes"),
            );
            return None;
        }
        // Unfiltered, or a filter lopdf does not know: the raw bytes, which
        // are what a viewer reads too.
        Err(_) if stream.content.len() <= limit => stream.content.clone(),
        Err(e) => {
            ctx.unscannable(
                loc,
                Cause::Broken,
                format!("unreadable page content: {}", first_line(&e)),
            );
            return None;
        }
    };
    ctx.charge(data.len() as u64);
    Some(data)
}

/// The `/XObject` dictionaries of `resources`, nearest first.
fn xobjects_of<'d>(doc: &'d Document, resources: &[&'d Dictionary]) -> Vec<&'d Dictionary> {
    resources
        .iter()
        .filter_map(|r| r.get_deref(b"XObject", doc).and_then(Object::as_dict).ok())
        .collect()
}

/// The fonts of a form's `/Resources`; `None` when it names none (the
/// page's apply).
fn form_fonts<'d>(
    doc: &'d Document,
    resources: &'d Dictionary,
    limit: usize,
) -> Option<BTreeMap<Vec<u8>, Encoding<'d>>> {
    let fonts = resources
        .get_deref(b"Font", doc)
        .and_then(Object::as_dict)
        .ok()?;
    let dicts = fonts
        .iter()
        .filter_map(|(name, font)| {
            let font = match font {
                Object::Reference(id) => doc.get_dictionary(*id).ok()?,
                Object::Dictionary(d) => d,
                _ => return None,
            };
            Some((name.clone(), font))
        })
        .collect();
    Some(encodings(doc, dicts, limit))
}

/// Each font's encoding, for decoding shown strings.
fn encodings<'d>(
    doc: &'d Document,
    fonts: BTreeMap<Vec<u8>, &'d Dictionary>,
    limit: usize,
) -> BTreeMap<Vec<u8>, Encoding<'d>> {
    fonts
        .into_iter()
        .filter_map(|(name, font)| {
            font.get_font_encoding_with_limit(doc, limit)
                .ok()
                .map(|e| (name, e))
        })
        .collect()
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
