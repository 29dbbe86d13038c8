//! Real mail nobody here wrote (the real-mail corpus, ~5,700 messages:
//! SpamAssassin ham and spam, bounces from ~100 MTAs, MIME test suites) sent
//! as outgoing mail to an outside recipient: every one must be accepted by
//! the whole pipeline, none may panic. They are full of CPR-shaped traps
//! (DNS serials, timestamps, ids).

use cpr_milter_core::{config, Action, Envelope, Inspector};
mod common;

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
    let Some(all) =
        common::corpus_files("corpus_inspect::every_real_message_is_accepted_as_outgoing_mail")
    else {
        return;
    };
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
