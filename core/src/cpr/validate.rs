//! Hard validation of a ten-digit CPR candidate: calendar date, century from
//! the 7th digit, not in the future, and the modulus-11 check.

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Four-digit year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// 1 to the month's length.
    pub day: u32,
}

impl Date {
    /// A date; not checked (see [`Date::is_valid`]).
    pub const fn new(year: i32, month: u32, day: u32) -> Self {
        Date { year, month, day }
    }

    /// Today in UTC from the system clock. The only impure function in the
    /// detector, kept at the edge: callers may pass any date instead.
    pub fn today() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Self::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.trim().splitn(3, '-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.parse().ok()?;
        let d = Date { year, month, day };
        d.is_valid().then_some(d)
    }

    /// Whether the date exists in the calendar.
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Gregorian leap year.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` of `year`.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Full year from the two-digit year and the 7th digit (first serial digit).
pub fn century_year(yy: u32, seventh: u8) -> i32 {
    let yy = yy as i32;
    match seventh {
        0..=3 => 1900 + yy,
        4 | 9 => {
            if yy <= 36 {
                2000 + yy
            } else {
                1900 + yy
            }
        }
        _ => {
            if yy <= 57 {
                2000 + yy
            } else {
                1800 + yy
            }
        }
    }
}

/// Modulus-11 check with weights 4,3,2,7,6,5,4,3,2,1.
pub fn mod11_ok(digits: &[u8; 10]) -> bool {
    const W: [u32; 10] = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
    digits
        .iter()
        .zip(W)
        .map(|(&d, w)| u32::from(d) * w)
        .sum::<u32>()
        % 11
        == 0
}

/// What the validator learned about a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validated {
    /// The birth date the number encodes (century resolved).
    pub birth: Date,
    /// Whether the number passes the modulus-11 check.
    pub mod11: bool,
    /// Day field 61-91: a replacement number (erstatningspersonnummer).
    pub replacement: bool,
}

/// Validates ten digits (values 0-9). Returns `None` unless the date is a
/// real calendar date not after `today`.
pub fn validate(digits: &[u8; 10], today: Date) -> Option<Validated> {
    let two = |i: usize| u32::from(digits[i]) * 10 + u32::from(digits[i + 1]);
    let (mut day, month, yy) = (two(0), two(2), two(4));
    let replacement = (61..=91).contains(&day);
    if replacement {
        day -= 60;
    }
    let birth = Date::new(century_year(yy, digits[6]), month, day);
    if !birth.is_valid() || birth > today {
        return None;
    }
    Some(Validated {
        birth,
        mod11: mod11_ok(digits),
        replacement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> [u8; 10] {
        let mut out = [0u8; 10];
        for (o, c) in out.iter_mut().zip(s.bytes().filter(u8::is_ascii_digit)) {
            *o = c - b'0';
        }
        out
    }

    const TODAY: Date = Date::new(2026, 11, 23);

    #[test]
    fn century_rules() {
        assert_eq!(century_year(85, 1), 1985);
        assert_eq!(century_year(36, 4), 2036);
        assert_eq!(century_year(37, 4), 1937);
        assert_eq!(century_year(37, 9), 1937);
        assert_eq!(century_year(57, 5), 2057);
        assert_eq!(century_year(58, 8), 1858);
    }

    #[test]
    fn design_examples() {
        let v = validate(&d("241085-1337"), TODAY).unwrap();
        assert!(v.mod11);
        assert_eq!(v.birth, Date::new(1985, 10, 24));
        assert!(validate(&d("290200-4001"), TODAY).is_some(), "29 Feb 2000");
        assert!(
            validate(&d("290200-0006"), TODAY).is_none(),
            "1900 not leap"
        );
        assert_eq!(validate(&d("311237-9001"), TODAY).unwrap().birth.year, 1937);
        assert!(
            validate(&d("010157-5004"), TODAY).is_none(),
            "2057 is in the future"
        );
        assert!(validate(&d("320185-1337"), TODAY).is_none());
        assert!(validate(&d("241385-1337"), TODAY).is_none());
        assert!(!validate(&d("241085-1338"), TODAY).unwrap().mod11);
    }

    #[test]
    fn replacement_numbers_shift_the_day() {
        let v = validate(&d("841085-1337"), TODAY).unwrap();
        assert!(v.replacement);
        assert_eq!(v.birth.day, 24);
    }

    #[test]
    fn epoch_days_roundtrip() {
        assert_eq!(Date::from_days_since_epoch(0), Date::new(1970, 1, 1));
        assert_eq!(Date::from_days_since_epoch(11_016), Date::new(2000, 2, 29));
        assert_eq!(Date::parse("2026-11-23"), Some(TODAY));
        assert_eq!(Date::parse("2026-02-30"), None);
    }
}
