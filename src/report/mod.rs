//! `cpr-milter report`: audit lines read back (syslog files, rotated and
//! compressed ones, or stdin) into the weekly overview and, with the
//! fingerprint key, the lines that involve a suspected number.

pub mod aggregate;
pub mod fingerprint;
pub mod parse;

use crate::mailbox::{decompress, mbox};
use aggregate::Report;
use parse::Line;
use std::io::{self, BufRead, Read, Write};
use std::path::PathBuf;

pub struct ReportCommand {
    /// Log files (any may be gzip/xz/zstd); none: standard input.
    pub paths: Vec<PathBuf>,
    pub json: bool,
    /// With a key: suspected numbers are read from stdin, one per line.
    pub fingerprint_key: Option<PathBuf>,
}

/// Longest log line kept; the rest of a longer one is read past.
const MAX_LINE: usize = 64 * 1024;

/// Exit status: 0, or 2 when an input could not be read (fully).
pub fn run(cmd: ReportCommand) -> u8 {
    let suspects = match &cmd.fingerprint_key {
        None => None,
        Some(key_file) => {
            if cmd.paths.is_empty() {
                eprintln!("cpr-milter: with --fingerprint-key, standard input holds the suspected numbers: give the log files as arguments");
                return 2;
            }
            match fingerprint::Suspects::read(key_file, io::stdin().lock()) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("cpr-milter: {e}");
                    return 2;
                }
            }
        }
    };
    let mut report = Report::default();
    let mut matches: Vec<(usize, String)> = Vec::new();
    let mut failed = false;
    let inputs: Vec<Option<&PathBuf>> = if cmd.paths.is_empty() {
        vec![None]
    } else {
        cmd.paths.iter().map(Some).collect()
    };
    for input in inputs {
        let (name, source): (String, io::Result<Box<dyn Read + Send>>) = match input {
            None => ("-".into(), Ok(Box::new(io::stdin()))),
            Some(p) => (
                p.display().to_string(),
                std::fs::File::open(p).map(|f| Box::new(f) as Box<dyn Read + Send>),
            ),
        };
        let result = source
            .and_then(|s| decompress::open(s, 0))
            .and_then(|(_, reader)| {
                report.files += 1;
                read_lines(reader, &mut report, suspects.as_ref(), &mut matches)
            });
        if let Err(e) = result {
            eprintln!("cpr-milter: {name}: {e}");
            failed = true;
        }
    }
    let mut out = io::BufWriter::new(io::stdout().lock());
    let _ = match (&suspects, cmd.json) {
        (Some(s), true) => writeln!(out, "{}", s.matches_json(&matches)),
        (Some(s), false) => write!(out, "{}", s.matches_text(&matches)),
        (None, true) => writeln!(out, "{}", report.to_json()),
        (None, false) => write!(out, "{}", report.to_text()),
    };
    let _ = out.flush();
    if failed {
        2
    } else {
        0
    }
}

fn read_lines(
    mut reader: Box<dyn BufRead + Send>,
    report: &mut Report,
    suspects: Option<&fingerprint::Suspects>,
    matches: &mut Vec<(usize, String)>,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut head = Vec::new();
    loop {
        buf.clear();
        if mbox::read_line(&mut reader, &mut buf, MAX_LINE, &mut head)?.is_none() {
            return Ok(());
        }
        head.clear();
        report.lines += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches(['\n', '\r']);
        match parse::parse(text) {
            Line::Audit(a) => {
                report.add(&a);
                if let (Some(s), Some(fp)) = (suspects, &a.fingerprint) {
                    if let Some(i) = s.find(fp) {
                        matches.push((i, text.to_string()));
                    }
                }
            }
            Line::Operational => report.operational += 1,
            Line::Unreadable => report.unreadable += 1,
            Line::Foreign => report.foreign += 1,
        }
    }
}
