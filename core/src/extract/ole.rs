//! OLE compound files: an encrypted OOXML document (password-protected
//! Word/Excel/PowerPoint) or a legacy binary Office file. Neither is read
//! here; both are reported so the policy sees them.

use super::ground::{Cause, Ctx, File};
use super::sniff;

pub(crate) fn read(ctx: &mut Ctx<'_>, file: &File<'_>, location: &str) {
    let utf16: Vec<u8> = "EncryptionInfo"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    if sniff::position_of(file.bytes, &utf16).is_some() {
        ctx.unscannable(
            location,
            Cause::Encrypted,
            "password-protected Office document",
        );
        return;
    }
    let ext = sniff::extension(file.name);
    if matches!(ext.as_str(), "doc" | "xls" | "ppt" | "dot" | "xlt" | "pps")
        || file.ctype.contains("ms")
    {
        ctx.unscannable(
            location,
            Cause::Unsupported,
            "legacy binary Office format is not extracted",
        );
    }
}
