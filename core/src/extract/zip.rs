//! ZIP containers under hard limits: the bounded access that the OOXML, ODF
//! and plain-archive readers share.
//!
//! Zip bombs are stopped twice: by the declared sizes in the central
//! directory before anything is inflated, and by counting the bytes actually
//! inflated against a hard cap (declared sizes can lie).

use std::io::{Cursor, Read};

use ::zip::ZipArchive;

use super::ground::{Cause, Ctx};

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

/// What a ZIP container holds, told by its entries.
pub enum Flavour {
    /// DOCX, XLSX, PPTX (and their macro and template variants).
    Ooxml,
    /// ODT, ODS, ODP.
    Odf,
    /// Any other archive: every entry is a file of its own.
    Plain,
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
                ctx.unscannable(location, Cause::Broken, format!("broken ZIP archive: {e}"));
                return None;
            }
        };
        let max = ctx.limits.max_zip_entries;
        if zip.len() > max {
            ctx.unscannable(
                location,
                Cause::Limit,
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

    pub fn flavour(&self) -> Flavour {
        if self.index_of("[Content_Types].xml").is_some() {
            Flavour::Ooxml
        } else if self.index_of("mimetype").is_some() && self.index_of("content.xml").is_some() {
            Flavour::Odf
        } else {
            Flavour::Plain
        }
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
                ctx.unscannable(&loc, Cause::Broken, format!("unreadable ZIP entry: {e}"));
                return Err(Skip::Recorded);
            }
        };
        if encrypted {
            ctx.unscannable(&loc, Cause::Encrypted, "password-protected ZIP entry");
            return Err(Skip::Recorded);
        }
        let ratio = ctx.limits.max_compression_ratio;
        let ratio_cap = compressed.saturating_mul(ratio).max(RATIO_FLOOR);
        if declared > ratio_cap {
            ctx.unscannable(
                &loc,
                Cause::Limit,
                format!("compression ratio above {ratio} (zip bomb?)"),
            );
            return Err(Skip::Recorded);
        }
        let budget = ctx.budget_left();
        if declared > budget {
            let max = ctx.limits.max_uncompressed_bytes;
            ctx.unscannable(
                &loc,
                Cause::Limit,
                format!("more than {max} bytes uncompressed in total"),
            );
            return Err(Skip::Recorded);
        }
        let cap = budget.min(ratio_cap);
        let file = match self.zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                ctx.unscannable(&loc, Cause::Broken, format!("unreadable ZIP entry: {e}"));
                return Err(Skip::Recorded);
            }
        };
        let mut data = Vec::with_capacity(declared.min(cap).min(64 * 1024 * 1024) as usize);
        let read = read_bounded(ctx, &loc, file.take(cap.saturating_add(1)), &mut data);
        ctx.charge(data.len() as u64);
        if ctx.expired(&loc) {
            return Err(Skip::Recorded);
        }
        if data.len() as u64 > cap {
            let reason = if cap == ratio_cap {
                format!("compression ratio above {ratio} (zip bomb?)")
            } else {
                format!(
                    "more than {} bytes uncompressed in total",
                    ctx.limits.max_uncompressed_bytes
                )
            };
            ctx.unscannable(&loc, Cause::Limit, reason);
            return Err(Skip::Recorded);
        }
        if let Err(e) = read {
            ctx.unscannable(&loc, Cause::Broken, format!("damaged ZIP entry: {e}"));
            return Err(Skip::Recorded);
        }
        Ok(data)
    }
}

/// Inflating is read in chunks of this size, the deadline checked between
/// them: a 256 MiB entry takes about a second to inflate.
const CHUNK: usize = 1024 * 1024;

/// `read_to_end` that stops (with what it has) once the deadline passed.
fn read_bounded(
    ctx: &mut Ctx<'_>,
    loc: &str,
    mut from: impl Read,
    data: &mut Vec<u8>,
) -> std::io::Result<()> {
    loop {
        if ctx.expired(loc) {
            return Ok(());
        }
        let n = (&mut from).take(CHUNK as u64).read_to_end(data)?;
        if n < CHUNK {
            return Ok(());
        }
    }
}
