//! Scanned PDF pages: a page that shows no text but draws images has each
//! image turned into a file an OCR engine reads (`page_image`) and handed
//! to the walk's image-text provider, when it has one. An image that cannot
//! be turned into such a file is unscannable with its reason, never
//! silently skipped.

use lopdf::{Dictionary, Document, Object};

use super::super::ground::{Cause, Ctx};
use super::super::image_text;
use super::page_image::{self, NotRead};
use super::MAX_STREAM;

/// Passes the images among `xobjects` of the page at `loc` to OCR.
pub(super) fn read(ctx: &mut Ctx<'_>, doc: &Document, xobjects: &[&Dictionary], loc: &str) {
    if ctx.image_text().is_none() {
        return;
    }
    let mut n = 0;
    for (_, obj) in xobjects.iter().flat_map(|x| x.iter()) {
        let Ok(stream) = obj
            .as_reference()
            .and_then(|id| doc.get_object(id))
            .and_then(Object::as_stream)
        else {
            continue;
        };
        let is_image = stream
            .dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s == b"Image");
        if !is_image {
            continue;
        }
        n += 1;
        let at = format!("{loc}:image{n}");
        let limit = ctx.budget_left().min(MAX_STREAM);
        match page_image::to_file(doc, stream, limit) {
            Ok((file, kind)) => {
                ctx.charge(file.len() as u64);
                image_text::read(ctx, &file, kind, &at);
            }
            Err(NotRead::TooLarge(bytes)) => ctx.unscannable(
                &at,
                Cause::Limit,
                format!("scanned page image of {bytes} bytes unpacked, over the limit of {limit}"),
            ),
            Err(NotRead::Unsupported(why)) => {
                ctx.unscannable(&at, Cause::Unsupported, format!("scanned page: {why}"))
            }
            Err(NotRead::Broken(why)) => {
                ctx.unscannable(&at, Cause::Broken, format!("scanned page: {why}"))
            }
        }
    }
}
