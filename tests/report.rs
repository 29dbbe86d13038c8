//! `cpr-milter report` over syslog files as log systems write them: plain
//! and rotated-gzipped files mixed with other programs' lines, stdin, and
//! the fingerprint lookup of a suspected number.

use cpr_milter_core::cpr::fingerprint;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Synthetic numbers valid by modulus 11.
const SUSPECT: [u8; 10] = [2, 4, 1, 0, 8, 5, 1, 3, 3, 7];
const OTHER: [u8; 10] = [2, 9, 0, 2, 0, 0, 4, 0, 0, 1];
const KEY: &str = "an audit key of more than sixteen bytes";

fn audit(day: &str, qid: &str, action: &str, rule: &str, from: &str, fp: Option<&str>) -> String {
    let fp = fp.map_or(String::new(), |f| format!(" fingerprint={f}"));
    format!(
        "{day} 10:00:00 mx1 cpr-milter[812]: {qid}: action={action} rule={rule} stage=eom reply=\"550 5.7.1\" from=<{from}> rcpt=<b@x.dk>,<c@y.dk> client=h[10.1.2.3] auth=jens where=header:Subject cpr=2410XX-XXXX confidence=high{fp} reason=mod11+hyphen mode=enforce\n"
    )
}

fn report(args: &[&str], stdin: &[u8]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .arg("report")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The report may finish before it reads all of stdin (it reads files
    // when given some): a closed pipe is its choice, not a failure.
    match child.stdin.take().unwrap().write_all(stdin) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
        _ => {}
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn logs(dir: &Path) -> (String, String) {
    let fp_suspect = fingerprint(KEY.as_bytes(), &SUSPECT);
    let fp_other = fingerprint(KEY.as_bytes(), &OTHER);
    let current = [
        "Dec  2 09:59:00 mx1 postfix/smtpd[99]: connect from unknown[10.1.2.3]\n".to_string(),
        audit("Dec  2", "AAA111", "reject", "cpr.subject", "jens@nyborg.dk", Some(&fp_suspect)),
        audit("Dec  2", "AAA112", "would-reject", "cpr.body", "kim@nyborg.dk", Some(&fp_other)),
        "Dec  2 10:00:01 mx1 cpr-milter[812]: configuration reloaded from /etc/cpr-milter/milter.yaml (mode=enforce)\n".into(),
        // An older or damaged line.
        "Dec  2 10:00:02 mx1 cpr-milter[812]: AAA113: action=reject\n".into(),
    ]
    .concat();
    let rotated = [
        audit(
            "Dec  1",
            "BBB111",
            "reject",
            "cpr.body",
            "jens@nyborg.dk",
            Some(&fp_suspect),
        ),
        audit(
            "Dec  1",
            "BBB112",
            "tempfail",
            "internal.timeout",
            "kim@nyborg.dk",
            None,
        ),
    ]
    .concat();
    let current_path = dir.join("mail.log");
    std::fs::write(&current_path, &current).unwrap();
    let rotated_path = dir.join("mail.log.2.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(rotated.as_bytes()).unwrap();
    std::fs::write(&rotated_path, e.finish().unwrap()).unwrap();
    (
        current_path.to_str().unwrap().to_string(),
        rotated_path.to_str().unwrap().to_string(),
    )
}

#[test]
fn rotated_and_current_logs_are_summarised_together() {
    let dir = tempfile::tempdir().unwrap();
    let (current, rotated) = logs(dir.path());
    let (code, out, err) = report(&["--json", &rotated, &current], b"");
    assert_eq!(code, Some(0), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["files"], 2);
    assert_eq!(r["lines"], 7);
    assert_eq!(r["decisions"], 4);
    assert_eq!(r["other_program_lines"], 1);
    assert_eq!(r["operational_lines"], 1);
    assert_eq!(r["unreadable_audit_lines"], 1);
    assert_eq!(r["by_action"]["reject"], 2);
    assert_eq!(r["by_action"]["would-reject"], 1);
    assert_eq!(r["by_action"]["tempfail"], 1);
    assert_eq!(r["tempfails"]["internal.timeout: mod11+hyphen"], 1);
    let days: Vec<(String, String)> = r["by_day_and_rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().into(),
                d["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("12-01".into(), "cpr.body".into()),
            ("12-01".into(), "internal.timeout".into()),
            ("12-02".into(), "cpr.body".into()),
            ("12-02".into(), "cpr.subject".into()),
        ]
    );
    assert_eq!(r["by_recipient_domain"]["x.dk"]["reject"], 2);
    assert_eq!(r["top_cpr_senders"][0]["sender"], "<jens@nyborg.dk>");
    assert_eq!(r["top_cpr_senders"][0]["decisions"], 2);

    // The same from stdin, as text.
    let both = [
        std::fs::read_to_string(&current).unwrap(),
        std::fs::read_to_string(&current).unwrap(),
    ]
    .concat();
    let (code, text, _) = report(&[], both.as_bytes());
    assert_eq!(code, Some(0));
    assert!(
        text.starts_with(
            "4 decision(s) in 10 line(s) from 1 input(s); 2 audit line(s) could not be read"
        ),
        "{text}"
    );
    assert!(
        text.contains("by action: reject 2, would-reject 2\n"),
        "{text}"
    );
    assert!(
        text.contains("top senders of mail with CPR numbers:"),
        "{text}"
    );
}

#[test]
fn a_suspected_number_finds_its_lines_and_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (current, rotated) = logs(dir.path());
    let key = dir.path().join("key");
    std::fs::write(&key, format!("{KEY}\n")).unwrap();
    let key = key.to_str().unwrap();
    let (code, out, err) = report(
        &["--fingerprint-key", key, &rotated, &current],
        b"241085-1337\n\n0101010101\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("suspect 1 (2410XX-XXXX): 2 line(s)\n"),
        "{out}"
    );
    assert!(
        out.contains("BBB111: action=reject") && out.contains("AAA111: action=reject"),
        "{out}"
    );
    assert!(out.contains("suspect 2 (0101XX-XXXX): 0 line(s)"), "{out}");
    assert!(!out.contains("1337") && !err.contains("1337"), "{out}{err}");

    let (code, out, _) = report(
        &["--json", "--fingerprint-key", key, &current],
        b"2410851337\n",
    );
    assert_eq!(code, Some(0));
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["suspects"][0]["lines"].as_array().unwrap().len(), 1);

    let (code, _, err) = report(&["--fingerprint-key", key, &current], b"24108513\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("line 1: not a CPR number"), "{err}");
    assert!(!err.contains("24108513"), "the input is not echoed: {err}");

    let (code, _, err) = report(&["--fingerprint-key", key], b"2410851337\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("give the log files as arguments"), "{err}");
}

#[test]
fn an_unreadable_file_is_reported_and_the_others_still_counted() {
    let dir = tempfile::tempdir().unwrap();
    let (current, _) = logs(dir.path());
    let missing = dir.path().join("mail.log.9.gz");
    let (code, out, err) = report(&["--json", missing.to_str().unwrap(), &current], b"");
    assert_eq!(code, Some(2));
    assert!(err.contains("mail.log.9.gz: No such file"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["decisions"], 2);
}
