//! The ground floor of extraction: the vocabulary every reader imports and
//! nothing else. It knows no format and calls no reader.
//!
//! - [`limits`]: the bounds one message is extracted under;
//! - [`output`]: what extraction produces (segments, unscannable content and
//!   its cause);
//! - [`file`]: a file handed to a reader;
//! - [`context`]: the state of one walk (counts against the limits, the
//!   deadline, the output so far), the one way to add a segment or report
//!   content that could not be read.

mod context;
mod file;
mod limits;
mod output;

pub(crate) use context::Ctx;
pub(crate) use file::File;
pub use limits::{extraction_budget, Limits};
pub use output::{Cause, Extracted, PerCause, Segment, SegmentKind, Unscannable};
