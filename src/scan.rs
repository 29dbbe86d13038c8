//! `cpr-milter scan`: the daemon's exact pipeline over files, for testing
//! rules and for searching archives. Inputs: .eml files, directories
//! (recursively, which covers Maildir), mbox files, or `-` for stdin.

use cpr_milter_core::bare_address;
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::{
    Action, Begin, Envelope, Finding, Inspector, Message, RcptVerdict, Transaction, Verdict,
};
use serde_json::json;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How `scan` builds the envelope.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub from: Option<String>,
    pub rcpts: Vec<String>,
    /// Treat the mail as arriving from outside (not policed).
    pub incoming: bool,
    pub json: bool,
}

/// The result for one message.
pub struct Outcome {
    pub path: String,
    pub action: Action,
    pub stage: &'static str,
    pub reply: Option<String>,
    pub recipients: Vec<RcptVerdict>,
    pub verdict: Option<Verdict>,
}

impl Outcome {
    fn findings(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self
            .recipients
            .iter()
            .filter_map(|r| r.finding.as_ref())
            .collect();
        if let Some(verdict) = &self.verdict {
            v.extend(&verdict.findings);
        }
        v
    }

    /// Every finding made, those left out of the sample included.
    fn findings_total(&self) -> usize {
        let rcpt = self
            .recipients
            .iter()
            .filter(|r| r.finding.is_some())
            .count();
        rcpt + self.verdict.as_ref().map_or(0, |v| v.findings_total)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let finding = |f: &Finding| {
            json!({
                "rule": f.rule.as_str(),
                "location": f.location.as_str(),
                "offset": f.offset,
                "masked": f.masked,
                "confidence": f.confidence.map(|c| c.as_str()),
                "fingerprint": f.fingerprint,
                "reason": f.reason.as_str(),
            })
        };
        let would = self
            .verdict
            .as_ref()
            .and_then(|v| v.would)
            .map(|w| w.as_str());
        json!({
            "path": self.path,
            "action": self.action.as_str(),
            "would": would,
            "stage": self.stage,
            "reply": self.reply,
            "recipients": self.recipients.iter().map(|r| json!({
                "address": redact_digits(&r.address),
                "action": r.action.as_str(),
                "would": r.would.map(|w| w.as_str()),
                "reply": r.shown_reply().map(|x| x.to_string()),
            })).collect::<Vec<_>>(),
            "findings": self.findings().into_iter().map(finding).collect::<Vec<_>>(),
            // All findings are counted; "findings" is a bounded sample.
            "findings_total": self.findings_total(),
            "finding_counts": self.verdict.iter().flat_map(|v| &v.finding_counts).map(|c| json!({
                "rule": c.rule.as_str(),
                "location": c.location.as_str(),
                "count": c.count,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!("{}: {}", self.path, self.action.as_str());
        if let Some(v) = &self.verdict {
            if let Some(w) = v.would {
                s.push_str(&format!(" (monitor mode: would {})", w.as_str()));
            }
        }
        if let Some(r) = &self.reply {
            s.push_str(&format!(" at {}: {}", self.stage, r.replace("\r\n", " | ")));
        }
        for f in self.findings() {
            s.push_str(&format!(
                "\n  {} {} {} {} ({})",
                f.rule,
                f.location,
                f.masked.as_deref().unwrap_or("-"),
                f.confidence.map_or("-", |c| c.as_str()),
                f.reason
            ));
        }
        s
    }
}

/// Sender (From) and recipients (To/Cc/Bcc) as the headers give them, for
/// what the command line leaves out. One header parse for both.
fn header_envelope(raw: &[u8]) -> (String, Vec<String>) {
    let Some(msg) = mail_parser::MessageParser::default().parse_headers(raw) else {
        return (String::new(), Vec::new());
    };
    let sender = msg
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address.as_ref().map(|s| s.to_string()))
        .unwrap_or_default();
    let mut rcpts = Vec::new();
    for addrs in [msg.to(), msg.cc(), msg.bcc()].into_iter().flatten() {
        rcpts.extend(
            addrs
                .iter()
                .filter_map(|a| a.address.as_ref().map(|e| e.to_string())),
        );
    }
    (sender, rcpts)
}

/// Drives one core transaction as the daemon does: MAIL, each RCPT, then
/// end of message (unless RCPT refused every recipient).
pub fn scan_message(
    inspector: &Arc<Inspector>,
    opts: &ScanOptions,
    path: String,
    raw: &[u8],
) -> Outcome {
    let (header_sender, header_rcpts) = if opts.from.is_none() || opts.rcpts.is_empty() {
        header_envelope(raw)
    } else {
        Default::default()
    };
    let rcpts = if opts.rcpts.is_empty() {
        header_rcpts
    } else {
        opts.rcpts.clone()
    };
    let mut env = Envelope {
        sender: opts.from.clone().unwrap_or(header_sender),
        queue_id: Some("SCAN".into()),
        ..Default::default()
    };
    // Outgoing: as if submitted by an authenticated user. Incoming: a client
    // from TEST-NET-1, outside any organisation network.
    if opts.incoming {
        env.client_ip = Some("192.0.2.1".parse().expect("valid address"));
    } else {
        env.auth_user = Some("scan".into());
    }
    let mut tx = match Transaction::begin(inspector.clone(), env) {
        Begin::Policed(tx) => tx,
        Begin::NotPoliced => {
            return Outcome {
                path,
                action: Action::Accept,
                stage: "eom",
                reply: None,
                recipients: rcpts
                    .iter()
                    .map(|r| RcptVerdict::accepted(bare_address(r)))
                    .collect(),
                verdict: Some(Verdict::accept(Vec::new())),
            };
        }
    };
    let verdicts: Vec<RcptVerdict> = rcpts.iter().map(|r| tx.recipient(r)).collect();
    if tx.refused_all(rcpts.len()) {
        let reply = verdicts
            .iter()
            .find_map(|v| v.reply.as_ref())
            .map(|r| r.to_string());
        return Outcome {
            path,
            action: Action::Reject,
            stage: "rcpt",
            reply,
            recipients: verdicts,
            verdict: None,
        };
    }
    let v = tx.finish(Message::whole(raw));
    let reply = v.shown_reply().map(|r| r.to_string());
    Outcome {
        path,
        action: v.action,
        stage: "eom",
        reply,
        recipients: verdicts,
        verdict: Some(v),
    }
}

/// Splits an mbox into messages at `From ` lines that follow an empty line.
fn split_mbox(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut pos = 0;
    let mut prev_blank = true;
    while pos < data.len() {
        let end = data[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| pos + i + 1);
        let line = &data[pos..end];
        if prev_blank && line.starts_with(b"From ") {
            starts.push(pos);
        }
        prev_blank = line == b"\n" || line == b"\r\n";
        pos = end;
    }
    let mut out = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(data.len());
        let body_start = data[s..e]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(e, |p| s + p + 1);
        out.push(&data[body_start..e]);
    }
    out
}

/// A file's bytes: memory-mapped when large (an archive, a huge mail), which
/// spares copying it through the kernel, read into memory otherwise.
/// As with any mmap, a file truncated by another process while it is being
/// scanned can stop the process (SIGBUS); scan archives at rest.
enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Read(v) => v,
        }
    }
}

