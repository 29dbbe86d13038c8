//! PDF text: lopdf parses the file (xref, object streams, filters, empty
//! user password) with a bound on every inflated stream; this module walks
//! each page's content stream and decodes the shown strings through the
//! page's fonts (ToUnicode CMaps, WinAnsi/MacRoman/Standard and
//! /Differences, as lopdf resolves them).
//!
//! Text-showing operators: `Tj`, `'`, `"` and `TJ`. In a `TJ` array the
//! numbers are kerning: small ones (a number typeset with tight spacing) join,
//! large negative ones are word gaps and become a space. Line moves become
//! line breaks only when the line actually changes, so a number drawn in two
//! pieces on the same line stays whole.

use lopdf::content::Content;
use lopdf::{Document, Encoding, LoadOptions, Object};
use std::collections::BTreeMap;

use super::ground::{Cause, Ctx, SegmentKind};

/// A `TJ` displacement (thousandths of an em) below this is a word gap.
const WORD_GAP: f32 = -180.0;
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
            ctx.unscannable(
                location,
                Cause::Broken,
                format!("unreadable PDF: {}", first_line(&e.to_string())),
            );
            return;
        }
    };
    if doc.is_encrypted() && !doc.was_encrypted() {
        ctx.unscannable(location, Cause::Encrypted, "password-protected PDF");
        return;
    }
    info_text(ctx, &doc, location);
    let pages = doc.get_pages();
    let max = ctx.limits.max_pdf_pages;
    if pages.len() > max {
        ctx.unscannable(
            location,
            Cause::Limit,
            format!("PDF has {} pages, more than {max}", pages.len()),
        );
    }
    for (number, page_id) in pages.into_iter().take(max) {
        let loc = format!("{location}:page{number}");
        if ctx.expired(&loc) {
            return;
        }
        let limit = ctx.budget_left().min(MAX_STREAM) as usize;
        let content = match doc.get_page_content_with_limit(page_id, limit) {
            Ok(c) => c,
            Err(e) => {
                ctx.unscannable(
                    &loc,
                    Cause::Broken,
                    format!("unreadable page: {}", first_line(&e.to_string())),
                );
                continue;
            }
        };
        ctx.charge(content.len() as u64);
        let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = doc
            .get_page_fonts(page_id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, font)| {
                font.get_font_encoding_with_limit(&doc, limit)
                    .ok()
                    .map(|e| (name, e))
            })
            .collect();
        match Content::decode(&content) {
            Ok(ops) => ctx.push(SegmentKind::Attachment, loc, page_text(&ops, &encodings)),
            Err(e) => ctx.unscannable(
                &loc,
                Cause::Broken,
                format!("unreadable page content: {}", first_line(&e.to_string())),
            ),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
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

fn page_text(content: &Content, encodings: &BTreeMap<Vec<u8>, Encoding<'_>>) -> String {
    let mut out = String::new();
    let mut font: Option<&Encoding<'_>> = None;
    let mut line_y: Option<f32> = None;
    for op in &content.operations {
        match op.operator.as_str() {
            "Tf" => {
                font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|n| encodings.get(n));
            }
            "BT" => line_y = None,
            "ET" => newline(&mut out),
            "T*" => newline(&mut out),
            "Td" | "TD"
                if op
                    .operands
                    .get(1)
                    .and_then(number)
                    .is_some_and(|dy| dy.abs() > 0.01) =>
            {
                newline(&mut out);
            }
            "Tm" => {
                let y = op.operands.get(5).and_then(number);
                if line_y.is_some() && y.is_some() && y != line_y {
                    newline(&mut out);
                }
                line_y = y;
            }
            "Tj" => show(&mut out, font, op.operands.first()),
            "'" => {
                newline(&mut out);
                show(&mut out, font, op.operands.first());
            }
            "\"" => {
                newline(&mut out);
                show(&mut out, font, op.operands.get(2));
            }
            "TJ" => {
                if let Some(Object::Array(items)) = op.operands.first() {
                    for item in items {
                        match number(item) {
                            Some(n) if n < WORD_GAP => out.push(' '),
                            Some(_) => {}
                            None => show(&mut out, font, Some(item)),
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn number(o: &Object) -> Option<f32> {
    match o {
        Object::Integer(i) => Some(*i as f32),
        Object::Real(r) => Some(*r),
        _ => None,
    }
}

fn show(out: &mut String, font: Option<&Encoding<'_>>, operand: Option<&Object>) {
    let Some(Object::String(bytes, _)) = operand else {
        return;
    };
    match font.map(|enc| Document::decode_text(enc, bytes)) {
        Some(Ok(s)) => out.push_str(&s),
        // No usable font encoding: most simple fonts keep ASCII digits where
        // they are, so Latin-1 is the best guess.
        _ => out.extend(bytes.iter().map(|&b| b as char)),
    }
}
