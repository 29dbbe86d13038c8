//! Every real message under shared/corpus/realmail extracts without a panic
//! (DESIGN §9). The detector's verdicts on the corpus are checked elsewhere.

use std::path::{Path, PathBuf};

use cpr_milter_core::extract::{extract, Limits};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("MANIFEST.tsv" | "SOURCES.md")
        ) {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_message_extracts_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/realmail");
    if !root.is_dir() {
        eprintln!("corpus not found at {}; skipped", root.display());
        return;
    }
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    assert!(all.len() > 1000, "only {} corpus files", all.len());
    let limits = Limits::default();
    let mut panicked = Vec::new();
    let (mut segments, mut unscannable) = (0usize, 0usize);
    for path in &all {
        let raw = std::fs::read(path).unwrap();
        match std::panic::catch_unwind(|| extract(&raw, &limits)) {
            Ok(x) => {
                segments += x.segments.len();
                unscannable += x.unscannable.len();
            }
            Err(_) => panicked.push(path.display().to_string()),
        }
    }
    eprintln!(
        "{} messages, {segments} segments, {unscannable} unscannable",
        all.len()
    );
    assert!(
        panicked.is_empty(),
        "extract panicked on:\n{}",
        panicked.join("\n")
    );
}
