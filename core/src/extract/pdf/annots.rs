//! Text a PDF viewer shows outside the page content: annotations (comments
//! and sticky notes with their author titles, free-text boxes, stamps'
//! subjects) and interactive form fields (AcroForm values, names and
//! tooltips). Both are strings in dictionaries, not drawn text, so the
//! content reader never sees them.
//!
//! Bounded: at most [`MAX_ANNOTATIONS`] per page and [`MAX_FIELDS`] per
//! document (the rest recorded as a limit), the field tree walked once per
//! object and at most [`MAX_FIELD_DEPTH`] deep, the deadline checked per
//! entry.

use std::collections::HashSet;

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::super::ground::{Cause, Ctx, SegmentKind};

/// Annotations read on one page.
const MAX_ANNOTATIONS: usize = 5_000;
/// Form fields read in one document.
const MAX_FIELDS: usize = 10_000;
/// Nesting of a field's `/Kids`.
const MAX_FIELD_DEPTH: usize = 32;

/// Annotation keys a viewer shows: the note, its title (author), subject.
const ANNOTATION_KEYS: &[&[u8]] = &[b"Contents", b"T", b"Subj"];
/// Field keys a viewer shows: value, default value, tooltip, name.
const FIELD_KEYS: &[&[u8]] = &[b"V", b"DV", b"TU", b"T"];

/// The annotations of one page, as segment `{loc}:annotations`.
pub(super) fn page_annotations(ctx: &mut Ctx<'_>, doc: &Document, page_id: ObjectId, loc: &str) {
    let annotations = doc.get_page_annotations(page_id).unwrap_or_default();
    let loc = format!("{loc}:annotations");
    if annotations.len() > MAX_ANNOTATIONS {
        ctx.unscannable(
            &loc,
            Cause::Limit,
            format!(
                "page has {} annotations, more than {MAX_ANNOTATIONS}",
                annotations.len()
            ),
        );
    }
    let mut lines = Lines::default();
    for annotation in annotations.into_iter().take(MAX_ANNOTATIONS) {
        if ctx.tick(&loc) {
            break;
        }
        // Widgets are form fields' boxes: read once, with the form.
        if annotation.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Widget") {
            continue;
        }
        lines.strings_of(doc, annotation, ANNOTATION_KEYS);
    }
    if !lines.text.is_empty() {
        ctx.push(SegmentKind::Attachment, loc, lines.text);
    }
}

/// The interactive form's fields (`/AcroForm /Fields` and their kids), as
/// segment `{location}:form`.
pub(super) fn form_fields(ctx: &mut Ctx<'_>, doc: &Document, location: &str) {
    let Some(fields) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get_deref(b"AcroForm", doc).ok())
        .and_then(|f| f.as_dict().ok())
        .and_then(|f| f.get_deref(b"Fields", doc).ok())
        .and_then(|f| f.as_array().ok())
    else {
        return;
    };
    let loc = format!("{location}:form");
    let mut walk = FieldWalk {
        doc,
        seen: HashSet::new(),
        count: 0,
        lines: Lines::default(),
    };
    let complete = walk.fields(ctx, fields, &loc, 0);
    if !complete && !ctx.expired(&loc) {
        ctx.unscannable(
            &loc,
            Cause::Limit,
            format!("PDF form has more than {MAX_FIELDS} fields or is nested deeper than {MAX_FIELD_DEPTH}"),
        );
    }
    if !walk.lines.text.is_empty() {
        ctx.push(SegmentKind::Attachment, loc, walk.lines.text);
    }
}

struct FieldWalk<'d> {
    doc: &'d Document,
    seen: HashSet<ObjectId>,
    count: usize,
    lines: Lines,
}

impl FieldWalk<'_> {
    /// Reads `fields` and their kids; false when a bound or the deadline
    /// stopped the walk.
    fn fields(&mut self, ctx: &mut Ctx<'_>, fields: &[Object], loc: &str, depth: usize) -> bool {
        if depth > MAX_FIELD_DEPTH {
            return false;
        }
        for entry in fields {
            if ctx.tick(loc) {
                return false;
            }
            let field = match entry {
                Object::Reference(id) => {
                    if !self.seen.insert(*id) {
                        continue;
                    }
                    match self.doc.get_dictionary(*id) {
                        Ok(d) => d,
                        Err(_) => continue,
                    }
                }
                Object::Dictionary(d) => d,
                _ => continue,
            };
            self.count += 1;
            if self.count > MAX_FIELDS {
                return false;
            }
            self.lines.strings_of(self.doc, field, FIELD_KEYS);
            if let Some(kids) = field
                .get_deref(b"Kids", self.doc)
                .ok()
                .and_then(|k| k.as_array().ok())
            {
                if !self.fields(ctx, kids, loc, depth + 1) {
                    return false;
                }
            }
        }
        true
    }
}

/// Text strings, one per line, each distinct string once (a popup repeats
/// its parent's note; a widget its field's value).
#[derive(Default)]
struct Lines {
    text: String,
    seen: HashSet<String>,
}

impl Lines {
    fn strings_of(&mut self, doc: &Document, dict: &Dictionary, keys: &[&[u8]]) {
        for key in keys {
            let Ok(value) = dict.get_deref(key, doc) else {
                continue;
            };
            match value {
                // A list box with several choices selected.
                Object::Array(items) => {
                    for item in items {
                        self.add(item);
                    }
                }
                other => self.add(other),
            }
        }
    }

    fn add(&mut self, value: &Object) {
        let Ok(s) = lopdf::decode_text_string(value) else {
            return;
        };
        let s = s.trim();
        if !s.is_empty() && self.seen.insert(s.to_string()) {
            self.text.push_str(s);
            self.text.push('\n');
        }
    }
}
