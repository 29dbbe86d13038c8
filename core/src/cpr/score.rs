//! The scoring of docs/design.md: from validation result, separator and context facts to
//! a confidence and a reason (which rule fired, which keyword).

use super::candidates::Sep;
use super::context::Facts;
use super::validate::Validated;
use super::Confidence;

/// Everything the scorer looks at for one validated candidate.
#[derive(Clone, Copy, Debug)]
pub struct Evidence<'k> {
    pub sep: Sep,
    pub validated: Validated,
    /// The birth date is on the configured list of dates issued without
    /// modulus-11.
    pub exempt: bool,
    pub facts: Facts<'k>,
    /// The part is a dense table of ten-digit numbers that mostly do not
    /// validate.
    pub dense: bool,
}

fn raise(c: Confidence) -> Confidence {
    match c {
        Confidence::Low => Confidence::Medium,
        _ => Confidence::High,
    }
}

fn lower(c: Confidence) -> Confidence {
    match c {
        Confidence::High => Confidence::Medium,
        _ => Confidence::Low,
    }
}

/// Keywords may contain blanks; reasons are single tokens in audit lines.
fn push_keyword(reason: &mut String, prefix: &str, kw: &str) {
    reason.push_str(prefix);
    reason.extend(kw.chars().map(|c| if c.is_whitespace() { '_' } else { c }));
}

/// Confidence and reason, or `None` when the candidate is not reported
/// (LOW or dropped).
pub fn score(e: &Evidence<'_>) -> Option<(Confidence, String)> {
    let f = &e.facts;
    let dotted = e.sep == Sep::DottedDate;
    // A dotted date and four digits is as often a date and a time: only a
    // check digit or a keyword makes it a number.
    if dotted && !e.validated.mod11 && f.positive.is_none() {
        return None;
    }
    let hyphen = e.sep.is_hyphen() || dotted;
    let mut reason = String::new();
    let mut keyword_used = false;
    let mut conf = if e.validated.mod11 {
        reason.push_str(match (dotted, hyphen) {
            (true, _) => "mod11+dotted-date",
            (false, true) => "mod11+hyphen",
            (false, false) => "mod11",
        });
        if hyphen {
            Confidence::High
        } else {
            Confidence::Medium
        }
    } else if f.labelled && hyphen {
        // The sender said it is a CPR number; since 2007 mod-11 is not
        // guaranteed.
        push_keyword(
            &mut reason,
            "labelled:",
            f.positive.map_or("", |m| m.keyword),
        );
        keyword_used = true;
        Confidence::High
    } else if e.exempt {
        reason.push_str("exempt-date");
        Confidence::Medium
    } else if let Some(m) = f.positive {
        push_keyword(&mut reason, "no-mod11+keyword:", m.keyword);
        keyword_used = true;
        Confidence::Medium
    } else {
        return None;
    };
    if let Some(m) = f.positive {
        // The keyword also shields the number from every lowering rule: the
        // sender has named it.
        if !keyword_used {
            conf = raise(conf);
            push_keyword(&mut reason, ",keyword:", m.keyword);
        }
    } else {
        if let Some(m) = f.negative {
            conf = lower(conf);
            push_keyword(&mut reason, ",negative:", m.keyword);
        }
        if f.url || f.email {
            conf = lower(conf);
            reason.push_str(if f.url {
                ",in-url"
            } else {
                ",in-email-address"
            });
        }
        if f.machine || f.phone_prefix {
            conf = lower(conf);
            reason.push_str(if f.machine {
                ",machine-field"
            } else {
                ",phone-prefix"
            });
        }
        if e.dense {
            conf = lower(conf);
            reason.push_str(",dense-table");
        }
    }
    if e.validated.replacement && conf == Confidence::High {
        conf = Confidence::Medium;
        reason.push_str(",replacement-number");
    }
    (conf >= Confidence::Medium).then_some((conf, reason))
}
