//! TNEF (`winmail.dat`, `application/ms-tnef`, MS-OXTNEF): how Exchange and
//! Outlook send rich text to other mail systems. The body (plain, HTML or
//! compressed RTF) and the attachments are inside it; a client without TNEF
//! support shows one opaque file, Outlook recipients see everything.
//!
//! The stream is a signature and a list of attributes, each with a level
//! (message or attachment), an id, a length and a checksum; MAPI property
//! lists (`attMAPIProps`, `attAttachment`) carry the rest. Every length is
//! checked against what is left of the data before it is used, so a forged
//! length (4 GB) ends the reading with an `unscannable` entry, never an
//! allocation.

use super::dispatch::{self, Embedded};
use super::ground::{Cause, Ctx, File, SegmentKind};
use super::{html, rtf, text};

const SIGNATURE: [u8; 4] = 0x223E_9F78u32.to_le_bytes();

const ATT_SUBJECT: u16 = 0x8004;
const ATT_BODY: u16 = 0x800C;
const ATT_ATTACH_DATA: u16 = 0x800F;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_MAPI_PROPS: u16 = 0x9003;
const ATT_ATTACHMENT: u16 = 0x9005;

const PR_SUBJECT: u16 = 0x0037;
const PR_BODY: u16 = 0x1000;
const PR_RTF_COMPRESSED: u16 = 0x1009;
const PR_BODY_HTML: u16 = 0x1013;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_DISPLAY_NAME: u16 = 0x3001;

pub fn is_tnef(bytes: &[u8]) -> bool {
    bytes.starts_with(&SIGNATURE)
}

/// A bounds-checked reader over the data.
struct Cursor<'b> {
    data: &'b [u8],
    pos: usize,
}

