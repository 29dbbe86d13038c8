//! Property tests for the detector. Every number is generated from the
//! rules (date, century digit, mod-11 check digit): synthetic, never a real
//! person's.

use cpr_milter_core::cpr::normalise::normalise;
use cpr_milter_core::cpr::validate::{self, Date};
use cpr_milter_core::cpr::{decide, Detector, DetectorSettings};
use cpr_milter_core::Confidence::{self, High, Medium};
use proptest::prelude::*;

const TODAY: Date = Date::new(2026, 11, 23);

fn detector() -> Detector {
    Detector::new(DetectorSettings {
        today: TODAY,
        ..Default::default()
    })
}

// ---- an independent, table-driven date and century model ----------------------

/// (7th digits, yy range, century) — docs/design.md as a table.
const CENTURY_TABLE: &[(&[u8], u32, u32, i32)] = &[
    (&[0, 1, 2, 3], 0, 99, 1900),
    (&[4, 9], 0, 36, 2000),
    (&[4, 9], 37, 99, 1900),
    (&[5, 6, 7, 8], 0, 57, 2000),
    (&[5, 6, 7, 8], 58, 99, 1800),
];

const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

fn table_year(yy: u32, d7: u8) -> i32 {
    let row = CENTURY_TABLE
        .iter()
        .find(|(ds, lo, hi, _)| ds.contains(&d7) && (*lo..=*hi).contains(&yy));
    row.expect("table covers every digit and year").3 + yy as i32
}

fn table_month_days(year: i32, month: u32) -> u32 {
    let leap = year % 400 == 0 || (year % 100 != 0 && year % 4 == 0);
    MONTH_DAYS[month as usize - 1] + u32::from(month == 2 && leap)
}

/// Every calendar date 1858-01-01..=2057-12-31, by walking the month table.
fn all_dates() -> Vec<Date> {
    let mut out = Vec::new();
    for year in 1858..=2057 {
        for month in 1..=12 {
            for day in 1..=table_month_days(year, month) {
                out.push(Date::new(year, month, day));
            }
        }
    }
    out
}

fn digits_of(s: &str) -> [u8; 10] {
    let mut d = [0u8; 10];
    for (o, c) in d.iter_mut().zip(s.bytes()) {
        *o = c - b'0';
    }
    d
}

#[test]
fn validator_agrees_with_table_for_every_date_1858_to_2057() {
    let dates = all_dates();
    assert_eq!(dates.len(), 73_049);
    // The walk agrees with the epoch-day algorithm too.
    let epoch_1858 = -40_907; // days from 1970-01-01 back to 1858-01-01
    for (i, d) in dates.iter().enumerate() {
        assert_eq!(Date::from_days_since_epoch(epoch_1858 + i as i64), *d);
    }
    for d in &dates {
        let yy = (d.year % 100) as u32;
        for d7 in 0..=9u8 {
            for replacement in [false, true] {
                let day = d.day + if replacement { 60 } else { 0 };
                let s = format!("{:02}{:02}{:02}{}000", day, d.month, yy, d7);
                let got = validate::validate(&digits_of(&s), TODAY);
                let year = table_year(yy, d7);
                let expect = year == d.year && *d <= TODAY;
                // A date of another century with the same yy may still be
                // valid (e.g. 29 Feb); judge against the century the table picks.
                let expect_any = {
                    let in_century = Date::new(year, d.month, d.day);
                    d.day <= table_month_days(year, d.month) && in_century <= TODAY
                };
                assert_eq!(got.is_some(), expect_any, "{s}");
                if expect {
                    let v = got.unwrap();
                    assert_eq!(v.birth, *d, "{s}");
                    assert_eq!(v.replacement, replacement, "{s}");
                }
            }
        }
    }
}

#[test]
fn validator_rejects_every_impossible_day_and_month() {
    for dd in 0..100u32 {
        for mm in 0..100u32 {
            for yy in [0u32, 4, 57, 58, 85, 99] {
                for d7 in 0..=9u8 {
                    let s = format!("{dd:02}{mm:02}{yy:02}{d7}000");
                    let year = table_year(yy, d7);
                    let real_day = if (61..=91).contains(&dd) { dd - 60 } else { dd };
                    let ok = (1..=12).contains(&mm)
                        && real_day >= 1
                        && real_day <= table_month_days(year, mm)
                        && Date::new(year, mm, real_day) <= TODAY;
                    assert_eq!(
                        validate::validate(&digits_of(&s), TODAY).is_some(),
                        ok,
                        "{s}"
                    );
                }
            }
        }
    }
}

