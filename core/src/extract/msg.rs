//! Outlook items (`.msg`, MS-OXMSG; what "attach as item" and drag-and-drop
//! of a mail produce): the subject, the plain and HTML bodies, the
//! recipients' names and addresses, and the item's own attachments, read
//! recursively (an attached item inside an item is a storage of its own).
//!
//! Every property is a stream named `__substg1.0_IIIITTTT` (property id and
//! type in hex) in the item's storage; recipients and attachments are
//! sub-storages.

use super::compound::{self as ole, Ole};
use super::dispatch::{self, Embedded};
use super::ground::{Ctx, File, SegmentKind};
use super::{html, text};

const SUBJECT: u16 = 0x0037;
const BODY: u16 = 0x1000;
const HTML_BODY: u16 = 0x1013;
const RTF_BODY: u16 = 0x1009;
const SENDER_NAME: u16 = 0x0C1A;
const DISPLAY_TO: u16 = 0x0E04;
const DISPLAY_CC: u16 = 0x0E03;
const DISPLAY_BCC: u16 = 0x0E02;
const DISPLAY_NAME: u16 = 0x3001;
const EMAIL_ADDRESS: u16 = 0x3003;
const SMTP_ADDRESS: u16 = 0x39FE;
const ATTACH_DATA: u16 = 0x3701;
const ATTACH_FILENAME: u16 = 0x3704;
const ATTACH_LONG_FILENAME: u16 = 0x3707;
const ATTACH_MIME_TAG: u16 = 0x370E;

const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const PT_OBJECT: u16 = 0x000D;

/// `__substg1.0_0037001F` → (0x0037, 0x001F)
fn property_of(name: &str) -> Option<(u16, u16)> {
    let hex = name.strip_prefix("__substg1.0_")?;
    if hex.len() != 8 {
        return None;
    }
    let tag = u32::from_str_radix(hex, 16).ok()?;
    Some(((tag >> 16) as u16, tag as u16))
}

/// The properties of one storage, read on demand.
struct Props {
    /// (id, type, path, is a stream)
    entries: Vec<(u16, u16, String, bool)>,
    sub_storages: Vec<(String, String)>,
}

impl Props {
    fn of(cf: &Ole<'_>, storage: &str) -> Props {
        let mut entries = Vec::new();
        let mut sub_storages = Vec::new();
        for (name, path, is_stream) in ole::entries(cf, storage) {
            match property_of(&name) {
                Some((id, ty)) => entries.push((id, ty, path, is_stream)),
                None if !is_stream => sub_storages.push((name, path)),
                None => {}
            }
        }
        Props {
            entries,
            sub_storages,
        }
    }

    fn find(&self, id: u16, types: &[u16]) -> Option<(u16, &str)> {
        types.iter().find_map(|&t| {
            self.entries
                .iter()
                .find(|(i, ty, _, s)| *i == id && *ty == t && *s)
                .map(|(_, ty, p, _)| (*ty, p.as_str()))
        })
    }

    /// A string property (Unicode preferred over 8-bit).
    fn string(&self, ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, id: u16, loc: &str) -> Option<String> {
        let (ty, path) = self.find(id, &[PT_UNICODE, PT_STRING8])?;
        let path = path.to_string();
        let bytes = ole::read_stream(ctx, cf, &path, loc)?;
        Some(if ty == PT_UNICODE {
            ole::utf16le(&bytes)
        } else {
            text::decode(&bytes, None).replace('\0', "")
        })
    }

    fn binary(&self, ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, id: u16, loc: &str) -> Option<Vec<u8>> {
        let (_, path) = self.find(id, &[PT_BINARY])?;
        let path = path.to_string();
        ole::read_stream(ctx, cf, &path, loc)
    }
}

