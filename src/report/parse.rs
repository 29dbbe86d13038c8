//! Reading audit lines back: the format `crate::audit` writes, found inside
//! whatever the log system wrapped around it (RFC 3164 syslog files,
//! rsyslog's ISO timestamps, journalctl's short formats, or the bare
//! `cpr-milter[PID]: …` lines of stderr logging).

use std::borrow::Cow;

/// One audit line's fields. Values are as logged (already masked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditLine<'l> {
    /// `YYYY-MM-DD`, `MM-DD` when the log has no year, or `None`.
    pub day: Option<String>,
    pub queue_id: &'l str,
    pub action: Cow<'l, str>,
    pub rule: Cow<'l, str>,
    pub stage: Cow<'l, str>,
    pub from: Cow<'l, str>,
    pub rcpt: Cow<'l, str>,
    pub cpr: Option<Cow<'l, str>>,
    pub fingerprint: Option<Cow<'l, str>>,
    pub reason: Cow<'l, str>,
    pub mode: Cow<'l, str>,
}

/// What a log line is to the report.
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per line read, never stored
pub enum Line<'l> {
    Audit(AuditLine<'l>),
    /// Our program's other messages (start, reload, warnings).
    Operational,
    /// Ours and shaped like an audit line, but without what a decision needs
    /// (a damaged line, or a format this version does not know).
    Unreadable,
    /// Another program's line.
    Foreign,
}

const TAG: &str = "cpr-milter[";

pub fn parse(line: &str) -> Line<'_> {
    let Some(at) = line.find(TAG) else {
        return Line::Foreign;
    };
    let after_tag = &line[at + TAG.len()..];
    let Some(close) = after_tag.find("]: ") else {
        return Line::Foreign;
    };
    let message = &after_tag[close + 3..];
    let Some((queue_id, rest)) = message.split_once(": ") else {
        return Line::Operational;
    };
    if !is_queue_id(queue_id) || !rest.starts_with("action=") {
        return Line::Operational;
    }
    let mut a = AuditLine {
        day: day(&line[..at]),
        queue_id,
        ..Default::default()
    };
    for (key, value) in fields(rest) {
        match key {
            "action" => a.action = value,
            "rule" => a.rule = value,
            "stage" => a.stage = value,
            "from" => a.from = value,
            "rcpt" => a.rcpt = value,
            "cpr" => a.cpr = Some(value),
            "fingerprint" => a.fingerprint = Some(value),
            "reason" => a.reason = value,
            "mode" => a.mode = value,
            _ => {}
        }
    }
    if a.action.is_empty() || a.rule.is_empty() {
        return Line::Unreadable;
    }
    Line::Audit(a)
}

/// Postfix queue ids are hex or base-52 with digits; NOQUEUE before one.
fn is_queue_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `key=value` pairs; values may be `"quoted"` with `\"` and `\\`.
fn fields(mut s: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::with_capacity(16);
    loop {
        s = s.trim_start_matches(' ');
        let Some(eq) = s.find('=') else { break };
        let key = &s[..eq];
        if let Some(space) = key.find(' ') {
            // A word without `=`: skip it.
            s = &s[space + 1..];
            continue;
        }
        let rest = &s[eq + 1..];
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            out.push((key, Cow::Owned(value)));
            s = &quoted[end..];
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push((key, Cow::Borrowed(&rest[..end])));
            s = &rest[end..];
        }
    }
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The day from the log system's prefix: ISO 8601 (`2026-12-01T…`) or
/// RFC 3164 (`Dec  1 10:00:00`, no year).
fn day(prefix: &str) -> Option<String> {
    let p = prefix.trim_start();
    let b = p.as_bytes();
    if b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[5..7].iter().chain(&b[8..10]).all(u8::is_ascii_digit)
    {
        return Some(p[..10].to_string());
    }
    let month = MONTHS.iter().position(|m| p.starts_with(m))? + 1;
    let d: u32 = p.get(3..6)?.trim().parse().ok()?;
    (1..=31).contains(&d).then(|| format!("{month:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "cpr-milter[812]: 4F1A2B3C: action=reject rule=cpr.subject stage=eom reply=\"550 5.7.1\" from=<a@nyborg.dk> rcpt=<b@x.dk>,<c@y.dk> client=host[10.1.2.3] auth=jens where=\"filename:2410XX-XXXX sag.pdf\" cpr=2410XX-XXXX confidence=high fingerprint=0123456789abcdef reason=mod11+hyphen mode=enforce";

    #[test]
    fn audit_lines_are_read_whatever_the_log_prefix() {
        for (prefix, day) in [
            ("", None),
            ("Dec  1 10:00:00 mx1 ", Some("12-01")),
            ("Jan 21 10:00:00 mx1 ", Some("01-21")),
            ("2026-12-01T10:00:00.123456+01:00 mx1 ", Some("2026-12-01")),
        ] {
            let line = format!("{prefix}{LINE}");
            let Line::Audit(a) = parse(&line) else {
                panic!("{prefix}")
            };
            assert_eq!(a.day.as_deref(), day);
            assert_eq!(a.queue_id, "4F1A2B3C");
            assert_eq!(a.action, "reject");
            assert_eq!(a.rule, "cpr.subject");
            assert_eq!(a.rcpt, "<b@x.dk>,<c@y.dk>");
            assert_eq!(a.cpr.as_deref(), Some("2410XX-XXXX"));
            assert_eq!(a.fingerprint.as_deref(), Some("0123456789abcdef"));
            assert_eq!(a.reason, "mod11+hyphen");
            assert_eq!(a.mode, "enforce");
        }
    }

    #[test]
    fn quoted_values_keep_spaces_and_escapes() {
        let l = "cpr-milter[1]: NOQUEUE: action=tempfail rule=internal.timeout stage=eom ref=M1 from=<> rcpt=<a@b> client=local reason=\"took \\\"too\\\" long\" mode=enforce";
        let Line::Audit(a) = parse(l) else { panic!() };
        assert_eq!(a.reason, "took \"too\" long");
        assert_eq!(a.from, "<>");
    }

    #[test]
    fn other_lines_are_told_apart() {
        assert_eq!(
            parse("Dec  1 10:00:00 mx1 postfix/smtpd[9]: connect from x"),
            Line::Foreign
        );
        assert_eq!(
            parse("cpr-milter[1]: configuration reloaded from /etc/x (mode=enforce)"),
            Line::Operational
        );
        assert_eq!(
            parse("cpr-milter[1]: warning: syslog unavailable (x); logging to stderr"),
            Line::Operational
        );
        assert_eq!(
            parse("cpr-milter[1]: ABC: action=reject stage=eom"),
            Line::Unreadable
        );
        assert_eq!(parse("garbage"), Line::Foreign);
    }
}