const MMAP_FROM_BYTES: u64 = 4 << 20;

fn read_input(path: &Path) -> std::io::Result<Input> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() >= MMAP_FROM_BYTES {
        // SAFETY: the map is read-only and private to this process; see the
        // type's comment for the truncation caveat.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        return Ok(Input::Mapped(map));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut { file }, &mut buf)?;
    Ok(Input::Read(buf))
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            collect_files(&e, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// One message through [`scan_message`]; a panic in the inspection is
/// reported for that message only (never with its payload, which may
/// quote the text) and the scan goes on.
fn scan_one(
    inspector: &Arc<Inspector>,
    opts: &ScanOptions,
    path: String,
    raw: &[u8],
) -> Result<Outcome, String> {
    let shown = redact_digits(&path);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scan_message(inspector, opts, path, raw)
    }))
    .map_err(|_| format!("{shown}: internal error (panic) while inspecting; skipped"))
}

/// Scans every input; calls `emit` per message. Returns the number of
/// rejected (or tempfailed) messages. An input that cannot be read or a
/// message that cannot be inspected is reported on stderr and skipped; the
/// rest are still scanned, and the result is then an error naming how
/// many were skipped.
pub fn scan_paths(
    inspector: &Arc<Inspector>,
    opts: &ScanOptions,
    paths: &[String],
    emit: &mut dyn FnMut(&Outcome),
) -> Result<usize, String> {
    let mut stopped = 0;
    let mut skipped = 0;
    let mut handle = |o: Result<Outcome, String>| match o {
        Ok(o) => {
            if o.action != Action::Accept {
                stopped += 1;
            }
            emit(&o);
        }
        Err(e) => {
            eprintln!("cpr-milter: {e}");
            skipped += 1;
        }
    };
    for p in paths {
        if p == "-" {
            let mut buf = Vec::new();
            match std::io::stdin().read_to_end(&mut buf) {
                Ok(_) => handle(scan_one(inspector, opts, "-".into(), &buf)),
                Err(e) => handle(Err(format!("stdin: {e}"))),
            }
            continue;
        }
        let mut files = Vec::new();
        if let Err(e) = collect_files(Path::new(p), &mut files) {
            handle(Err(format!("{}: {e}", redact_digits(p))));
        }
        for f in files {
            let name = f.display().to_string();
            let data = match read_input(&f) {
                Ok(d) => d,
                Err(e) => {
                    handle(Err(format!("{}: {e}", redact_digits(&name))));
                    continue;
                }
            };
            if data.starts_with(b"From ") {
                for (i, m) in split_mbox(&data).into_iter().enumerate() {
                    handle(scan_one(inspector, opts, format!("{name}#{}", i + 1), m));
                }
            } else {
                handle(scan_one(inspector, opts, name, &data));
            }
        }
    }
    match skipped {
        0 => Ok(stopped),
        n => Err(format!("{n} input(s) could not be scanned (see above)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_input_does_not_end_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.eml");
        std::fs::write(&good, "To: b@gmail.com\r\nSubject: Hej\r\n\r\nHej\r\n").unwrap();
        // A recipient domain with a raw 0xFF byte once panicked the lookalike check.
        let odd = dir.path().join("b.eml");
        std::fs::write(&odd, b"To: a@x\xff.dk\r\n\r\nx\r\n").unwrap();
        let paths = vec![
            dir.path().join("missing.eml").display().to_string(),
            odd.display().to_string(),
            good.display().to_string(),
        ];
        let inspector = Arc::new(Inspector::new(cpr_milter_core::Policy::default(), None));
        let mut seen = Vec::new();
        let r = scan_paths(&inspector, &ScanOptions::default(), &paths, &mut |o| {
            seen.push(o.path.clone())
        });
        assert_eq!(r, Err("1 input(s) could not be scanned (see above)".into()));
        assert_eq!(seen.len(), 2, "both readable files were scanned: {seen:?}");
    }

    #[test]
    fn mbox_is_split_at_from_lines() {
        let m = b"From a@b Mon Jan 1 00:00:00 2024\nSubject: 1\n\nbody\n\nFrom c@d Mon Jan 1 00:00:00 2024\nSubject: 2\n\nx\n";
        let parts = split_mbox(m);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with(b"Subject: 2"));
    }
}
