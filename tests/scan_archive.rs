//! `cpr-milter scan` over the layouts archives come in, generated here:
//! Maildir++ with Dovecot's side files, MH, mboxrd with quoted `From `
//! lines, the same mbox compressed three ways, mbox on stdin; plus
//! `--compare`, `--csv`, the progress line and bad input.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use support::skip::skip_unavailable;

/// A synthetic number valid by modulus 11 (24 Oct 1985, serial 1337).
const CPR: &str = "241085-1337";

fn mail(subject: &str, to: &str, body: &str) -> String {
    format!(
        "From: Jens <jens@nyborg.dk>\r\nTo: {to}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\nSubject: {subject}\r\nMessage-ID: <{}@nyborg.dk>\r\n\r\n{body}\r\n",
        subject.len() * 31 + body.len()
    )
}

fn clean() -> String {
    mail("Mødeindkaldelse", "borger@example.org", "Vi ses kl. 10.")
}

fn cpr_in_subject() -> String {
    mail(&format!("Sag {CPR}"), "kollega@nyborg.dk", "Se emnet.")
}

fn cpr_in_body() -> String {
    mail("Journal", "borger@example.org", &format!("CPR: {CPR}"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn scan(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .arg("scan")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cpr-milter scan");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `--json` output: the per-message objects and the summary.
fn json(run: &Run) -> (Vec<Value>, Value) {
    let mut all: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = all.pop().expect("summary object");
    (all, summary["summary"].clone())
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn actions(messages: &[Value]) -> Vec<(String, String)> {
    messages
        .iter()
        .map(|m| {
            let path = m["path"].as_str().unwrap();
            let short = path.rsplit('/').next().unwrap().to_string();
            (short, m["action"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn maildir_plus_plus_reads_cur_and_new_only_and_skips_dovecot_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Maildir");
    write(&root.join("cur/1700000001.M1P1.host:2,S"), clean());
    write(&root.join("new/1700000002.M2P1.host"), cpr_in_subject());
    write(
        &root.join(".Sent/cur/1700000003.M3P1.host:2,S"),
        cpr_in_body(),
    );
    // Mail still being delivered: never read.
    write(&root.join("tmp/1700000004.M4P1.host"), cpr_in_body());
    write(&root.join(".Sent/tmp/1700000005.M5P1.host"), cpr_in_body());
    // Dovecot's and Maildir++'s side files, and a stray script.
    write(
        &root.join("dovecot.index"),
        b"\x01\x02\x00\x00\x00\x00index",
    );
    write(
        &root.join("dovecot-uidlist"),
        "3 V1700000000 N4 G3a1b\n1 :1700000001\n",
    );
    write(&root.join("dovecot-keywords"), "0 $Junk\n1 NonJunk\n");
    write(&root.join("subscriptions"), "Sent\nTrash\n");
    write(&root.join(".Sent/maildirfolder"), "");
    write(
        &root.join(".Sent/notes.py"),
        "import os\nprint('From: x')\n",
    );

    let run = scan(&["--json", root.to_str().unwrap()], None);
    assert_eq!(run.code, Some(1), "some rejected: {}", run.stderr);
    let (messages, summary) = json(&run);
    assert_eq!(
        actions(&messages),
        [
            ("1700000003.M3P1.host:2,S".into(), "reject".into()),
            ("1700000001.M1P1.host:2,S".into(), "accept".into()),
            ("1700000002.M2P1.host".into(), "reject".into()),
        ],
        "Maildir++ folders first (name order), then cur/ and new/"
    );
    assert_eq!(summary["messages"], 3);
    assert_eq!(summary["rejected"], 2);
    assert_eq!(summary["by_rule"]["cpr.subject"], 1);
    assert_eq!(summary["by_rule"]["cpr.body"], 1);
    assert_eq!(summary["skipped_files"], 6, "{summary}");
    assert_eq!(summary["skipped"]["empty file"], 1);
    assert_eq!(summary["skipped"]["binary data, not a message"], 1);
    assert_eq!(summary["errors"], 0);
    assert_eq!(messages[0]["date"], "2026-12-01T10:00:00+01:00");
    for name in [
        "dovecot.index",
        "dovecot-uidlist",
        "notes.py",
        "maildirfolder",
    ] {
        assert!(
            run.stderr.contains(&format!("{name}: skipped: ")),
            "{name} is reported as skipped: {}",
            run.stderr
        );
    }
    assert!(
        !run.stderr.contains("1700000004") && !run.stderr.contains("1700000005"),
        "tmp/ is not read: {}",
        run.stderr
    );
}

#[test]
fn mh_folders_are_read_in_numeric_order() {
    let dir = tempfile::tempdir().unwrap();
    let mh = dir.path().join("inbox");
    write(&mh.join("1"), clean());
    write(&mh.join("2"), cpr_in_body());
    write(&mh.join("10"), cpr_in_subject());
    write(&mh.join(".mh_sequences"), "unseen: 2-10\ncur: 1\n");
    let run = scan(&["--json", mh.to_str().unwrap()], None);
    let (messages, summary) = json(&run);
    assert_eq!(
        actions(&messages),
        [
            ("1".into(), "accept".into()),
            ("2".into(), "reject".into()),
            ("10".into(), "reject".into()),
        ]
    );
    assert_eq!(summary["skipped_files"], 1, "{}", run.stderr);
}

/// Three messages; the first quotes `From ` lines (mboxrd), and the second
/// carries its number right after such a line.
fn mboxrd() -> Vec<u8> {
    let quoted = "Citat:\r\n>From the minutes\r\n>>From the agenda\r\n";
    let second = mail(
        "Referat",
        "borger@example.org",
        &format!(">From the journal\r\nCPR: {CPR}"),
    );
    let mut out = String::new();
    for m in [mail("Citat", "borger@example.org", quoted), second, clean()] {
        out.push_str("From jens@nyborg.dk Tue Dec  1 10:00:00 2026\r\n");
        out.push_str(&m);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[test]
fn mboxrd_is_split_at_separators_and_unquoted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sent.mbox");
    write(&path, mboxrd());
    let run = scan(&["--json", path.to_str().unwrap()], None);
    let (messages, summary) = json(&run);
    assert_eq!(
        actions(&messages),
        [
            ("sent.mbox#1".into(), "accept".into()),
            ("sent.mbox#2".into(), "reject".into()),
            ("sent.mbox#3".into(), "accept".into()),
        ],
        "{}",
        run.stderr
    );
    assert_eq!(summary["messages"], 3);
    assert_eq!(run.code, Some(1));
}

#[test]
fn compressed_mboxes_give_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let plain = mboxrd();
    let gz = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let xz = {
        let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
        e.write_all(&plain).unwrap();
        e.finish().unwrap()
    };
    let zst =
        ruzstd::encoding::compress_to_vec(&plain[..], ruzstd::encoding::CompressionLevel::Fastest);
    let mut args = vec!["--json".to_string()];
    for (name, bytes) in [("a.mbox.gz", gz), ("b.mbox.xz", xz), ("c.mbox.zst", zst)] {
        let p = dir.path().join(name);
        write(&p, bytes);
        args.push(p.to_str().unwrap().to_string());
    }
    // A compressed single message too.
    let eml = dir.path().join("d.eml.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(cpr_in_subject().as_bytes()).unwrap();
    write(&eml, e.finish().unwrap());
    args.push(eml.to_str().unwrap().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = scan(&args, None);
    let (messages, summary) = json(&run);
    let verdicts: Vec<String> = actions(&messages).into_iter().map(|(_, a)| a).collect();
    let once = ["accept", "reject", "accept"];
    let expected: Vec<&str> = once
        .iter()
        .chain(&once)
        .chain(&once)
        .chain(&["reject"])
        .copied()
        .collect();
    assert_eq!(verdicts, expected, "{}", run.stderr);
    assert_eq!(summary["errors"], 0, "{}", run.stderr);
}

#[test]
fn mbox_on_stdin_is_recognised_by_its_first_line() {
    let run = scan(&["--json", "-"], Some(&mboxrd()));
    let (messages, _) = json(&run);
    let names: Vec<&str> = messages
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["-#1", "-#2", "-#3"]);
    assert_eq!(messages[1]["action"], "reject");

    let run = scan(&["--json", "-"], Some(cpr_in_body().as_bytes()));
    let (messages, _) = json(&run);
    assert_eq!(actions(&messages), [("-".into(), "reject".into())]);
}

#[test]
fn truncated_gzip_is_reported_after_the_messages_before_it() {
    let dir = tempfile::tempdir().unwrap();
    // Text that does not compress away, so the cut lands mid-archive.
    let mut plain = Vec::new();
    let mut seed = 12345u64;
    for i in 0..600 {
        let words: Vec<String> = (0..100)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:x}", seed >> 40)
            })
            .collect();
        plain.extend(b"From jens@nyborg.dk Tue Dec  1 10:00:00 2026\n");
        plain.extend(mail(&format!("m{i}"), "kollega@nyborg.dk", &words.join(" ")).as_bytes());
        plain.push(b'\n');
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&plain).unwrap();
    let mut gz = e.finish().unwrap();
    gz.truncate(gz.len() / 2);
    let path = dir.path().join("cut.mbox.gz");
    write(&path, gz);
    let run = scan(&["--json", path.to_str().unwrap()], None);
    assert_eq!(run.code, Some(2), "a read error is exit 2");
    let (messages, summary) = json(&run);
    assert!(
        messages.len() > 10 && messages.len() < 600,
        "{}",
        messages.len()
    );
    assert_eq!(summary["errors"], 1);
    assert!(
        run.stderr.contains("cut.mbox.gz: read error after") && run.stderr.contains("gzip"),
        "{}",
        run.stderr
    );
}

#[test]
fn unreadable_and_odd_files_are_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("a.eml"), cpr_in_body());
    // Not an mbox although named like one: text without headers.
    write(
        &dir.path().join("b.mbox"),
        "just some notes\nno separator\n",
    );
    // A large file of one "line" of binary zeros, sparse: judged by its
    // first bytes, never read whole.
    let big = std::fs::File::create(dir.path().join("c.img")).unwrap();
    big.set_len(4 << 30).unwrap();
    let missing = dir.path().join("missing.eml");
    let run = scan(
        &[
            "--json",
            dir.path().to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(run.code, Some(2));
    let (messages, summary) = json(&run);
    assert_eq!(actions(&messages), [("a.eml".into(), "reject".into())]);
    assert_eq!(summary["skipped_files"], 2, "{}", run.stderr);
    assert_eq!(summary["errors"], 1);
    assert!(
        run.stderr.contains("missing.eml: No such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_oversized_message_in_an_mbox_is_capped_and_the_next_one_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.yaml");
    write(
        &config,
        "listen: inet:127.0.0.1:1\norganisation:\n  domains: [nyborg.dk]\nlimits:\n  max_message_bytes: 100000\n",
    );
    let mut mbox = b"From jens@nyborg.dk Tue Dec  1 10:00:00 2026\nFrom: jens@nyborg.dk\nTo: a@example.org\nSubject: big\n\n".to_vec();
    mbox.extend(std::iter::repeat_n(b'a', 5_000_000)); // one 5 MB line
    mbox.extend(b"\n\nFrom jens@nyborg.dk Tue Dec  1 10:00:01 2026\n");
    mbox.extend(cpr_in_body().as_bytes());
    let path = dir.path().join("big.mbox");
    write(&path, mbox);
    let run = scan(
        &[
            "--json",
            "--config",
            config.to_str().unwrap(),
            path.to_str().unwrap(),
        ],
        None,
    );
    let (messages, _) = json(&run);
    assert_eq!(messages.len(), 2, "{}", run.stdout);
    assert!(messages[0]["size"].as_u64().unwrap() > 5_000_000);
    let reasons: Vec<&str> = messages[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("larger than")),
        "the size limit is seen, as by the daemon: {}",
        messages[0]
    );
    assert_eq!(messages[1]["action"], "reject");
}

fn config_with_negative_keywords(dir: &Path, name: &str, extra: &[&str]) -> String {
    let mut words: Vec<String> = cpr_milter_core::cpr::DEFAULT_NEGATIVE_KEYWORDS
        .iter()
        .map(|s| s.to_string())
        .collect();
    words.extend(extra.iter().map(|s| s.to_string()));
    let path = dir.join(name);
    write(
        &path,
        format!(
            "listen: inet:127.0.0.1:1\norganisation:\n  domains: [nyborg.dk]\ncpr:\n  negative_keywords: [{}]\n",
            words.join(", ")
        ),
    );
    path.to_str().unwrap().to_string()
}

#[test]
fn compare_lists_exactly_the_messages_one_keyword_changes() {
    let dir = tempfile::tempdir().unwrap();
    let old = config_with_negative_keywords(dir.path(), "old.yaml", &[]);
    let new = config_with_negative_keywords(dir.path(), "new.yaml", &["sagsnr"]);
    let mail_dir = dir.path().join("mail");
    write(
        &mail_dir.join("1.eml"),
        mail("a", "b@example.org", &format!("Sagsnr {CPR}")),
    );
    write(
        &mail_dir.join("2.eml"),
        mail("b", "b@example.org", &format!("CPR {CPR}")),
    );
    write(&mail_dir.join("3.eml"), clean());
    write(
        &mail_dir.join("4.eml"),
        mail("d", "b@example.org", &format!("Vedr. SAGSNR {CPR}")),
    );
    write(&mail_dir.join("5.eml"), cpr_in_subject());
    let mail_dir = mail_dir.to_str().unwrap();

    let run = scan(&["--compare", &old, &new, mail_dir], None);
    assert_eq!(run.code, Some(1), "differences: exit 1; {}", run.stderr);
    let changed: Vec<&str> = run.stdout.lines().filter(|l| l.contains(" -> ")).collect();
    assert_eq!(
        changed,
        [
            format!("{mail_dir}/1.eml: reject cpr.body at eom -> accept"),
            format!("{mail_dir}/4.eml: reject cpr.body at eom -> accept"),
        ]
    );
    assert!(run.stdout.contains("compared 5 message(s): 2 decided differently; stopped: 4 with the old configuration, 2 with the new"), "{}", run.stdout);

    let run = scan(&["--json", "--compare", &old, &new, mail_dir], None);
    let (changed, summary) = json(&run);
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[0]["old"]["action"], "reject");
    assert_eq!(changed[0]["new"]["action"], "accept");
    assert_eq!(summary["compare"]["changed"], 2);

    let same = scan(&["--compare", &old, &old, mail_dir], None);
    assert_eq!(same.code, Some(0), "{}", same.stdout);
}

#[test]
fn csv_has_one_row_per_finding_and_no_digits() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("a.mbox");
    let two = mail(
        &format!("=Sag {CPR}, \"vigtig\""),
        "2410851337@example.org",
        &format!("CPR: {CPR}"),
    );
    let mut data = String::new();
    for m in [clean(), two] {
        data.push_str("From jens@nyborg.dk Tue Dec  1 10:00:00 2026\n");
        data.push_str(&m);
        data.push('\n');
    }
    write(&mbox, data);
    let csv = dir.path().join("out.csv");
    let run = scan(
        &["-q", "--csv", csv.to_str().unwrap(), mbox.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "date,path,sender,recipients,subject,action,decided_by,rule,location,masked,confidence,fingerprint"
    );
    assert!(
        lines.len() >= 3,
        "header plus the subject and body findings: {text}"
    );
    for row in &lines[1..] {
        assert!(row.starts_with("2026-12-01T10:00:00+01:00,"), "{row}");
        assert!(row.contains("a.mbox#2"), "{row}");
        assert!(
            row.contains("\"'=Sag 2410XX-XXXX, \"\"vigtig\"\"\""),
            "subject masked, quoted, defused: {row}"
        );
        assert!(row.contains("2410XXXXXX@example.org"), "{row}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(",cpr.subject,header:Subject,2410XX-XXXX,")),
        "{text}"
    );
    assert!(!text.contains("1337"), "{text}");
}

#[test]
fn progress_is_drawn_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("a.mbox");
    write(&mbox, mboxrd());
    let bin = env!("CARGO_BIN_EXE_cpr-milter");

    let piped = scan(&[mbox.to_str().unwrap()], None);
    assert!(!piped.stderr.contains('\r'), "{:?}", piped.stderr);
    assert!(!piped.stderr.contains("scanning:"), "{:?}", piped.stderr);

    // util-linux script(1) runs the command on a pseudo-terminal.
    let cmd = format!("{bin} scan {} >/dev/null", mbox.display());
    let Ok(out) = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
    else {
        skip_unavailable(
            "progress_is_drawn_on_a_terminal_only",
            "script(1) from util-linux is not installed",
        );
        return;
    };
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("\r\x1b[Kscanning: "), "{tty:?}");
    assert!(tty.contains("3 messages"), "{tty:?}");

    let quiet = format!("{bin} scan -q {} >/dev/null", mbox.display());
    let out = Command::new("script")
        .args(["-qec", &quiet, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("scanning:"));
}
