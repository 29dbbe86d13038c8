//! Text as the recipient's client shows it, where the bytes on the wire are
//! not that text yet: `format=flowed` bodies are unflowed, iCalendar and
//! vCard values unfolded, RTF files stripped of their markup, and
//! uuencoded files inside a text read as the attachments they are.

use std::borrow::Cow;

use mail_parser::ContentType;

use super::dispatch::{self, Embedded};
use super::ground::{Cause, Ctx, File, SegmentKind};
use super::{flowed, ical, rtf, text, uuencode};

/// A decoded text body or attachment as it is shown.
pub(crate) fn as_shown<'t>(
    text: &Cow<'t, str>,
    ctype: &str,
    name: &str,
    declared: Option<&ContentType<'_>>,
) -> Cow<'t, str> {
    if ical::is_calendar(ctype, name) {
        return ical::unfold(text).into();
    }
    match flowed::Flowed::of(declared) {
        Some(how) => flowed::unflow(text, how).into(),
        None => text.clone(),
    }
}

/// A text file (attachment, archive entry): one attachment segment, plus
/// the uuencoded files inside it.
pub(crate) fn read(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str, depth: usize) {
    let calendar = ical::is_calendar(file.ctype, file.name);
    let rtf = rtf::is_rtf(file.bytes);
    if !calendar && !rtf && memchr::memmem::find(file.bytes, b"begin ").is_none() {
        return text::read(ctx, file, location);
    }
    let mut t = if rtf {
        rtf::to_text(file.bytes)
    } else {
        text::decode(file.bytes, file.charset)
    };
    if calendar {
        t = ical::unfold(&t);
    }
    if uuencode::may_contain(&t) {
        read_uuencoded(ctx, &t, location, depth + 1);
    }
    ctx.push(SegmentKind::Attachment, location.to_string(), t);
}

/// The uuencoded files in a text (`location` is the text's), each read as
/// a file of its own at `{location}/uuencoded:{name}`. Their names are
/// shown like attachment names.
pub(crate) fn read_uuencoded(ctx: &mut Ctx<'_>, text: &str, location: &str, depth: usize) {
    for block in uuencode::blocks(text, ctx.budget_left()) {
        ctx.charge(block.bytes.len() as u64);
        let loc = format!("{location}/uuencoded:{}", block.name);
        if !ctx.count_entry(&loc) {
            return;
        }
        ctx.push(
            SegmentKind::Header,
            format!("filename:{}", block.name),
            block.name.clone(),
        );
        if block.truncated {
            ctx.unscannable(
                &loc,
                Cause::Broken,
                "uuencoded block is cut off or malformed; read up to there",
            );
        }
        let file = File::entry(&block.bytes, &block.name);
        dispatch::embedded(ctx, Embedded::File(file), &loc, depth);
    }
}
