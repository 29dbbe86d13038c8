//! The only forms in which a found number may leave the detector: a mask that
//! keeps the birth day and month, and a keyed fingerprint.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `2410XX-XXXX`: day and month stay so a caseworker can recognise the case,
/// year and serial (which identify the person) never appear.
pub fn mask(digits: &[u8; 10]) -> String {
    let mut s = String::with_capacity(11);
    for &d in &digits[..4] {
        s.push(char::from(b'0' + d));
    }
    s.push_str("XX-XXXX");
    s
}

/// HMAC-SHA256 over the ten ASCII digits, hex, truncated to 16 characters
/// (64 bits): enough to confirm a suspected number, too short to be useful
/// without the key.
pub fn fingerprint(key: &[u8], digits: &[u8; 10]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    let ascii: Vec<u8> = digits.iter().map(|d| b'0' + d).collect();
    mac.update(&ascii);
    let out = mac.finalize().into_bytes();
    out.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_hides_year_and_serial() {
        assert_eq!(mask(&[2, 4, 1, 0, 8, 5, 1, 3, 3, 7]), "2410XX-XXXX");
    }

    #[test]
    fn fingerprint_is_keyed_and_stable() {
        let n = [2, 4, 1, 0, 8, 5, 1, 3, 3, 7];
        let a = fingerprint(b"k1", &n);
        assert_eq!(a.len(), 16);
        assert_eq!(a, fingerprint(b"k1", &n));
        assert_ne!(a, fingerprint(b"k2", &n));
    }
}
