//! The bounds that keep hostile input cheap.

use std::time::Duration;

/// Limits that keep hostile input bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// it is 80 % of `scan_timeout_seconds` (see [`extraction_budget`]).
    pub timeout: Duration,
}

/// Operators per PDF: a 60-page vector plan has ~5 million; the crafted
/// 63 MiB content stream that motivated the budget has ~20 million.
pub(crate) const DEFAULT_PDF_OPERATORS: u64 = 10_000_000;

impl Default for Limits {
    /// The configuration's defaults.
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024 * 1024,
            max_depth: 16,
            max_parts: 2_000,
            max_zip_entries: 1_000,
            max_uncompressed_bytes: 256 * 1024 * 1024,
            max_compression_ratio: 200,
            max_pdf_pages: 500,
            max_pdf_operators: DEFAULT_PDF_OPERATORS,
            timeout: extraction_budget(Duration::from_secs(30)),
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
pub fn extraction_budget(scan_timeout: Duration) -> Duration {
    scan_timeout * 4 / 5
}