// ---- generators ------------------------------------------------------------

/// Seventh digits that give `year` its century.
fn century_digits(year: i32) -> Vec<u8> {
    (0..=9u8)
        .filter(|&d| table_year((year % 100) as u32, d) == year)
        .collect()
}

fn check_digit(first9: &[u8]) -> Option<u8> {
    const W: [u32; 9] = [4, 3, 2, 7, 6, 5, 4, 3, 2];
    let s: u32 = first9.iter().zip(W).map(|(&d, w)| u32::from(d) * w).sum();
    let c = (11 - s % 11) % 11;
    (c < 10).then_some(c as u8)
}

/// A synthetic number: (ten digits, birth date, mod-11 passes, replacement).
fn number(want_mod11: bool) -> impl Strategy<Value = ([u8; 10], bool)> {
    let days = (Date::new(1858, 1, 1), TODAY);
    (
        0i64..61_000,
        any::<prop::sample::Index>(),
        0u32..1000,
        any::<bool>(),
        0u8..10,
    )
        .prop_filter_map(
            "needs a check digit",
            move |(offset, pick, serial, replacement, last)| {
                let d = Date::from_days_since_epoch(-40_907 + offset);
                if d < days.0 || d > days.1 {
                    return None;
                }
                let c7 = century_digits(d.year);
                let d7 = c7[pick.index(c7.len())];
                let day = d.day + if replacement { 60 } else { 0 };
                let s = format!(
                    "{:02}{:02}{:02}{}{:03}",
                    day,
                    d.month,
                    d.year % 100,
                    d7,
                    serial
                );
                let mut digits = [0u8; 10];
                for (o, c) in digits.iter_mut().zip(s.bytes()) {
                    *o = c - b'0';
                }
                let check = check_digit(&digits[..9])?;
                digits[9] = if want_mod11 { check } else { last };
                if !want_mod11 && last == check {
                    return None;
                }
                // Not on the default exempt list (1 January of listed years).
                if !want_mod11 && d.month == 1 && d.day == 1 {
                    return None;
                }
                Some((digits, replacement))
            },
        )
}

const WORDS: &[&str] = &[
    "hej",
    "kære",
    "borger",
    "vi",
    "har",
    "modtaget",
    "din",
    "ansøgning",
    "om",
    "hjælp",
    "til",
    "bolig",
    "og",
    "sagen",
    "behandles",
    "snarest",
    "med",
    "venlig",
    "hilsen",
    "kommune",
    "mødet",
    "flyttes",
    "torsdag",
    "rådhuset",
    "please",
    "find",
    "attached",
    "the",
    "letter",
    "regarding",
    "your",
    "case",
    "Søren",
    "Åse",
    "Østergade",
    "børnehave",
    "skole",
    "læge",
    "husk",
    "at",
    "svare",
    "inden",
    "fredag",
];

