//! The bounds that keep hostile input cheap.

use std::time::Duration;

use crate::config::LimitSettings;

/// Limits that keep hostile input bounded.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest raw message extracted at all.
    pub max_message_bytes: u64,
    /// Nesting of messages and archives inside each other.
    pub max_depth: usize,
    /// MIME parts, counted over the whole message including nested ones.
    pub max_parts: usize,
    /// Entries read from one ZIP container (also DOCX/XLSX/ODF).
    pub max_zip_entries: usize,
    /// Bytes inflated from archives and PDF streams, over the whole message.
    pub max_uncompressed_bytes: u64,
    /// Inflated size / compressed size above which an entry is a bomb.
    pub max_compression_ratio: u64,
    /// Pages read from one PDF.
    pub max_pdf_pages: usize,
    /// Content-stream operators interpreted in one PDF (all pages). Text
    /// state is all that is kept, so this bounds the CPU a PDF can cost; a
    /// dense vector drawing has a few million.
    pub max_pdf_operators: u64,
    /// Wall-clock budget for extracting one message. From the configuration
    /// it is 80 % of `scan_timeout_seconds` (see `From<&LimitSettings>`).
    pub timeout: Duration,
}

/// Operators per PDF: a 60-page vector plan has ~5 million; the crafted
/// 63 MiB content stream that motivated the budget has ~20 million.
pub(crate) const DEFAULT_PDF_OPERATORS: u64 = 10_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits::from(&LimitSettings::default())
    }
}

impl From<&LimitSettings> for Limits {
    fn from(l: &LimitSettings) -> Self {
        Limits {
            max_message_bytes: l.max_message_bytes,
            max_depth: l.max_depth,
            max_parts: l.max_parts,
            max_zip_entries: l.max_zip_entries,
            max_uncompressed_bytes: l.max_uncompressed_bytes,
            max_compression_ratio: l.max_compression_ratio,
            max_pdf_pages: l.max_pdf_pages,
            max_pdf_operators: DEFAULT_PDF_OPERATORS,
            timeout: extraction_budget(l.scan_timeout_seconds),
        }
    }
}

/// The extraction deadline for a configured `scan_timeout_seconds`: 80 % of
/// it. The daemon runs the whole inspection under an outer timer of
/// `scan_timeout_seconds`; if both fired at the same moment the outer one
/// could win the race and answer before extraction had reported what it cut
/// short. Ending extraction clearly earlier leaves the remaining 20 % for
/// matching and the verdict, so the inner deadline (recorded as
/// `deadline_exceeded`) is what normally ends a slow scan.
fn extraction_budget(scan_timeout_seconds: u64) -> Duration {
    Duration::from_millis(scan_timeout_seconds.saturating_mul(800))
}
