//! ZIP containers under hard limits, and the dispatch of a container to the
//! OOXML, ODF or plain-archive reader by its entries.
//!
//! Zip bombs are stopped twice: by the declared sizes in the central
//! directory before anything is inflated, and by counting the bytes actually
//! inflated against a hard cap (declared sizes can lie).

use std::io::{Cursor, Read};

use ::zip::ZipArchive;

use super::attach::{self, File};
use super::{odf, ooxml, Ctx, SegmentKind};

/// Entries this small are never judged by their compression ratio (a page of
/// blanks compresses a thousandfold and harms no one).
const RATIO_FLOOR: u64 = 1024 * 1024;

/// An opened archive with the limits applied to every read.
pub struct Archive<'b> {
    zip: ZipArchive<Cursor<&'b [u8]>>,
    /// Entry names in order; `None` for names that are not valid.
    pub names: Vec<String>,
    location: String,
}

/// Why an entry was not read.
pub enum Skip {
    /// Already recorded as unscannable.
    Recorded,
}

impl<'b> Archive<'b> {
    /// Opens `bytes`; records an unscannable entry and returns `None` when
    /// it is not a readable ZIP.
    pub fn open(ctx: &mut Ctx<'_>, bytes: &'b [u8], location: &str) -> Option<Self> {
        let mut zip = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(z) => z,
            Err(e) => {
                ctx.unscannable(location, format!("broken ZIP archive: {e}"));
                return None;
            }
        };
        let max = ctx.limits.max_zip_entries;
        if zip.len() > max {
            ctx.unscannable(
                location,
                format!("ZIP archive has {} entries, more than {max}", zip.len()),
            );
        }
        let mut names = Vec::new();
        for i in 0..zip.len().min(max) {
            let name = zip
                .by_index_raw(i)
                .ok()
                .and_then(|f| f.name().ok().map(|n| n.into_owned()));
            names.push(name.unwrap_or_default());
        }
        Some(Archive {
            zip,
            names,
            location: location.to_string(),
        })
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Reads entry `i` whole, or records why not (password, size, ratio,
    /// total budget, time).
    pub fn read(&mut self, ctx: &mut Ctx<'_>, i: usize) -> Result<Vec<u8>, Skip> {
        let name = self.names.get(i).cloned().unwrap_or_default();
        let loc = format!("{}:{name}", self.location);
        if ctx.expired(&loc) {
            return Err(Skip::Recorded);
        }
        let (declared, compressed, encrypted) = match self.zip.by_index_raw(i) {
            Ok(f) => (f.size(), f.compressed_size(), f.encrypted()),
            Err(e) => {
                ctx.unscannable(&loc, format!("unreadable ZIP entry: {e}"));
                return Err(Skip::Recorded);
            }
        };
        if encrypted {
            ctx.unscannable(&loc, "password-protected ZIP entry");
            return Err(Skip::Recorded);
        }
        let ratio = ctx.limits.max_compression_ratio;
        let ratio_cap = compressed.saturating_mul(ratio).max(RATIO_FLOOR);
        if declared > ratio_cap {
            ctx.unscannable(&loc, format!("compression ratio above {ratio} (zip bomb?)"));
            return Err(Skip::Recorded);
        }
        let budget = ctx.budget_left();
        if declared > budget {
            let max = ctx.limits.max_uncompressed_bytes;
            ctx.unscannable(&loc, format!("more than {max} bytes uncompressed in total"));
            return Err(Skip::Recorded);
        }
        let cap = budget.min(ratio_cap);
        let file = match self.zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                ctx.unscannable(&loc, format!("unreadable ZIP entry: {e}"));
                return Err(Skip::Recorded);
            }
        };
        let mut data = Vec::with_capacity(declared.min(cap).min(64 * 1024 * 1024) as usize);
        let read = file.take(cap.saturating_add(1)).read_to_end(&mut data);
        ctx.inflated += data.len() as u64;
        if data.len() as u64 > cap {
            let reason = if cap == ratio_cap {
                format!("compression ratio above {ratio} (zip bomb?)")
            } else {
                format!(
                    "more than {} bytes uncompressed in total",
                    ctx.limits.max_uncompressed_bytes
                )
            };
            ctx.unscannable(&loc, reason);
            return Err(Skip::Recorded);
        }
        if let Err(e) = read {
            ctx.unscannable(&loc, format!("damaged ZIP entry: {e}"));
            return Err(Skip::Recorded);
        }
        Ok(data)
    }
}

/// Any ZIP-based file: OOXML, ODF or a plain archive.
pub fn scan_container(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    let Some(mut archive) = Archive::open(ctx, file.bytes, location) else {
        return;
    };
    if archive.index_of("[Content_Types].xml").is_some() {
        ooxml::scan(ctx, &mut archive, location, depth);
    } else if archive.index_of("mimetype").is_some() && archive.index_of("content.xml").is_some() {
        odf::scan(ctx, &mut archive, location, depth);
    } else {
        scan_plain(ctx, &mut archive, location, depth);
    }
}

/// A plain archive: every entry is a file of its own, extracted recursively.
/// Its name is a file name like an attachment's, so every folder and file
/// name in its path is a header-like segment (rejected whatever the
/// recipients): `attachment:sager.zip:filename:2024/Borger … .txt`.
fn scan_plain(ctx: &mut Ctx<'_>, archive: &mut Archive<'_>, location: &str, depth: usize) {
    let mut seen = std::collections::HashSet::new();
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
            let entry = File {
                bytes: &bytes,
                name: base,
                ctype: "",
                charset: None,
            };
            attach::scan(ctx, &entry, &loc, depth + 1);
        }
    }
}

/// One header-like segment per folder or file name in the entry path
/// `name`, each path prefix once per archive.
/// Both `/` and the `\` some Windows tools write separate the names.
fn push_names(
    ctx: &mut Ctx<'_>,
    location: &str,
    name: &str,
    seen: &mut std::collections::HashSet<String>,
) {
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
