//! Content mail-parser could not decode: it hands over the encoded text as
//! it is. What still decodes is recovered, so a cut-off attachment is read
//! as far as it goes instead of being matched as base64 letters.

/// The bytes of every complete base64 quartet in `text` and of a final
/// partial one; characters outside the alphabet (line breaks, junk) are
/// skipped, padding ends the data.
pub(super) fn lenient_base64(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let (mut acc, mut sextets) = (0u32, 0u8);
    for &b in text {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = acc << 6 | u32::from(v);
        sextets += 1;
        if sextets == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            (acc, sextets) = (0, 0);
        }
    }
    match sextets {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lenient_base64;

    #[test]
    fn decodes_what_decodes() {
        assert_eq!(
            lenient_base64(b"SGVq\r\nIHZl\r\ncmRl\r\nbg=="),
            b"Hej verden"
        );
        // Cut inside a quartet: the whole bytes it still holds.
        assert_eq!(lenient_base64(b"SGVqIHZlcmRlbg"), b"Hej verden");
        // Junk between the letters is skipped.
        assert_eq!(lenient_base64(b"SGVqIH*!Zl"), b"Hej ve");
        assert!(lenient_base64(b"").is_empty());
    }
}
