//! The dotted date form `DD.MM.YY-SSSS` (`24.10.85-1337`): the date part of
//! a CPR number written the way Danish dates are. Ordinary text is full of
//! dotted dates followed by a dash and four digits (`01.02.24-0930`, a date
//! and a time), so the scorer accepts this shape only with a valid check
//! digit or a positive keyword next to it.
//!
//! The block scan in [`super::candidates`] skips runs shorter than six
//! digits, so this shape gets its own pass: it looks only at the dots of the
//! text and checks the few bytes around each.

use super::candidates::{Candidate, Sep};
use super::normalise::{self, NChar};

fn two_digits(b: &[u8], at: usize) -> Option<[u8; 2]> {
    match b.get(at..at + 2)? {
        [x, y] if x.is_ascii_digit() && y.is_ascii_digit() => Some([x - b'0', y - b'0']),
        _ => None,
    }
}

/// The dash between the year and the serial (any dash, optionally with one
/// blank either side) and where the serial starts.
fn dash_after(text: &str, pos: usize) -> Option<usize> {
    match normalise::next(text, pos)? {
        (NChar::Dash, _, e) => Some(e),
        (NChar::Space, _, e) => match normalise::next(text, e)? {
            (NChar::Dash, _, e2) => match normalise::next(text, e2)? {
                (NChar::Space, _, e3) => Some(e3),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// A dotted-date candidate whose first dot is at `dot`.
fn at(text: &str, dot: usize) -> Option<Candidate> {
    let b = text.as_bytes();
    let start = dot.checked_sub(2)?;
    let day = two_digits(b, start)?;
    let month = two_digits(b, dot + 1)?;
    if b.get(dot + 3) != Some(&b'.') {
        return None;
    }
    let year = two_digits(b, dot + 4)?;
    let serial_at = dash_after(text, dot + 6)?;
    let serial = b.get(serial_at..serial_at + 4)?;
    if !serial.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let end = serial_at + 4;
    // Not glued to a longer number or word on either side (`1.24.10.85`,
    // `24.10.85-13370`, `24.10.85-1337-2`).
    let before_ok = match normalise::prev(text, start) {
        None => true,
        Some((NChar::Digit(_) | NChar::Glued | NChar::Dot, _)) => false,
        Some((NChar::Dash | NChar::Slash | NChar::Comma, p)) => {
            !matches!(normalise::prev(text, p), Some((NChar::Digit(_), _)))
        }
        Some(_) => true,
    };
    let after_ok = match normalise::next(text, end) {
        None => true,
        Some((NChar::Digit(_) | NChar::Glued, _, _)) => false,
        Some((NChar::Dash | NChar::Dot | NChar::Slash | NChar::Comma, _, e)) => {
            !matches!(normalise::next(text, e), Some((NChar::Digit(_), _, _)))
        }
        Some(_) => true,
    };
    if !before_ok || !after_ok {
        return None;
    }
    let mut digits = [0u8; 10];
    digits[..2].copy_from_slice(&day);
    digits[2..4].copy_from_slice(&month);
    digits[4..6].copy_from_slice(&year);
    for (d, s) in digits[6..].iter_mut().zip(serial) {
        *d = s - b'0';
    }
    Some(Candidate {
        start,
        end,
        digits,
        sep: Sep::DottedDate,
    })
}

/// Every dotted-date candidate in `text`, in order.
pub fn candidates(text: &str) -> impl Iterator<Item = Candidate> + '_ {
    let b = text.as_bytes();
    let mut dots = memchr::memchr_iter(b'.', b);
    let mut from = 0;
    std::iter::from_fn(move || {
        for dot in dots.by_ref() {
            // The shape has a second dot three bytes on: most dots in prose
            // (sentence ends, times, prices) fail that at once.
            if dot < from || b.get(dot + 3) != Some(&b'.') {
                continue;
            }
            if let Some(c) = at(text, dot) {
                from = c.end;
                return Some(c);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(t: &str) -> Vec<&str> {
        candidates(t).map(|c| &t[c.start..c.end]).collect()
    }

    #[test]
    fn the_dotted_shape_with_any_dash() {
        assert_eq!(found("CPR 24.10.85-1337."), vec!["24.10.85-1337"]);
        assert_eq!(
            found("(24.10.85\u{2013}1337)"),
            vec!["24.10.85\u{2013}1337"]
        );
        assert_eq!(found("24.10.85 - 1337"), vec!["24.10.85 - 1337"]);
        let c = candidates("x 24.10.85-1337").next().unwrap();
        assert_eq!(c.digits, [2, 4, 1, 0, 8, 5, 1, 3, 3, 7]);
        assert_eq!(c.sep, Sep::DottedDate);
    }

    #[test]
    fn other_dotted_numbers_are_not_candidates() {
        for t in [
            "24.10.85",
            "24.10.1985-1337",
            "1.24.10.85-1337",
            "24.10.85-13370",
            "24.10.85-1337-2",
            "24.10.85-133",
            "a24.10.85-1337",
            "24.10.85-1337x",
            "2.10.85-1337",
            "24.10.85--1337",
            "...",
            ".",
        ] {
            assert!(found(t).is_empty(), "{t}");
        }
        assert_eq!(found("24.10.85-1337 og 29.02.00-4001").len(), 2);
    }
}
