//! `--csv FILE`: one row per finding, for a spreadsheet. Addresses and
//! subjects have their digits masked like everything else `scan` prints,
//! and cells a spreadsheet would run as a formula are defused: the subject
//! of a mail is written by whoever sent it.

use super::command::Judged;
use super::summary::deciding_rule;
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::Finding;
use std::io::{self, Write};

const COLUMNS: &[&str] = &[
    "date",
    "path",
    "sender",
    "recipients",
    "subject",
    "action",
    "decided_by",
    "rule",
    "location",
    "masked",
    "confidence",
    "fingerprint",
];

pub struct CsvWriter<W: Write> {
    out: W,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        writeln!(out, "{}", COLUMNS.join(","))?;
        Ok(CsvWriter { out })
    }

    /// One row per finding of `m` (none for a message without findings).
    pub fn write(&mut self, m: &Judged) -> io::Result<()> {
        let o = &m.outcome;
        let findings: Vec<&Finding> = o
            .recipients
            .iter()
            .filter_map(|r| r.finding.as_ref())
            .chain(o.verdict.iter().flat_map(|v| &v.findings))
            .collect();
        if findings.is_empty() {
            return Ok(());
        }
        let recipients: Vec<String> = m
            .headers
            .recipients
            .iter()
            .map(|r| redact_digits(r))
            .collect();
        let action = match o.verdict.as_ref().and_then(|v| v.would) {
            Some(w) => format!("would-{}", w.as_str()),
            None => o.action.as_str().to_string(),
        };
        let decided_by = deciding_rule(o).unwrap_or_default();
        for f in findings {
            let cells = [
                m.headers.date.clone().unwrap_or_default(),
                m.name.clone(),
                redact_digits(&m.headers.sender),
                recipients.join(" "),
                redact_digits(m.headers.subject.as_deref().unwrap_or("")),
                action.clone(),
                decided_by.clone(),
                f.rule.to_string(),
                f.location.to_string(),
                f.masked.clone().unwrap_or_default(),
                f.confidence.map_or("", |c| c.as_str()).to_string(),
                f.fingerprint.clone().unwrap_or_default(),
            ];
            let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
            writeln!(self.out, "{}", row.join(","))?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// RFC 4180 quoting, and a leading `'` on text a spreadsheet would take
/// for a formula.
fn cell(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let defused = if clean.starts_with(['=', '+', '-', '@']) {
        format!("'{clean}")
    } else {
        clean
    };
    if defused.contains([',', '"']) || defused.starts_with(' ') || defused.ends_with(' ') {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("line\r\nbreak"), "line  break");
    }
}