fn prose() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(WORDS),
            prop::sample::select(&[" ", " ", " ", ", ", ". ", "\n"][..]),
        ),
        0..30,
    )
    .prop_map(|ws| ws.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

/// (separator text, counts as a hyphen)
const SEPARATORS: &[(&str, bool)] = &[
    ("-", true),
    (" - ", true),
    ("\u{2013}", true),
    ("\u{2011}", true),
    ("\u{2212}", true),
    ("\u{00A0}\u{2013}\u{00A0}", true),
    (" ", false),
    ("\u{00A0}", false),
    ("\u{202F}", false),
    (".", false),
    ("/", false),
    ("", false),
];

fn render(digits: &[u8; 10], sep: &str, full_width: bool) -> String {
    let d = |x: u8| {
        if full_width {
            char::from_u32(0xFF10 + u32::from(x)).unwrap()
        } else {
            char::from(b'0' + x)
        }
    };
    let mut s: String = digits[..6].iter().map(|&x| d(x)).collect();
    s.push_str(sep);
    s.extend(digits[6..].iter().map(|&x| d(x)));
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A valid mod-11 number in prose: HIGH with a hyphen, MEDIUM otherwise,
    /// never HIGH when it is a replacement number.
    #[test]
    fn mod11_number_in_prose(
        (digits, replacement) in number(true),
        sep in prop::sample::select(SEPARATORS),
        full_width in any::<bool>(),
        before in prose(),
        after in prose(),
    ) {
        let text = format!("{before} {} {after}", render(&digits, sep.0, full_width));
        let hits = detector().scan(&text);
        prop_assert_eq!(hits.len(), 1, "{:?}", hits);
        let want = if sep.1 && !replacement { High } else { Medium };
        prop_assert_eq!(hits[0].confidence, want, "{:?}", hits);
        prop_assert!(text[hits[0].offset..].starts_with(&render(&digits, sep.0, full_width)));
        prop_assert_eq!(decide(&hits), want == High);
    }

    /// A number the sender labelled ("CPR-nr.: …") is HIGH with a hyphen even
    /// without mod-11, MEDIUM otherwise.
    #[test]
    fn labelled_number_without_mod11(
        (digits, replacement) in number(false),
        sep in prop::sample::select(SEPARATORS),
        label in prop::sample::select(&["CPR-nr.: ", "cpr ", "CPR-nummer: ", "Personnummer ", "cpr.nr. "][..]),
        before in prose(),
        after in prose(),
    ) {
        let text = format!("{before} {label}{} {after}", render(&digits, sep.0, false));
        let hits = detector().scan(&text);
        prop_assert_eq!(hits.len(), 1, "{:?}", hits);
        let want: Confidence = if sep.1 && !replacement { High } else { Medium };
        prop_assert_eq!(hits[0].confidence, want, "{:?}", hits);
    }

    /// Without mod-11, not exempt and unlabelled: nothing.
    #[test]
    fn failing_number_unlabelled_is_dropped(
        (digits, _r) in number(false),
        sep in prop::sample::select(SEPARATORS),
        before in prose(),
        after in prose(),
    ) {
        let text = format!("{before} {} {after}", render(&digits, sep.0, false));
        prop_assert!(detector().scan(&text).is_empty());
    }

    /// Dense tables of random ten-digit runs never produce a reject.
    #[test]
    fn dense_tables_of_random_numbers_do_not_reject(
        rows in prop::collection::vec((prop::array::uniform10(0u8..10), 1u32..100_000, prop::sample::select(WORDS)), 30..300),
        layout in 0usize..3,
    ) {
        let mut text = String::from("Oversigt\n\n");
        for (i, (d, amount, w)) in rows.iter().enumerate() {
            let n: String = d.iter().map(|&x| char::from(b'0' + x)).collect();
            match layout {
                0 => text.push_str(&format!("{n}\t{w}\t{},{:02}\n", amount / 100, amount % 100)),
                1 => text.push_str(&format!("{:>4} | {n} | {w}\n", i + 1)),
                _ => text.push_str(&format!("{n}; ")),
            }
        }
        let hits = detector().scan(&text);
        prop_assert!(!decide(&hits), "{:?}", hits);
    }

    /// Reading the text in place gives the same findings as scanning a
    /// normalised copy (offsets aside).
    #[test]
    fn in_place_normalisation_matches_copy(
        (digits, _r) in number(true),
        sep in prop::sample::select(SEPARATORS),
        noise in prop::sample::select(&["", "\u{00AD}", "\u{200B}", "\u{FEFF}", "\u{2013}", "\u{00A0}"][..]),
        before in prose(),
    ) {
        let num = render(&digits, sep.0, false);
        let text = format!("{before}{noise} cpr{noise} {}{noise} {before}", num);
        let a: Vec<_> = detector().scan(&text).into_iter().map(|h| (h.confidence, h.masked)).collect();
        let b: Vec<_> = detector().scan(&normalise(&text)).into_iter().map(|h| (h.confidence, h.masked)).collect();
        prop_assert_eq!(a, b);
    }
}
