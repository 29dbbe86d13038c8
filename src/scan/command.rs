//! `cpr-milter scan` from start to end: read the archive, judge every
//! message (on all cores), print results in archive order, the CSV, the
//! progress line and the summary. Judging one message is one call to
//! [`super::scan_message`]; everything around it lives here.

use super::compare::Comparison;
use super::csv::CsvWriter;
use super::headers::{self, Headers};
use super::pipeline::{self, Item};
use super::progress::Progress;
use super::summary::Summary;
use super::{scan_message, Outcome, ScanOptions};
use crate::mailbox::{self, Event, Message, ReadOptions};
use cpr_milter_core::Inspector;
use serde_json::json;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

/// Everything `scan` was asked to do.
pub struct ScanCommand {
    pub inspector: Arc<Inspector>,
    /// `--compare`: `inspector` holds the old configuration, this the new.
    pub compare_with: Option<Arc<Inspector>>,
    pub envelope: ScanOptions,
    pub json: bool,
    pub csv: Option<PathBuf>,
    pub quiet: bool,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    pub paths: Vec<String>,
}

/// One judged message.
pub struct Judged {
    pub name: String,
    pub size: u64,
    pub headers: Headers,
    pub outcome: Outcome,
    /// With `--compare`: the outcome under the new configuration.
    pub compared: Option<Outcome>,
}

fn judge(cmd: &ScanCommand, m: Message) -> Judged {
    let headers = headers::read(&m.bytes, m.from_line.as_deref());
    let outcome = scan_message(
        &cmd.inspector,
        &cmd.envelope,
        m.name.clone(),
        &m.bytes,
        &headers,
    );
    let compared = cmd
        .compare_with
        .as_ref()
        .map(|new| scan_message(new, &cmd.envelope, m.name.clone(), &m.bytes, &headers));
    Judged {
        name: m.name,
        size: m.size,
        headers,
        outcome,
        compared,
    }
}

/// Exit status: 0 all accepted (no differences with `--compare`), 1 some
/// rejected or tempfailed (some differences), 2 errors.
pub fn run(cmd: ScanCommand) -> u8 {
    let started = Instant::now();
    let limit = |i: &Inspector| i.policy().limits.max_message_bytes;
    let max = cmd
        .compare_with
        .as_ref()
        .map_or(limit(&cmd.inspector), |n| {
            limit(n).max(limit(&cmd.inspector))
        });
    let disk_bytes = Arc::new(AtomicU64::new(0));
    let read = ReadOptions {
        cap: max.saturating_add(1).min(usize::MAX as u64) as usize,
        disk_bytes: disk_bytes.clone(),
    };
    // `--csv -`: the CSV is the output; the summary goes to stderr.
    let csv_to_stdout = cmd.csv.as_deref() == Some(std::path::Path::new("-"));
    let mut csv = match &cmd.csv {
        None => None,
        Some(_) if csv_to_stdout => {
            let stdout: Box<dyn Write> = Box::new(std::io::stdout().lock());
            CsvWriter::new(std::io::BufWriter::new(stdout)).ok()
        }
        Some(p) => match std::fs::File::create(p)
            .map(|f| Box::new(f) as Box<dyn Write>)
            .and_then(|f| CsvWriter::new(std::io::BufWriter::new(f)))
        {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("cpr-milter: {}: {e}", p.display());
                return 2;
            }
        },
    };
    let interactive = std::io::stderr().is_terminal() && !cmd.quiet;
    let progress = RefCell::new(Progress::new(interactive, disk_bytes, &cmd.paths));
    let stdout_is_tty = std::io::stdout().is_terminal();
    let mut out: Box<dyn Write> = if csv_to_stdout {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    };
    let mut summary = Summary::default();
    let mut comparison = Comparison::default();
    let mut csv_error = None;
    let jobs = match cmd.jobs {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let note = |text: String| {
        progress.borrow_mut().clear();
        eprintln!("cpr-milter: {text}");
    };
    pipeline::run(
        jobs,
        |emit| mailbox::read_sources(&cmd.paths, &read, emit),
        |m| judge(&cmd, m),
        |item| match item {
            Item::Judged(j) => {
                progress.borrow_mut().message();
                summary.add(&j.outcome, j.size);
                if stdout_is_tty {
                    progress.borrow_mut().clear();
                }
                let _ = print_result(&mut out, &cmd, &j, &mut comparison);
                if let Some(w) = csv.as_mut() {
                    if let Err(e) = w.write(&j) {
                        csv_error.get_or_insert(e);
                    }
                }
            }
            Item::Other(Event::Skipped { path, why }) => {
                summary.skip(why);
                if !cmd.quiet {
                    note(format!("{path}: skipped: {why}"));
                }
            }
            Item::Other(Event::Error { path, error }) => {
                summary.errors += 1;
                note(format!("{path}: {error}"));
            }
            Item::Other(Event::Note { path, note: text }) => {
                if !cmd.quiet {
                    note(format!("{path}: {text}"));
                }
            }
            Item::Other(Event::Message(_)) => unreachable!("messages are judged"),
        },
        || progress.borrow_mut().tick(),
    );
    progress.borrow_mut().finish();
    summary.elapsed = started.elapsed();
    if let Some(w) = csv.take() {
        if let Err(e) = w.finish() {
            csv_error.get_or_insert(e);
        }
    }
    let compare = cmd.compare_with.is_some();
    if csv_to_stdout {
        out = Box::new(std::io::stderr());
    }
    let _ = if cmd.json {
        let mut s = summary.to_json();
        if compare {
            s["compare"] = comparison.to_json();
        }
        writeln!(out, "{}", json!({ "summary": s }))
    } else if compare {
        writeln!(out, "{}", comparison.to_text())
    } else {
        writeln!(out, "{}", summary.to_text())
    };
    if compare && !cmd.json && !cmd.quiet {
        let _ = writeln!(out, "{}", summary.to_text());
    }
    let _ = out.flush();
    if let (Some(e), Some(p)) = (&csv_error, &cmd.csv) {
        eprintln!("cpr-milter: {}: {e}", p.display());
    }
    if summary.errors > 0 || csv_error.is_some() {
        2
    } else if compare {
        u8::from(comparison.changed > 0)
    } else {
        u8::from(summary.rejected + summary.tempfailed > 0)
    }
}

fn print_result(
    out: &mut impl Write,
    cmd: &ScanCommand,
    j: &Judged,
    comparison: &mut Comparison,
) -> std::io::Result<()> {
    if let Some(new) = &j.compared {
        let Some((old, new)) = comparison.add(&j.outcome, new) else {
            return Ok(());
        };
        return if cmd.json {
            writeln!(
                out,
                "{}",
                json!({"path": j.name, "date": j.headers.date, "old": old.to_json(), "new": new.to_json()})
            )
        } else {
            writeln!(out, "{}: {} -> {}", j.name, old.to_text(), new.to_text())
        };
    }
    if cmd.json {
        let mut v = j.outcome.to_json();
        v["date"] = json!(j.headers.date);
        v["size"] = json!(j.size);
        writeln!(out, "{v}")
    } else {
        writeln!(out, "{}", j.outcome.to_text())
    }
}
