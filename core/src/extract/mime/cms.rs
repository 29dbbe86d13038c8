//! The content inside S/MIME opaque-signed data: a CMS `ContentInfo` of
//! type signed-data carries the signed MIME entity as an OCTET STRING in
//! its `encapContentInfo`, readable without checking the signature (RFC
//! 5652 §5.1-5.2). DER as Outlook writes it and BER with indefinite lengths
//! and chunked strings as `openssl smime -stream` writes it are both read.

/// Nesting of BER values followed at most (a signed-data needs 6).
const MAX_DEPTH: usize = 24;

/// One BER value: its tag byte, its content, and the bytes it took.
struct Value<'a> {
    tag: u8,
    content: &'a [u8],
    len: usize,
}

/// The value at the start of `b` (low tag numbers only, which is all CMS
/// uses), definite or indefinite length.
fn value(b: &[u8], depth: usize) -> Option<Value<'_>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let tag = *b.first()?;
    if tag & 0x1F == 0x1F {
        return None;
    }
    let first = *b.get(1)?;
    if first == 0x80 {
        // Indefinite: constructed values up to the end-of-contents octets.
        if tag & 0x20 == 0 {
            return None;
        }
        let mut at = 2;
        loop {
            if b.get(at..at + 2)? == [0, 0] {
                return Some(Value {
                    tag,
                    content: &b[2..at],
                    len: at + 2,
                });
            }
            at += value(&b[at..], depth + 1)?.len;
        }
    }
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 {
            return None;
        }
        let len = b
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some(Value {
        tag,
        content: b.get(header..end)?,
        len: end,
    })
}

/// The values inside a constructed value's content, in order.
fn children(content: &[u8], depth: usize) -> Option<Vec<Value<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let v = value(rest, depth + 1)?;
        rest = &rest[v.len..];
        out.push(v);
    }
    Some(out)
}

/// The bytes of an OCTET STRING, primitive (0x04) or constructed (0x24,
/// chunks concatenated).
fn octets(v: &Value<'_>, depth: usize, out: &mut Vec<u8>) -> Option<()> {
    match v.tag {
        0x04 => out.extend_from_slice(v.content),
        0x24 => {
            for c in children(v.content, depth)? {
                octets(&c, depth + 1, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// The signed content of a signed-data `ContentInfo`, or why there is none
/// (a detached signature carries no content: the mail holds it elsewhere).
pub(super) fn signed_content(der: &[u8]) -> Result<Vec<u8>, &'static str> {
    const BROKEN: &str = "S/MIME signed data is malformed";
    let outer = value(der, 0).filter(|v| v.tag == 0x30).ok_or(BROKEN)?;
    // ContentInfo: contentType, [0] EXPLICIT SignedData.
    let info = children(outer.content, 0).ok_or(BROKEN)?;
    let explicit = info.get(1).filter(|v| v.tag == 0xA0).ok_or(BROKEN)?;
    let signed = children(explicit.content, 1)
        .and_then(|c| c.into_iter().next())
        .filter(|v| v.tag == 0x30)
        .ok_or(BROKEN)?;
    // SignedData: version, digestAlgorithms, encapContentInfo, ...
    let fields = children(signed.content, 2).ok_or(BROKEN)?;
    let encap = fields.get(2).filter(|v| v.tag == 0x30).ok_or(BROKEN)?;
    // EncapsulatedContentInfo: eContentType, [0] EXPLICIT eContent OPTIONAL.
    let encap = children(encap.content, 3).ok_or(BROKEN)?;
    let Some(content) = encap.get(1).filter(|v| v.tag == 0xA0) else {
        return Err("S/MIME signed data without content (a detached signature)");
    };
    let mut out = Vec::new();
    for v in children(content.content, 4).ok_or(BROKEN)? {
        octets(&v, 5, &mut out).ok_or(BROKEN)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A definite-length TLV.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    fn signed_data(econtent: Option<Vec<u8>>) -> Vec<u8> {
        let oid_data = tlv(
            0x06,
            &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01],
        );
        let oid_signed = tlv(
            0x06,
            &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02],
        );
        let mut encap = oid_data;
        if let Some(e) = econtent {
            encap.extend(tlv(0xA0, &e));
        }
        let mut sd = tlv(0x02, &[1]);
        sd.extend(tlv(0x31, &[]));
        sd.extend(tlv(0x30, &encap));
        sd.extend(tlv(0x31, &[]));
        let mut info = oid_signed;
        info.extend(tlv(0xA0, &tlv(0x30, &sd)));
        tlv(0x30, &info)
    }

    #[test]
    fn der_content_is_read() {
        let entity = b"Content-Type: text/plain\r\n\r\nCPR 241085-1337\r\n";
        let der = signed_data(Some(tlv(0x04, entity)));
        assert_eq!(signed_content(&der).unwrap(), entity);
    }

    #[test]
    fn ber_indefinite_lengths_and_chunks_are_read() {
        // [0] indefinite holding a constructed OCTET STRING of two chunks.
        let mut chunks = vec![0x24, 0x80];
        chunks.extend(tlv(0x04, b"Content-Type: text/plain\r\n\r\n"));
        chunks.extend(tlv(0x04, b"hej\r\n"));
        chunks.extend([0, 0]);
        let der = signed_data(Some(chunks));
        assert_eq!(
            signed_content(&der).unwrap(),
            b"Content-Type: text/plain\r\n\r\nhej\r\n"
        );
    }

    #[test]
    fn detached_truncated_and_hostile_structures_are_errors() {
        assert!(signed_content(&signed_data(None))
            .unwrap_err()
            .contains("detached"));
        let der = signed_data(Some(tlv(0x04, b"abc")));
        for cut in 0..der.len() {
            assert!(signed_content(&der[..cut]).is_err(), "cut at {cut}");
        }
        // Deeply nested indefinite values stop at the depth limit.
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend([0x30, 0x80]);
        }
        assert!(signed_content(&deep).is_err());
        assert!(signed_content(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
    }
}
