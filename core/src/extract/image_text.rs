//! Text in images: scanned pages and photographed forms sent as PNG, JPEG,
//! TIFF, GIF, JPEG 2000 or PNM (what PDF page images are turned into). The core never runs a process; the caller injects an
//! [`ImageText`] provider (the daemon's runs Tesseract) and extraction hands
//! it each image it meets, within a per-message budget of images and time.
//! Without a provider images stay opaque, as before.

use std::fmt;
use std::time::{Duration, Instant};

use super::ground::{Cause, Ctx, SegmentKind};

/// An image format the provider is handed, sniffed by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    /// `\x89PNG`.
    Png,
    /// JPEG/JFIF (`FF D8 FF`), also a PDF's DCTDecode stream.
    Jpeg,
    /// Either byte order.
    Tiff,
    /// GIF87a or GIF89a.
    Gif,
    /// JPEG 2000, as a JP2 file or a bare codestream (a PDF's JPXDecode).
    Jp2,
    /// Netpbm bitmap, graymap or pixmap (`P4`, `P5`, `P6`): a PDF image's
    /// raw samples with a header.
    Pnm,
}

impl ImageKind {
    /// The format of `bytes` by its magic bytes, if it is an image OCR reads.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(b"\xFF\xD8\xFF") {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(ImageKind::Tiff)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageKind::Gif)
        } else if bytes.starts_with(b"\0\0\0\x0cjP  \r\n\x87\n")
            || bytes.starts_with(b"\xFF\x4F\xFF\x51")
        {
            Some(ImageKind::Jp2)
        } else if matches!(bytes, [b'P', b'4'..=b'6', b'\n' | b' ' | b'\t' | b'\r', ..]) {
            Some(ImageKind::Pnm)
        } else {
            None
        }
    }

    /// The lower-case format name used in reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpeg",
            ImageKind::Tiff => "tiff",
            ImageKind::Gif => "gif",
            ImageKind::Jp2 => "jpeg2000",
            ImageKind::Pnm => "pnm",
        }
    }
}

/// How much OCR one message may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcrBudget {
    /// Images read per message; the rest are unscannable (limit).
    pub max_images: usize,
    /// Time spent in the provider per message, all images together.
    pub time: Duration,
}

impl Default for OcrBudget {
    fn default() -> Self {
        OcrBudget {
            max_images: 20,
            time: Duration::from_secs(10),
        }
    }
}

/// Why the provider read no text from an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcrError {
    /// The time it was given ran out (the provider stopped its work).
    TimedOut,
    /// Anything else: the engine failed, crashed or rejected the image.
    Failed(String),
}

impl fmt::Display for OcrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OcrError::TimedOut => f.write_str("text recognition timed out"),
            OcrError::Failed(why) => write!(f, "text recognition failed: {why}"),
        }
    }
}

/// Reads the text shown in an image. Shared by every transaction, so it
/// must be thread-safe; it must return within `time_left`.
pub trait ImageText: Send + Sync + fmt::Debug {
    /// The per-message budget the provider was configured with.
    fn budget(&self) -> OcrBudget;
    /// The text in `image`, or why there is none.
    fn read(&self, image: &[u8], kind: ImageKind, time_left: Duration) -> Result<String, OcrError>;
}

/// What OCR has cost the message so far.
#[derive(Default)]
pub(crate) struct OcrSpend {
    images: usize,
    time: Duration,
    over: bool,
}

