//! Candidate finding: `D6 SEP? D4` with SEP one of `-`, ` - `, ` `, `.`, `/`
//! (after normalisation), not glued to letters, digits, `_` or `+`, and not a
//! piece of a longer `digits-digits` chain (order numbers, date ranges,
//! decimals).
//!
//! The scan skips eight bytes at a time to the next ASCII digit (or the lead
//! byte of a full-width digit) and only then looks at characters one by one,
//! so ordinary prose costs a few instructions per eight bytes.

use super::normalise::{self, NChar};

/// How the two digit groups were separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sep {
    /// `2410851337`
    None,
    /// `241085-1337` (any dash)
    Hyphen,
    /// `241085 - 1337`
    SpacedHyphen,
    /// `241085 1337`
    Space,
    /// `241085.1337`
    Dot,
    /// `241085/1337`
    Slash,
    /// `24.10.85-1337`: the date part written as a dotted date (found by
    /// [`super::dotted`]).
    DottedDate,
}

impl Sep {
    /// The separators that make a number look like it was written as a CPR
    /// number on purpose.
    pub fn is_hyphen(self) -> bool {
        matches!(self, Sep::Hyphen | Sep::SpacedHyphen)
    }
}

/// A ten-digit shape that passed the boundary rules (not yet validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Byte offset of the first digit in the original text.
    pub start: usize,
    /// Byte offset just after the last digit.
    pub end: usize,
    pub digits: [u8; 10],
    pub sep: Sep,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte of the result is set where `w` holds an ASCII digit or
/// the byte 0xEF (lead byte of full-width digits). Exact for the lowest set
/// byte, which is all the caller uses.
#[inline(always)]
fn stop_mask(w: u64) -> u64 {
    let low7 = w & !HI;
    let ge30 = low7.wrapping_add(LO * 0x50);
    let ge3a = low7.wrapping_add(LO * 0x46);
    let digit = ge30 & !ge3a & !w & HI;
    let x = w ^ (LO * 0xEF);
    let ef = x.wrapping_sub(LO) & !x & HI;
    digit | ef
}

/// Position of the next ASCII digit or 0xEF byte at or after `i`.
#[inline]
fn find_stop(b: &[u8], mut i: usize) -> Option<usize> {
    while i + 16 <= b.len() {
        let w0 = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let w1 = u64::from_le_bytes(b[i + 8..i + 16].try_into().expect("8 bytes"));
        let (m0, m1) = (stop_mask(w0), stop_mask(w1));
        if m0 | m1 != 0 {
            return Some(if m0 != 0 {
                i + (m0.trailing_zeros() / 8) as usize
            } else {
                i + 8 + (m1.trailing_zeros() / 8) as usize
            });
        }
        i += 16;
    }
    b[i..]
        .iter()
        .position(|&c| c.is_ascii_digit() || c == 0xEF)
        .map(|p| i + p)
}

/// Bytes looked at per block, and how far a block advances: a block decides
/// for positions 0..=58 whether six digits start there, so consecutive
/// blocks overlap by five bytes and no run or adjacent pair is missed.
const BLOCK: usize = 64;
const STRIDE: usize = BLOCK - 5;

/// Per-byte bitmasks of one 64-byte block: ASCII digits, bytes >= 0x80, and
/// 0xEF (lead byte of full-width digits and of U+FEFF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BlockMasks {
    digit: u64,
    high: u64,
    ef: u64,
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_masks(chunk: &[u8; BLOCK]) -> BlockMasks {
    use std::arch::x86_64::*;
    let (mut digit, mut high, mut ef) = (0u64, 0u64, 0u64);
    for k in 0..BLOCK / 16 {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics
        // are always available; `chunk` has 64 bytes, so the unaligned load
        // of bytes 16k..16k+16 stays in bounds.
        let (d, h, e) = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k).cast::<__m128i>());
            let t = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
            let d = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t);
            let e = _mm_cmpeq_epi8(v, _mm_set1_epi8(0xEFu8 as i8));
            (
                _mm_movemask_epi8(d),
                _mm_movemask_epi8(v),
                _mm_movemask_epi8(e),
            )
        };
        digit |= u64::from(d as u16) << (16 * k);
        high |= u64::from(h as u16) << (16 * k);
        ef |= u64::from(e as u16) << (16 * k);
    }
    BlockMasks { digit, high, ef }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn block_masks(chunk: &[u8; BLOCK]) -> BlockMasks {
    block_masks_swar(chunk)
}

