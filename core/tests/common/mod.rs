//! Shared by the core integration tests: the real-mail corpus in shared/
//! beside the repository (missing corpus is a failure, not a skip: CI always
//! has it), and a base64 encoder for building test mails.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Every message file of `shared/corpus/realmail`, sorted.
pub fn corpus_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/realmail");
    assert!(
        root.is_dir(),
        "{} not found: the corpus lives in shared/ beside the repository",
        root.display()
    );
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.sort();
    assert!(out.len() > 5000, "corpus incomplete: {} files", out.len());
    out
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