impl<'b> Cursor<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        let left = self.data.len() - self.pos;
        if n > left {
            return Err(format!(
                "TNEF data declares {n} bytes at offset {}, only {left} left",
                self.pos
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn len(&mut self) -> Result<usize, String> {
        Ok(self.u32()? as usize)
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// One MAPI property value (the first, for multi-valued ones).
#[derive(Debug)]
struct Prop<'b> {
    id: u16,
    kind: u16,
    value: &'b [u8],
}

const PT_STRING8: u16 = 0x001E;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;
const PT_OBJECT: u16 = 0x000D;
const MV_FLAG: u16 = 0x1000;

fn fixed_size(kind: u16) -> Option<usize> {
    Some(match kind {
        0x0001 | 0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => 4,
        0x0005..=0x0007 | 0x0014 | 0x0040 => 8,
        0x0048 => 16,
        _ => return None,
    })
}

fn padded(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// A MAPI property list (MS-OXTNEF 2.1.3.4).
fn mapi_props(data: &[u8]) -> Result<Vec<Prop<'_>>, String> {
    let mut c = Cursor { data, pos: 0 };
    let count = c.u32()?;
    let mut props = Vec::new();
    for _ in 0..count {
        let kind = c.u16()?;
        let id = c.u16()?;
        if id >= 0x8000 {
            // Named property: GUID, then a number or a name.
            c.take(16)?;
            if c.u32()? == 1 {
                let n = c.len()?;
                c.take(padded(n))?;
            } else {
                c.take(4)?;
            }
        }
        let base = kind & !MV_FLAG;
        let values = if kind & MV_FLAG != 0
            || matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | PT_OBJECT)
        {
            c.u32()?
        } else {
            1
        };
        let mut first: Option<&[u8]> = None;
        for _ in 0..values {
            let v = match fixed_size(base) {
                Some(n) => c.take(n)?,
                None if matches!(base, PT_STRING8 | PT_UNICODE | PT_BINARY | PT_OBJECT) => {
                    let n = c.len()?;
                    let v = c.take(n)?;
                    c.take(padded(n) - n)?;
                    v
                }
                None => return Err(format!("unknown MAPI property type {kind:#06x}")),
            };
            first.get_or_insert(v);
        }
        props.push(Prop {
            id,
            kind: base,
            value: first.unwrap_or_default(),
        });
    }
    Ok(props)
}

fn prop_text(p: &Prop<'_>) -> String {
    match p.kind {
        PT_UNICODE => super::compound::utf16le(p.value),
        _ => text::decode(p.value, None).replace('\0', ""),
    }
}

/// An 8-bit TNEF string attribute (NUL-terminated).
fn att_string(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    text::decode(&data[..end], None)
}

#[derive(Default)]
struct Attachment<'b> {
    name: Option<String>,
    data: Option<&'b [u8]>,
    /// An attached message, itself TNEF.
    embedded: Option<&'b [u8]>,
}

/// Reads a TNEF stream: body texts at `{location}:subject|body|body.html|
/// body.rtf`, attachments at `{location}:{name}`.
pub fn read(ctx: &mut Ctx<'_>, bytes: &[u8], location: &str, depth: usize) {
    if !ctx.depth_ok(depth, location) {
        return;
    }
    let mut c = Cursor {
        data: bytes,
        pos: 4,
    };
    let mut attachments: Vec<Attachment<'_>> = Vec::new();
    let result = (|| -> Result<(), String> {
        c.u16()?; // key
        while !c.done() {
            if ctx.expired(location) {
                return Ok(());
            }
            let level = c.take(1)?[0];
            let att = c.u32()?;
            let n = c.len()?;
            let data = c.take(n)?;
            c.u16()?; // checksum (not checked: a bad one does not hide text)
            let id = att as u16;
            match (level, id) {
                (1, ATT_SUBJECT) => ctx.push(
                    SegmentKind::Attachment,
                    format!("{location}:subject"),
                    att_string(data),
                ),
                (1, ATT_BODY) => ctx.push(
                    SegmentKind::Attachment,
                    format!("{location}:body"),
                    att_string(data),
                ),
                (1, ATT_MAPI_PROPS) => message_props(ctx, data, location)?,
                (2, ATT_ATTACH_REND_DATA) => attachments.push(Attachment::default()),
                (2, ATT_ATTACH_TITLE) => {
                    if let Some(a) = attachments.last_mut() {
                        a.name.get_or_insert_with(|| att_string(data));
                    }
                }
                (2, ATT_ATTACH_DATA) => {
                    if let Some(a) = attachments.last_mut() {
                        a.data = Some(data);
                    }
                }
                (2, ATT_ATTACHMENT) => {
                    if let Some(a) = attachments.last_mut() {
                        for p in mapi_props(data)? {
                            match (p.id, p.kind) {
                                (PR_ATTACH_LONG_FILENAME, PT_STRING8 | PT_UNICODE) => {
                                    a.name = Some(prop_text(&p))
                                }
                                (PR_DISPLAY_NAME, PT_STRING8 | PT_UNICODE) => {
                                    a.name.get_or_insert_with(|| prop_text(&p));
                                }
                                // An object value starts with the interface id.
                                (PR_ATTACH_DATA, PT_OBJECT) => {
                                    a.embedded = p.value.get(16..);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        ctx.unscannable(location, Cause::Broken, e);
    }
    for (i, a) in attachments.iter().enumerate() {
        let name = a
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("attachment{i}"));
        let loc = format!("{location}:{name}");
        if !ctx.count_entry(&loc) {
            return;
        }
        ctx.push(
            SegmentKind::Attachment,
            format!("{loc}:filename"),
            name.clone(),
        );
        if let Some(inner) = a.embedded.filter(|b| is_tnef(b)) {
            read(ctx, inner, &loc, depth + 1);
        } else if let Some(data) = a.data.or(a.embedded) {
            let file = File {
                bytes: data,
                name: &name,
                ctype: "",
                charset: None,
            };
            dispatch::embedded(ctx, Embedded::File(file), &loc, depth + 1);
        }
    }
}

fn message_props(ctx: &mut Ctx<'_>, data: &[u8], location: &str) -> Result<(), String> {
    let props = mapi_props(data)?;
    let has_text_body = props
        .iter()
        .any(|p| matches!(p.id, PR_BODY | PR_BODY_HTML) && !p.value.is_empty());
    for p in &props {
        match (p.id, p.kind) {
            (PR_SUBJECT, PT_STRING8 | PT_UNICODE) => ctx.push(
                SegmentKind::Attachment,
                format!("{location}:subject"),
                prop_text(p),
            ),
            (PR_BODY, PT_STRING8 | PT_UNICODE) => ctx.push(
                SegmentKind::Attachment,
                format!("{location}:body"),
                prop_text(p),
            ),
            (PR_BODY_HTML, PT_STRING8 | PT_UNICODE | PT_BINARY) => ctx.push(
                SegmentKind::Attachment,
                format!("{location}:body.html"),
                html::html_to_text(&prop_text(p)),
            ),
            (PR_RTF_COMPRESSED, PT_BINARY) if !has_text_body => {
                rtf::push_compressed(ctx, p.value, &format!("{location}:body.rtf"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_lists_are_bounds_checked() {
        // One PT_BINARY value whose length says 4 GB.
        let mut p = 1u32.to_le_bytes().to_vec();
        p.extend(PT_BINARY.to_le_bytes());
        p.extend(PR_BODY_HTML.to_le_bytes());
        p.extend(1u32.to_le_bytes());
        p.extend(u32::MAX.to_le_bytes());
        assert!(mapi_props(&p).unwrap_err().contains("only 0 left"));
        // A short and a string.
        let mut p = 2u32.to_le_bytes().to_vec();
        p.extend([0x02, 0x00, 0x01, 0x00, 7, 0, 0, 0]);
        p.extend(PT_STRING8.to_le_bytes());
        p.extend(PR_SUBJECT.to_le_bytes());
        p.extend(1u32.to_le_bytes());
        p.extend(3u32.to_le_bytes());
        p.extend(b"Sag\0");
        let props = mapi_props(&p).unwrap();
        assert_eq!(prop_text(&props[1]), "Sag");
    }
}