/// Reads the item in `storage` ("/" for a .msg file itself).
pub fn read(ctx: &mut Ctx<'_>, cf: &mut Ole<'_>, storage: &str, location: &str, depth: usize) {
    if !ctx.depth_ok(depth, location) || ctx.expired(location) {
        return;
    }
    let props = Props::of(cf, storage);
    if let Some(subject) = props.string(ctx, cf, SUBJECT, location) {
        ctx.push(
            SegmentKind::Attachment,
            format!("{location}:subject"),
            subject,
        );
    }
    // Sender and the display lists, then each recipient's name and address.
    let mut names = Vec::new();
    for id in [SENDER_NAME, DISPLAY_TO, DISPLAY_CC, DISPLAY_BCC] {
        if let Some(s) = props.string(ctx, cf, id, location) {
            names.push(s);
        }
    }
    let mut has_body = false;
    if let Some(body) = props.string(ctx, cf, BODY, location) {
        has_body = !body.trim().is_empty();
        ctx.push(SegmentKind::Attachment, format!("{location}:body"), body);
    }
    let html_body = match props.binary(ctx, cf, HTML_BODY, location) {
        Some(bytes) => Some(text::decode(&bytes, None)),
        None => props.string(ctx, cf, HTML_BODY, location),
    };
    if let Some(h) = html_body {
        has_body |= !h.trim().is_empty();
        ctx.push(
            SegmentKind::Attachment,
            format!("{location}:body.html"),
            html::html_to_text(&h),
        );
    }
    if !has_body {
        if let Some(rtf) = props.binary(ctx, cf, RTF_BODY, location) {
            super::rtf::push_compressed(ctx, &rtf, &format!("{location}:body.rtf"));
        }
    }
    let mut recipients = Vec::new();
    let mut attachments = Vec::new();
    for (name, path) in &props.sub_storages {
        if name.starts_with("__recip_version1.0_") {
            recipients.push(path.clone());
        } else if name.starts_with("__attach_version1.0_") {
            attachments.push(path.clone());
        }
    }
    for path in recipients {
        if !ctx.count_entry(location) {
            return;
        }
        let r = Props::of(cf, &path);
        for id in [DISPLAY_NAME, SMTP_ADDRESS, EMAIL_ADDRESS] {
            if let Some(s) = r.string(ctx, cf, id, location) {
                names.push(s);
            }
        }
    }
    ctx.push(
        SegmentKind::Attachment,
        format!("{location}:recipients"),
        names.join("\n"),
    );
    for (i, path) in attachments.iter().enumerate() {
        if !ctx.count_entry(location) {
            return;
        }
        read_attachment(ctx, cf, path, i, location, depth);
    }
}

fn read_attachment(
    ctx: &mut Ctx<'_>,
    cf: &mut Ole<'_>,
    path: &str,
    index: usize,
    location: &str,
    depth: usize,
) {
    let a = Props::of(cf, path);
    let name = [ATTACH_LONG_FILENAME, ATTACH_FILENAME, DISPLAY_NAME]
        .into_iter()
        .find_map(|id| {
            a.string(ctx, cf, id, location)
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| format!("attachment{index}"));
    let loc = format!("{location}:attachment:{name}");
    ctx.push(
        SegmentKind::Attachment,
        format!("{loc}:filename"),
        name.clone(),
    );
    // An attached Outlook item is a storage holding a whole item.
    if let Some((_, _, sub, _)) = a
        .entries
        .iter()
        .find(|(id, ty, _, stream)| (*id, *ty, *stream) == (ATTACH_DATA, PT_OBJECT, false))
    {
        let sub = sub.clone();
        read(ctx, cf, &sub, &loc, depth + 1);
        return;
    }
    let mime = a
        .string(ctx, cf, ATTACH_MIME_TAG, &loc)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Some(bytes) = a.binary(ctx, cf, ATTACH_DATA, &loc) {
        let file = File {
            bytes: &bytes,
            name: &name,
            ctype: &mime,
            charset: None,
        };
        dispatch::embedded(ctx, Embedded::File(file), &loc, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names() {
        assert_eq!(property_of("__substg1.0_0037001F"), Some((0x0037, 0x001F)));
        assert_eq!(property_of("__substg1.0_3701000D"), Some((0x3701, 0x000D)));
        assert_eq!(property_of("__substg1.0_0037"), None);
        assert_eq!(property_of("__substg1.0_0037001G"), None);
        assert_eq!(property_of("__properties_version1.0"), None);
    }
}
