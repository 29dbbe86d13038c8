//! Whether a part that claims to be encrypted or opaque-signed really is:
//! judged by its bytes (CMS structure and type OID, OpenPGP armour or
//! packets), because a label alone proves nothing and mislabelled text must
//! be scanned like any attachment.

use super::part::content_type_of;
use mail_parser::{Message, MimeHeaders, PartType};

/// What a part's cryptographic label turned out to be, judged by its bytes:
/// a label alone proves nothing (any text can be sent as
/// `application/pkcs7-mime`), and content that is not what it claims is
/// scanned like any attachment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Protection {
    None,
    /// S/MIME enveloped or authEnveloped data, or a multipart/encrypted
    /// whose payload is OpenPGP data.
    Encrypted,
    /// S/MIME signed-data (opaque signing): the content is inside the DER.
    OpaqueSigned,
    /// A DER CMS structure of another type (compressed-data …).
    UnknownCms,
}

/// id-envelopedData 1.2.840.113549.1.7.3 (OID content bytes).
const OID_ENVELOPED: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03];
/// id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.23.
const OID_AUTH_ENVELOPED: &[u8] = &[
    0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x17,
];
/// id-signedData 1.2.840.113549.1.7.2.
const OID_SIGNED: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];

pub(super) fn protection_of(msg: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Protection {
    let Some(ct) = part.content_type() else {
        return Protection::None;
    };
    let sub = ct.c_subtype.as_deref().unwrap_or("").to_ascii_lowercase();
    let ty = ct.c_type.to_ascii_lowercase();
    if ty == "multipart" && sub == "encrypted" {
        // RFC 3156: a control part (application/pgp-encrypted) and the
        // ciphertext. Every non-control child must be OpenPGP data.
        let PartType::Multipart(children) = &part.body else {
            return Protection::None;
        };
        let payloads: Vec<&[u8]> = children
            .iter()
            .filter_map(|&c| msg.parts.get(c as usize))
            .filter(|c| content_type_of(c) != "application/pgp-encrypted")
            .map(|c| c.contents())
            .collect();
        if !payloads.is_empty() && payloads.iter().all(|p| looks_like_pgp_message(p)) {
            return Protection::Encrypted;
        }
        return Protection::None;
    }
    if ty == "application" && (sub == "pkcs7-mime" || sub == "x-pkcs7-mime") {
        return match cms_content_type(part.contents()) {
            Some(oid) if oid == OID_ENVELOPED || oid == OID_AUTH_ENVELOPED => Protection::Encrypted,
            Some(oid) if oid == OID_SIGNED => Protection::OpaqueSigned,
            Some(_) => Protection::UnknownCms,
            None => Protection::None,
        };
    }
    Protection::None
}

/// The content-type OID (its content bytes) of a DER/BER CMS ContentInfo:
/// `SEQUENCE { OBJECT IDENTIFIER, [0] … }`. `None` when `bytes` does not
/// start like one.
fn cms_content_type(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.first() != Some(&0x30) {
        return None;
    }
    let len = *bytes.get(1)?;
    let oid_at = match len {
        // Short form, or BER indefinite length (0x80).
        0x00..=0x80 => 2,
        0x81..=0x84 => 2 + usize::from(len & 0x7F),
        _ => return None,
    };
    let oid = bytes.get(oid_at..)?;
    if oid.first() != Some(&0x06) {
        return None;
    }
    let n = usize::from(*oid.get(1)?);
    if n == 0 || n >= 0x80 {
        return None;
    }
    oid.get(2..2 + n)
}

/// ASCII-armoured (`-----BEGIN PGP MESSAGE-----`) or binary OpenPGP data
/// starting with an encrypted-session-key or encrypted-data packet.
fn looks_like_pgp_message(bytes: &[u8]) -> bool {
    let trimmed = trim_ascii_start(bytes);
    if trimmed.starts_with(b"-----BEGIN PGP MESSAGE-----") {
        return true;
    }
    // PKESK, SKESK, SED, SEIPD, AEAD-encrypted data.
    matches!(pgp_packet_tag(bytes), Some(1 | 3 | 9 | 18 | 20))
}

/// The tag of the OpenPGP packet `bytes` starts with (RFC 4880 §4.2: old
/// and new header formats), if the first byte is a packet header at all.
fn pgp_packet_tag(bytes: &[u8]) -> Option<u8> {
    let first = *bytes.first()?;
    if first & 0x80 == 0 {
        None
    } else if first & 0x40 != 0 {
        Some(first & 0x3F)
    } else {
        Some((first >> 2) & 0x0F)
    }
}

/// Parts that only carry cryptographic plumbing, recognised by their
/// content as well as their type: the PGP/MIME control part, detached
/// signatures. Text sent under one of these labels is scanned.
pub(super) fn is_crypto_control(ctype: &str, bytes: &[u8]) -> bool {
    let trimmed = trim_ascii_start(bytes);
    match ctype {
        "application/pgp-encrypted" => {
            (bytes.len() <= 256 && trimmed.starts_with(b"Version:")) || trimmed.is_empty()
        }
        "application/pgp-signature" => {
            trimmed.starts_with(b"-----BEGIN PGP SIGNATURE-----")
                || pgp_packet_tag(bytes) == Some(2)
        }
        "application/pkcs7-signature" | "application/x-pkcs7-signature" => {
            cms_content_type(bytes) == Some(OID_SIGNED)
        }
        _ => false,
    }
}

fn trim_ascii_start(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}