/// Portable version: eight bytes at a time, high bits gathered into one
/// bit per byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn block_masks_swar(chunk: &[u8; BLOCK]) -> BlockMasks {
    fn gather(m: u64) -> u64 {
        ((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
    }
    let (mut digit, mut high, mut ef) = (0u64, 0u64, 0u64);
    for k in 0..BLOCK / 8 {
        let w = u64::from_le_bytes(chunk[8 * k..8 * k + 8].try_into().expect("8 bytes"));
        let low7 = w & !HI;
        let ge30 = low7.wrapping_add(LO * 0x50);
        let ge3a = low7.wrapping_add(LO * 0x46);
        let d = ge30 & !ge3a & !w & HI;
        // Exact per byte: no byte of `x | HI` minus 1 can borrow.
        let x = w ^ (LO * 0xEF);
        let e = !(((x & !HI).wrapping_add(!HI & (LO * 0x7F))) | x) & HI;
        digit |= gather(d) << (8 * k);
        high |= gather(w & HI) << (8 * k);
        ef |= gather(e) << (8 * k);
    }
    BlockMasks { digit, high, ef }
}

/// Where in a block (positions 0..=58) a digit run worth parsing may start:
/// runs of at least six ASCII digits; shorter runs directly followed by a
/// non-ASCII byte (a zero-width character or soft hyphen may continue the
/// number, or a Unicode separator follows); and 0xEF bytes (full-width
/// digits). Everything else (short numbers in dates, prices, times, phone
/// numbers) is skipped without a look.
#[inline(always)]
fn starts(m: BlockMasks) -> u64 {
    let d = m.digit;
    let run6 = d & (d >> 1) & (d >> 2) & (d >> 3) & (d >> 4) & (d >> 5);
    // Last digit of a run whose next byte is non-ASCII, flooded back over
    // up to five more digits to the run's start.
    let mut r = d & !(d >> 1) & (m.high >> 1);
    for _ in 0..5 {
        r |= (r >> 1) & d;
    }
    let short = r & !(d << 1);
    (run6 | short | m.ef) & ((1u64 << STRIDE) - 1)
}

/// A maximal run of (normalised) digits starting at `pos`.
struct Run {
    len: usize,
    digits: [u8; 10],
    end: usize,
}

#[inline]
fn read_run(text: &str, pos: usize) -> Run {
    let b = text.as_bytes();
    let mut run = Run {
        len: 0,
        digits: [0; 10],
        end: pos,
    };
    let mut i = pos;
    loop {
        // ASCII fast path.
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            if run.len < 10 {
                run.digits[run.len] = c - b'0';
            }
            run.len += 1;
            i += 1;
        }
        run.end = i;
        match b.get(i) {
            Some(&c) if c >= 0x80 => match normalise::next(text, i) {
                Some((NChar::Digit(d), _, e)) => {
                    if run.len < 10 {
                        run.digits[run.len] = d;
                    }
                    run.len += 1;
                    i = e;
                }
                _ => return run,
            },
            _ => return run,
        }
    }
}

fn is_chain_sep(k: NChar) -> bool {
    matches!(k, NChar::Dash | NChar::Dot | NChar::Slash | NChar::Comma)
}

