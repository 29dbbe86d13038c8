//! ODT, ODS and ODP (OpenDocument): content.xml (body, tables, slides),
//! styles.xml (headers and footers), meta.xml, and the same parts of
//! embedded objects. An encrypted package is reported, not guessed at.

use super::ground::{Cause, Ctx, SegmentKind};
use super::image_text;
use super::sheet_places;
use super::sniff;
use super::xml;
use super::zip::Archive;

pub(crate) fn read(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str) {
    if let Some(i) = archive.index_of("META-INF/manifest.xml") {
        if let Ok(manifest) = archive.read(ctx, i) {
            if sniff::position_of(&manifest, b"encryption-data").is_some() {
                ctx.unscannable(
                    location,
                    Cause::Encrypted,
                    "password-protected OpenDocument file",
                );
                return;
            }
        }
    }
    let names = archive.names.clone();
    for (i, name) in names.iter().enumerate() {
        let base = name.rsplit('/').next().unwrap_or(name);
        if name.starts_with("Pictures/") && ctx.image_text().is_some() {
            // Pictures pasted into the document: scans, screenshots.
            let loc = format!("{location}:{name}");
            if !ctx.count_entry(&loc) {
                return;
            }
            if let Ok(bytes) = archive.read(ctx, i) {
                image_text::read_picture(ctx, &bytes, &loc);
            }
            continue;
        }
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
        let (text, err) = xml::part_text(ctx, &bytes, &loc);
        if let Some(err) = err {
            ctx.unscannable(&loc, Cause::Broken, err);
        }
        if base == "content.xml" {
            // Sheet (and table) names are attributes: the tabs a reader sees.
            let (names, _) = sheet_places::attribute_values(ctx, &bytes, &loc, "table", "name");
            if !names.is_empty() {
                ctx.push(
                    SegmentKind::Attachment,
                    format!("{loc}:tablenames"),
                    names.join("\n"),
                );
            }
        }
        ctx.push(SegmentKind::Attachment, loc, text);
    }
}
