//! Every real message of the real-mail corpus (see common::corpus_files)
//! extracts without a panic. The detector's verdicts on the corpus are
//! checked elsewhere. The counts of messages with unscannable content, per
//! cause, are printed: they are what the per-cause unscannable policy is
//! weighed against.

use std::collections::BTreeMap;

use cpr_milter_core::extract::{extract, Cause, Limits};

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
    // Cause → (messages, one example path and reason).
    let mut by_cause: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for path in &all {
        let raw = std::fs::read(path).unwrap();
        match std::panic::catch_unwind(|| extract(&raw, &limits).into_owned()) {
            Ok(x) => {
                segments += x.segments.len();
                unscannable += x.unscannable.len();
                for cause in Cause::ALL {
                    if let Some(u) = x.unscannable.iter().find(|u| u.cause == cause) {
                        let entry = by_cause.entry(cause.as_str()).or_default();
                        entry.0 += 1;
                        if entry.1.is_empty() {
                            entry.1 = format!("{}: {}: {}", path.display(), u.location, u.reason);
                        }
                    }
                }
            }
            Err(_) => panicked.push(path.display().to_string()),
        }
    }
    eprintln!(
        "{} messages, {segments} segments, {unscannable} unscannable",
        all.len()
    );
    for (cause, (messages, example)) in &by_cause {
        eprintln!("  {cause}: {messages} messages (e.g. {example})");
    }
    assert!(
        panicked.is_empty(),
        "extract panicked on:\n{}",
        panicked.join("\n")
    );
}
