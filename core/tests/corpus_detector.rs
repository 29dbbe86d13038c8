//! Ordinary mail must not trip the detector: every file of the real-mail
//! corpus (public ham, spam, bounces and MIME test messages; no Danish CPR
//! numbers) is scanned as raw text and must not reach a reject-level
//! decision. A failure names the file and the masked value, never the digits.

use cpr_milter_core::cpr::{decide, Detector, DetectorSettings};
use cpr_milter_core::Confidence;
mod common;

#[test]
fn real_mail_corpus_produces_no_reject() {
    let Some(all) = common::corpus_files("corpus_detector::real_mail_corpus_produces_no_reject")
    else {
        return;
    };
    let detector = Detector::new(DetectorSettings::default());
    let mut failures = Vec::new();
    let mut mediums = 0;
    for path in &all {
        let bytes = std::fs::read(path).expect("readable corpus file");
        let text = String::from_utf8_lossy(&bytes);
        let hits = detector.scan(&text);
        mediums += hits
            .iter()
            .filter(|h| h.confidence == Confidence::Medium)
            .count();
        if decide(&hits) || hits.iter().any(|h| h.confidence == Confidence::High) {
            let shown: Vec<String> = hits.iter().map(|h| format!("{h} @{}", h.offset)).collect();
            failures.push(format!("{}: {}", path.display(), shown.join("; ")));
        }
    }
    eprintln!(
        "{} files scanned, {} single MEDIUM findings (logged only)",
        all.len(),
        mediums
    );
    assert!(
        failures.is_empty(),
        "{} files would be rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
