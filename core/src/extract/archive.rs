//! A plain archive (ZIP): every entry is a file of its own, read through the
//! dispatcher, and every folder and file name in an entry's path is text
//! like an attachment's file name.

use std::collections::HashSet;

use super::dispatch::{self, Embedded};
use super::ground::{Ctx, File, SegmentKind};
use super::zip::Archive;

/// A plain archive: every entry is a file of its own, extracted recursively.
/// Its name is a file name like an attachment's, so every folder and file
/// name in its path is a header-like segment (rejected whatever the
/// recipients): `attachment:sager.zip:filename:2024/Borger … .txt`.
pub(crate) fn read(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str, depth: usize) {
    let mut seen = HashSet::new();
    for i in 0..archive.names.len() {
        let name = archive.names[i].clone();
        if name.is_empty() {
            continue;
        }
        push_names(ctx, location, &name, &mut seen);
        if name.ends_with('/') {
            continue;
        }
        let loc = format!("{location}:{name}");
        if !ctx.count_entry(&loc) {
            return;
        }
        if let Ok(bytes) = archive.read(ctx, i) {
            let base = name.rsplit('/').next().unwrap_or(&name);
            let entry = Embedded::File(File::entry(&bytes, base));
            dispatch::embedded(ctx, entry, &loc, depth + 1);
        }
    }
}

/// One header-like segment per folder or file name in the entry path
/// `name`, each path prefix once per archive.
/// Both `/` and the `\` some Windows tools write separate the names.
fn push_names(ctx: &mut Ctx<'_>, location: &str, name: &str, seen: &mut HashSet<String>) {
    let mut start = 0;
    for component in name.split(['/', '\\']) {
        let end = start + component.len();
        let path = &name[..end];
        start = end + 1;
        if component.is_empty() || component == "." || component == ".." {
            continue;
        }
        if seen.insert(path.to_string()) {
            ctx.push(
                SegmentKind::Header,
                format!("{location}:filename:{path}"),
                component.to_string(),
            );
        }
    }
}
