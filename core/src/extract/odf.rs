//! ODT, ODS and ODP (OpenDocument): content.xml (body, tables, slides),
//! styles.xml (headers and footers), meta.xml, and the same parts of
//! embedded objects. An encrypted package is reported, not guessed at.

use super::zip::Archive;
use super::{xml, Ctx, SegmentKind};

pub fn scan(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str, _depth: usize) {
    if let Some(i) = archive.index_of("META-INF/manifest.xml") {
        if let Ok(manifest) = archive.read(ctx, i) {
            if super::sniff::find(&manifest, b"encryption-data").is_some() {
                ctx.unscannable(location, "password-protected OpenDocument file");
                return;
            }
        }
    }
    let names = archive.names.clone();
    for (i, name) in names.iter().enumerate() {
        let base = name.rsplit('/').next().unwrap_or(name);
        if !matches!(base, "content.xml" | "styles.xml" | "meta.xml") {
            continue;
        }
        let loc = format!("{location}:{name}");
        if !ctx.count_entry(&loc) {
            return;
        }
        let Ok(bytes) = archive.read(ctx, i) else {
            continue;
        };
        let (text, err) = xml::part_text(&bytes);
        if let Some(err) = err {
            ctx.unscannable(&loc, err);
        }
        ctx.push(SegmentKind::Attachment, loc, text);
    }
}
