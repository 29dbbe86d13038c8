//! The state of one message's walk, shared by every reader: the limits and
//! the counts against them, the deadline, and the output so far.

use std::borrow::Cow;
use std::time::Instant;

use super::limits::Limits;
use super::output::{Cause, Extracted, Segment, SegmentKind, Unscannable};
use crate::extract::image_text::{ImageText, OcrSpend};

/// Hostile input can fail in many places; a few hundred reasons are enough
/// to judge it and keep memory bounded. Past the cap only a (cause, reason)
/// not seen yet is kept.
const MAX_UNSCANNABLE: usize = 256;

/// How many [`Ctx::tick`]s pass between two looks at the clock: readers
/// tick once per token, element or operator, and reading the clock costs
/// more than a token.
const TICKS_PER_CLOCK_READ: u32 = 1024;

/// State shared by every reader while one message is walked. `'t` is the
/// lifetime of the raw message that segments may borrow from.
pub(crate) struct Ctx<'t> {
    pub limits: Limits,
    deadline: Instant,
    timed_out: bool,
    ticks: u32,
    parts: Tally,
    entries: Tally,
    /// Bytes inflated so far (archives, PDF streams, nested base64 mails).
    inflated: u64,
    /// Reads text in images; `None` leaves images opaque.
    image_text: Option<&'t dyn ImageText>,
    ocr: OcrSpend,
    out: Extracted<'t>,
}

/// A count against a limit.
#[derive(Default)]
struct Tally(usize);

enum Step {
    Within,
    /// This one passed the limit: report it.
    JustOver,
    /// Already reported.
    StillOver,
}

impl Tally {
    fn bump(&mut self, max: usize) -> Step {
        self.0 += 1;
        match self.0.cmp(&max.saturating_add(1)) {
            std::cmp::Ordering::Less => Step::Within,
            std::cmp::Ordering::Equal => Step::JustOver,
            std::cmp::Ordering::Greater => Step::StillOver,
        }
    }
}

impl<'t> Ctx<'t> {
    pub fn new(limits: &Limits) -> Self {
        Ctx {
            limits: limits.clone(),
            deadline: Instant::now() + limits.timeout,
            timed_out: false,
            ticks: 0,
            parts: Tally::default(),
            entries: Tally::default(),
            inflated: 0,
            image_text: None,
            ocr: OcrSpend::default(),
            out: Extracted::default(),
        }
    }

    /// The walk hands images to `provider`.
    pub fn with_image_text(mut self, provider: Option<&'t dyn ImageText>) -> Self {
        self.image_text = provider;
        self
    }

    /// The provider that reads text in images, if any.
    pub fn image_text(&self) -> Option<&'t dyn ImageText> {
        self.image_text
    }

    /// Time until the extraction deadline.
    pub fn time_left(&self) -> std::time::Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// What OCR has cost this message so far.
    pub fn ocr_spend(&mut self) -> &mut OcrSpend {
        &mut self.ocr
    }

    /// The result of the walk.
    pub fn finish(self) -> Extracted<'t> {
        self.out
    }

    /// Records content at `location` that is present but was not read.
    pub fn unscannable(&mut self, location: &str, cause: Cause, reason: impl Into<String>) {
        let reason = reason.into();
        if self.out.unscannable.len() >= MAX_UNSCANNABLE
            && self
                .out
                .unscannable
                .iter()
                .any(|u| u.cause == cause && u.reason == reason)
        {
            return;
        }
        self.out.unscannable.push(Unscannable {
            location: location.to_string(),
            cause,
            reason,
        });
    }

    /// Adds a text to match against: the one way a segment is made. Blank
    /// text holds nothing to find and is dropped.
    pub fn push(&mut self, kind: SegmentKind, location: String, text: impl Into<Cow<'t, str>>) {
        self.push_segment(kind, location, text.into(), false);
    }

    /// [`Ctx::push`] for text recognised in an image (OCR), which the
    /// matcher reads with tolerance for OCR's letter/digit confusions.
    pub fn push_ocr(&mut self, kind: SegmentKind, location: String, text: String) {
        self.push_segment(kind, location, Cow::Owned(text), true);
    }

    fn push_segment(&mut self, kind: SegmentKind, location: String, text: Cow<'t, str>, ocr: bool) {
        if !text.trim().is_empty() {
            self.out.segments.push(Segment {
                kind,
                location,
                text,
                ocr,
            });
        }
    }

    /// Notes that really encrypted content (by its bytes) was present.
    pub fn saw_encrypted(&mut self) {
        self.out.encrypted = true;
    }

    /// True once the extraction deadline has passed; records it once.
    pub fn expired(&mut self, location: &str) -> bool {
        if self.timed_out {
            return true;
        }
        if Instant::now() >= self.deadline {
            self.timed_out = true;
            self.out.deadline_exceeded = true;
            let secs = self.limits.timeout.as_secs_f64();
            self.unscannable(
                location,
                Cause::Limit,
                format!("extraction took longer than {secs:.1} s"),
            );
        }
        self.timed_out
    }

    /// [`Ctx::expired`] for the inner loops of readers (one call per token
    /// or element): the clock is read every [`TICKS_PER_CLOCK_READ`] calls,
    /// so a timed-out message stops within a few microseconds of work.
    pub fn tick(&mut self, location: &str) -> bool {
        if self.timed_out {
            return true;
        }
        self.ticks += 1;
        if self.ticks < TICKS_PER_CLOCK_READ {
            return false;
        }
        self.ticks = 0;
        self.expired(location)
    }

    /// Counts one more MIME part; false past the limit (recorded once).
    pub fn count_part(&mut self, location: &str) -> bool {
        let max = self.limits.max_parts;
        let step = self.parts.bump(max);
        self.within(step, location, || format!("more than {max} MIME parts"))
    }

    /// Counts one more archive entry (over all archives of the message);
    /// false past the limit (recorded once).
    pub fn count_entry(&mut self, location: &str) -> bool {
        let max = self.limits.max_zip_entries;
        let step = self.entries.bump(max);
        self.within(step, location, || {
            format!("more than {max} archive entries")
        })
    }

    fn within(&mut self, step: Step, location: &str, reason: impl FnOnce() -> String) -> bool {
        match step {
            Step::Within => true,
            Step::JustOver => {
                self.unscannable(location, Cause::Limit, reason());
                false
            }
            Step::StillOver => false,
        }
    }

    /// Bytes that may still be inflated.
    pub fn budget_left(&self) -> u64 {
        self.limits
            .max_uncompressed_bytes
            .saturating_sub(self.inflated)
    }

    /// Charges `bytes` inflated (or decoded) against the message's budget.
    pub fn charge(&mut self, bytes: u64) {
        self.inflated = self.inflated.saturating_add(bytes);
    }

    /// False (recorded) when `depth` is past the nesting limit.
    pub fn depth_ok(&mut self, depth: usize, location: &str) -> bool {
        if depth > self.limits.max_depth {
            let max = self.limits.max_depth;
            self.unscannable(location, Cause::Limit, format!("nesting deeper than {max}"));
            return false;
        }
        true
    }
}
