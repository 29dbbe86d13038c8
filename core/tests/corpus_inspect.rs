//! Real mail nobody here wrote (../shared/corpus/realmail, ~5,700 messages:
//! SpamAssassin ham and spam, bounces from ~100 MTAs, MIME test suites) sent
//! as outgoing mail to an outside recipient: every one must be accepted by
//! the whole pipeline, none may panic. They are full of CPR-shaped traps
//! (DNS serials, timestamps, ids).

use cpr_milter_core::{config, Action, Envelope, Inspector};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/realmail")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the corpus lives in shared/ beside the repository)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_none_or(|e| e != "md" && e != "tsv") {
            out.push(p);
        }
    }
}

#[test]
fn every_real_message_is_accepted_as_outgoing_mail() {
    let cfg = config::parse(
        "listen: inet:127.0.0.1:1\norganisation:\n  domains: [nyborg.dk]\n  partner_domains: [fredericia.dk]\n",
        "test",
    )
    .unwrap();
    let inspector = Inspector::new(cfg, None);
    let env = Envelope {
        auth_user: Some("jens".into()),
        sender: "jens@nyborg.dk".into(),
        recipients: vec!["someone@example.com".into()],
        queue_id: Some("CORPUS".into()),
        ..Default::default()
    };
    let mut all = Vec::new();
    files(&corpus_dir(), &mut all);
    assert!(all.len() > 5000, "corpus incomplete: {} files", all.len());
    let mut rejected = Vec::new();
    for path in &all {
        let raw = std::fs::read(path).unwrap();
        let v = inspector.inspect_message(&env, &raw);
        if v.action != Action::Accept {
            let f = v.findings.first();
            rejected.push(format!(
                "{}: {:?} {:?} at {:?} ({:?})",
                path.display(),
                v.action,
                v.rule,
                f.map(|f| &f.location),
                f.map(|f| &f.reason)
            ));
        }
    }
    println!(
        "{} real messages inspected, {} rejected",
        all.len(),
        rejected.len()
    );
    assert!(
        rejected.is_empty(),
        "false rejects:\n{}",
        rejected.join("\n")
    );
}