/// The separator after the first six digits and where the second group
/// starts.
fn separator(text: &str, pos: usize) -> Option<(Sep, usize)> {
    let (k, _, e) = normalise::next(text, pos)?;
    match k {
        NChar::Digit(_) => None,
        NChar::Dash => Some((Sep::Hyphen, e)),
        NChar::Dot => Some((Sep::Dot, e)),
        NChar::Slash => Some((Sep::Slash, e)),
        NChar::Space => match normalise::next(text, e)? {
            (NChar::Digit(_), s, _) => Some((Sep::Space, s)),
            (NChar::Dash, _, e2) => match normalise::next(text, e2)? {
                (NChar::Space, _, e3) => Some((Sep::SpacedHyphen, e3)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Boundary rule before the first digit.
fn clean_before(text: &str, start: usize) -> bool {
    match normalise::prev(text, start) {
        None => true,
        Some((NChar::Digit(_) | NChar::Glued, _)) => false,
        Some((k, p)) if is_chain_sep(k) => {
            !matches!(normalise::prev(text, p), Some((NChar::Digit(_), _)))
        }
        Some(_) => true,
    }
}

/// Boundary rule after the last digit.
fn clean_after(text: &str, end: usize) -> bool {
    match normalise::next(text, end) {
        None => true,
        Some((NChar::Digit(_) | NChar::Glued, _, _)) => false,
        Some((k, _, e)) if is_chain_sep(k) => {
            !matches!(normalise::next(text, e), Some((NChar::Digit(_), _, _)))
        }
        Some(_) => true,
    }
}

/// Every candidate in `text`, in order.
pub struct Candidates<'a> {
    text: &'a str,
    pos: usize,
    /// From here on (the last partial block) every digit is a stop.
    careful_from: usize,
}

impl<'a> Candidates<'a> {
    pub fn new(text: &'a str) -> Self {
        Candidates {
            text,
            pos: 0,
            careful_from: usize::MAX,
        }
    }

    /// The next position where a digit run worth parsing starts: block by
    /// block through [`starts`], then stop at every digit in the last
    /// partial block.
    #[inline]
    fn next_start(&mut self) -> Option<usize> {
        let b = self.text.as_bytes();
        loop {
            let i = if self.pos >= self.careful_from {
                find_stop(b, self.pos)?
            } else {
                let Some(chunk) = b.get(self.pos..self.pos + BLOCK) else {
                    self.careful_from = self.pos;
                    continue;
                };
                let s = starts(block_masks(chunk.try_into().expect("64 bytes")));
                if s == 0 {
                    self.pos += STRIDE;
                    continue;
                }
                self.pos + s.trailing_zeros() as usize
            };
            // Full-width digits are EF BC 90..99; other EF sequences are not.
            if b[i] == 0xEF
                && !(b.get(i + 1) == Some(&0xBC)
                    && b.get(i + 2).is_some_and(|c| (0x90..=0x99).contains(c)))
            {
                self.pos = i + 1;
                continue;
            }
            return Some(i);
        }
    }
}

impl Iterator for Candidates<'_> {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        let text = self.text;
        loop {
            let i = self.next_start()?;
            let run = read_run(text, i);
            self.pos = run.end;
            let (digits, sep, end) = match run.len {
                10 => (run.digits, Sep::None, run.end),
                6 => {
                    let Some((sep, s2)) = separator(text, run.end) else {
                        continue;
                    };
                    let run2 = read_run(text, s2);
                    if run2.len != 4 {
                        continue;
                    }
                    let mut d = run.digits;
                    d[6..].copy_from_slice(&run2.digits[..4]);
                    (d, sep, run2.end)
                }
                _ => continue,
            };
            self.pos = end;
            if !clean_before(text, i) || !clean_after(text, end) {
                continue;
            }
            return Some(Candidate {
                start: i,
                end,
                digits,
                sep,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(t: &str) -> Vec<(&str, Sep)> {
        Candidates::new(t)
            .map(|c| (&t[c.start..c.end], c.sep))
            .collect()
    }

    #[test]
    fn stop_mask_finds_digits_and_ef() {
        for (i, c) in [b'0', b'9', 0xEF].into_iter().enumerate() {
            let mut w = [b'a'; 8];
            w[i + 3] = c;
            let m = stop_mask(u64::from_le_bytes(w));
            assert_eq!(m.trailing_zeros() / 8, (i + 3) as u32);
        }
        for c in [b'/', b':', 0xB0, 0xC3, 0xEE, 0xF0, b' '] {
            assert_eq!(stop_mask(u64::from_le_bytes([c; 8])), 0, "{c:#x}");
        }
    }

    #[test]
    fn block_masks_and_starts() {
        let mut chunk = [b'a'; BLOCK];
        chunk[10..16].copy_from_slice(b"241085");
        chunk[30] = 0xC3;
        chunk[40..44].copy_from_slice(b"1234");
        let m = block_masks(&chunk);
        assert_eq!(m.digit, (0x3F << 10) | (0xF << 40));
        assert_eq!(m.high, 1 << 30);
        assert_eq!(m.ef, 0);
        assert_eq!(starts(m), 1 << 10);
        chunk[44] = 0xE2;
        assert_eq!(
            starts(block_masks(&chunk)),
            (1 << 10) | (1 << 40),
            "run before a high byte"
        );
        chunk[44] = b'a';
        chunk[50] = 0xEF;
        let m = block_masks(&chunk);
        assert_eq!(m.ef, 1 << 50);
        assert_eq!(starts(m), (1 << 10) | (1 << 50));
        chunk[57..63].copy_from_slice(b"123456");
        assert_eq!(starts(block_masks(&chunk)) >> 57, 1);
        chunk[59] = b'x';
        assert_eq!(
            starts(block_masks(&chunk)) >> 51,
            0,
            "nothing past the stride"
        );
    }

    #[test]
    fn portable_masks_agree_with_simd() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let alphabet = b"0123456789 -./aZ\x80\xc3\xa5\xe2\xef\xbc\x99\xff";
        for _ in 0..2000 {
            let mut chunk = [0u8; BLOCK];
            for c in chunk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *c = alphabet[(x % alphabet.len() as u64) as usize];
            }
            assert_eq!(block_masks(&chunk), block_masks_swar(&chunk), "{chunk:?}");
        }
    }

    #[test]
    fn runs_across_block_boundaries() {
        for pad in 0..140 {
            let t = format!(
                "{}Borger 241085-1337 og 2410\u{200B}851337 og ２４１０８５１３３７.",
                "x ".repeat(pad)
            );
            assert_eq!(Candidates::new(&t).count(), 3, "pad {pad}");
            let t = format!(
                "{}1234 12345 2410851337 {}",
                "ab".repeat(pad),
                "y".repeat(pad)
            );
            assert_eq!(shapes(&t), vec![("2410851337", Sep::None)], "pad {pad}");
        }
    }

    #[test]
    fn separators() {
        assert_eq!(
            shapes("a 241085-1337 b"),
            vec![("241085-1337", Sep::Hyphen)]
        );
        assert_eq!(
            shapes("241085 - 1337"),
            vec![("241085 - 1337", Sep::SpacedHyphen)]
        );
        assert_eq!(shapes("241085 1337"), vec![("241085 1337", Sep::Space)]);
        assert_eq!(shapes("241085.1337."), vec![("241085.1337", Sep::Dot)]);
        assert_eq!(shapes("(241085/1337)"), vec![("241085/1337", Sep::Slash)]);
        assert_eq!(shapes("2410851337"), vec![("2410851337", Sep::None)]);
        assert_eq!(shapes("241085\u{2013}1337").len(), 1);
        assert_eq!(shapes("２４１０８５\u{00A0}１３３７").len(), 1);
    }

    #[test]
    fn boundaries() {
        for t in [
            "x241085-1337",
            "241085-1337x",
            "_2410851337",
            "+2410851337",
            "2410851337_",
            "12410851337",
            "24108513370",
            "2024-241085-1337",
            "241085-1337-02",
            "241085-241185",
            "1.241085-1337",
            "2410851337,50",
            "241085--1337",
            "241085  1337",
            "24108-51337",
            "ø2410851337",
        ] {
            assert!(shapes(t).is_empty(), "{t}");
        }
        for t in [
            "(2410851337)",
            "\"2410851337\"",
            "2410851337.",
            "2410851337, og",
            "nr.2410851337",
            "CPR:2410851337",
        ] {
            assert_eq!(shapes(t).len(), 1, "{t}");
        }
    }
}
