//! Scanned PDF pages: a page that shows no text but draws a JPEG image
//! (a DCTDecode stream holds the JPEG file as is) is handed to the walk's
//! image-text provider, when it has one.

use lopdf::{Dictionary, Document, Object};

use super::super::ground::Ctx;
use super::super::image_text::{self, ImageKind};

/// Passes the JPEG images among `xobjects` of the page at `loc` to OCR.
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
        if !is_image || !only_dct(&stream.dict) {
            continue;
        }
        if ImageKind::sniff(&stream.content) != Some(ImageKind::Jpeg) {
            continue;
        }
        n += 1;
        image_text::read(
            ctx,
            &stream.content,
            ImageKind::Jpeg,
            &format!("{loc}:image{n}"),
        );
    }
}

/// The stream's one filter is DCTDecode (its bytes are a JPEG file).
fn only_dct(dict: &Dictionary) -> bool {
    match dict.get(b"Filter") {
        Ok(Object::Name(n)) => n == b"DCTDecode",
        Ok(Object::Array(a)) => {
            a.len() == 1 && matches!(&a[0], Object::Name(n) if n == b"DCTDecode")
        }
        _ => false,
    }
}
