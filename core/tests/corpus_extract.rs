//! Every real message under shared/corpus/realmail extracts without a panic
//! (DESIGN §9). The detector's verdicts on the corpus are checked elsewhere.

use cpr_milter_core::extract::{extract, Limits};

mod common;

#[test]
fn every_corpus_message_extracts_without_panic() {
    let Some(all) =
        common::corpus_files("corpus_extract::every_corpus_message_extracts_without_panic")
    else {
        return;
    };
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
