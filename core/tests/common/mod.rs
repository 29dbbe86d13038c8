//! Shared by the core integration tests: the real-mail corpus, the skip
//! protocol for when it is missing, a base64 encoder and a ZIP writer for
//! building test mails.
//!
//! The corpus (about 5,700 real messages nobody here wrote) is not ours to
//! redistribute, so a plain clone does not have it. Its location is
//! `CPR_MILTER_CORPUS` (relative paths are taken from the repository root),
//! by default `../shared/corpus/realmail` beside the repository. When it is
//! missing, the corpus tests report themselves skipped, by name and reason;
//! under CI a missing corpus is a failure.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// Reports `test` as skipped because of `reason`, or panics under CI (`CI`
/// set and not empty). Prints `SKIPPED test: reason` on stderr and appends
/// `test: reason` to the file named by `CPR_MILTER_SKIP_LOG`, which the test
/// script lists in its summary. The caller returns right after.
pub fn skip_unavailable(test: &str, reason: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test}: required under CI but unavailable: {reason}");
    }
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("CPR_MILTER_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
        {
            let _ = writeln!(f, "{test}: {reason}");
        }
    }
}

/// The repository root (the workspace directory above `core/`).
fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent")
        .to_path_buf()
}

/// Where the real-mail corpus is expected: `CPR_MILTER_CORPUS`, or
/// `../shared/corpus/realmail` relative to the repository root.
pub fn corpus_root() -> PathBuf {
    let root = repository_root();
    match std::env::var_os("CPR_MILTER_CORPUS").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("../shared/corpus/realmail"),
    }
}

/// Every message file of the corpus, sorted; `None` (after reporting `test`
/// as skipped) when the corpus is not there. A corpus that is there but
/// incomplete is a failure, not a skip.
pub fn corpus_files(test: &str) -> Option<Vec<PathBuf>> {
    let root = corpus_root();
    if !root.is_dir() {
        skip_unavailable(
            test,
            &format!(
                "real-mail corpus not found at {} (set CPR_MILTER_CORPUS)",
                root.display()
            ),
        );
        return None;
    }
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.sort();
    assert!(out.len() > 5000, "corpus incomplete: {} files", out.len());
    Some(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let p = e
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        if p.is_dir() {
            walk(&p, out);
        } else if !matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("MANIFEST.tsv" | "SOURCES.md")
        ) {
            out.push(p);
        }
    }
}

/// Standard base64 with padding, for building MIME parts in tests.
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(data.len() * 4 / 3 + 4);
    for c in data.chunks(3) {
        let n = u32::from(c[0]) << 16
            | u32::from(*c.get(1).unwrap_or(&0)) << 8
            | u32::from(*c.get(2).unwrap_or(&0));
        s.push(A[(n >> 18) as usize & 63] as char);
        s.push(A[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// A deflated ZIP archive of `entries` (name, bytes).
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A fixture mail from `fixtures/extract/`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/extract/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The policy most tests run under: nyborg.dk's own domain, defaults else.
pub fn nyborg_inspector() -> cpr_milter_core::Inspector {
    let yaml = "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n";
    cpr_milter_core::Inspector::new(
        cpr_milter_core::config::parse(yaml, "test").expect("config"),
        None,
    )
}

/// Outgoing mail from a caseworker on 127.0.0.1 to an outside recipient.
pub fn outgoing() -> cpr_milter_core::Envelope {
    cpr_milter_core::Envelope {
        client_ip: Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        sender: "sagsbehandler@nyborg.dk".into(),
        recipients: vec!["modtager@example.com".into()],
        queue_id: Some("4F1A2B3C".into()),
        ..cpr_milter_core::Envelope::default()
    }
}