/// Reads `image` at `location` through the walk's provider, if it has one.
pub(crate) fn read(ctx: &mut Ctx<'_>, image: &[u8], kind: ImageKind, location: &str) {
    let Some(provider) = ctx.image_text() else {
        return;
    };
    let budget = provider.budget();
    let Some(time_left) = admit(ctx.ocr_spend(), &budget) else {
        let spend = ctx.ocr_spend();
        if !spend.over {
            spend.over = true;
            let reason = format!(
                "text recognition budget spent ({} images or {} s per message)",
                budget.max_images,
                budget.time.as_secs()
            );
            ctx.unscannable(location, Cause::Limit, reason);
        } else {
            ctx.unscannable(location, Cause::Limit, "text recognition budget spent");
        }
        return;
    };
    // Never past the extraction deadline either: the provider stops there.
    let time_left = time_left.min(ctx.time_left());
    if time_left.is_zero() {
        ctx.expired(location);
        return;
    }
    let started = Instant::now();
    let result = provider.read(image, kind, time_left);
    let spend = ctx.ocr_spend();
    spend.images += 1;
    spend.time += started.elapsed();
    match result {
        Ok(text) => ctx.push_ocr(SegmentKind::Attachment, location.to_string(), text),
        Err(e @ OcrError::TimedOut) => ctx.unscannable(location, Cause::Limit, e.to_string()),
        Err(e) => ctx.unscannable(location, Cause::Broken, e.to_string()),
    }
}

/// Reads a picture stored inside a document (the media of a DOCX, XLSX or
/// PPTX, the pictures of an OpenDocument file) when it is an image OCR
/// reads and big enough to show a line of text; icons and bullets are left
/// alone rather than spending the message's OCR budget on them.
pub(crate) fn read_picture(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str) {
    let Some(kind) = ImageKind::sniff(bytes) else {
        return;
    };
    if let Some((w, h)) = dimensions(bytes, kind) {
        if w < MIN_TEXT_WIDTH || h < MIN_TEXT_HEIGHT {
            return;
        }
    }
    read(ctx, bytes, kind, location);
}

/// The smallest picture that can show a CPR number OCR reads (eleven
/// characters of about 8 pixels' height).
const MIN_TEXT_WIDTH: u32 = 64;
const MIN_TEXT_HEIGHT: u32 = 12;

/// Width and height from the image header, where it is cheap to find.
fn dimensions(b: &[u8], kind: ImageKind) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?));
    let be16 = |i: usize| Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as u32);
    match kind {
        ImageKind::Png => Some((be32(16)?, be32(20)?)),
        ImageKind::Gif => Some((le16(6)?, le16(8)?)),
        ImageKind::Jpeg => {
            // Walk the marker segments to the first start-of-frame.
            let mut i = 2;
            while i + 9 < b.len() {
                if b[i] != 0xFF {
                    return None;
                }
                let marker = b[i + 1];
                let len = be16(i + 2)? as usize;
                if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                i += 2 + len;
            }
            None
        }
        _ => None,
    }
}

/// The time the next image may take, or `None` once the budget is spent.
fn admit(spend: &OcrSpend, budget: &OcrBudget) -> Option<Duration> {
    if spend.images >= budget.max_images {
        return None;
    }
    let left = budget.time.saturating_sub(spend.time);
    (!left.is_zero()).then_some(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_come_from_png_gif_and_jpeg_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 4, 0, 0, 0, 0, 20]);
        assert_eq!(dimensions(&png, ImageKind::Png), Some((1024, 20)));
        let gif = b"GIF89a\x10\x00\x08\x00";
        assert_eq!(dimensions(gif, ImageKind::Gif), Some((16, 8)));
        // SOI, an APP0 segment of 16 bytes, then SOF0 with 600 x 800.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8, 0x03, 0x20, 0x02, 0x58, 1, 0, 0]);
        assert_eq!(dimensions(&jpeg, ImageKind::Jpeg), Some((600, 800)));
        assert_eq!(dimensions(&jpeg[..10], ImageKind::Jpeg), None);
        assert_eq!(
            ImageKind::sniff(b"P5\n2 2\n255\n...."),
            Some(ImageKind::Pnm)
        );
        assert_eq!(ImageKind::sniff(b"P5x"), None);
        assert_eq!(
            ImageKind::sniff(b"\xFF\x4F\xFF\x51rest"),
            Some(ImageKind::Jp2)
        );
    }
}
