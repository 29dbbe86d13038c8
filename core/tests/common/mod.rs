//! Shared by the corpus tests: the real-mail corpus in shared/ beside the
//! repository. Missing corpus is a failure, not a skip: CI always has it.

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
