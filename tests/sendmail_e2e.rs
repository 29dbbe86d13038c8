//! End to end against a real Sendmail (Debian's sendmail-bin 8.17, unpacked
//! privately by scripts/install-sendmail.sh; see tests/support/sendmail.rs)
//! configured with the README's `INPUT_MAIL_FILTER` line and consulting the
//! real `cpr-milter run` daemon: what an SMTP client sees, what is
//! delivered, and what the milter logs.
//!
//! Needs root and the unpacked Sendmail; `./scripts/test.sh` provides both.
//! `CPR_E2E_KEEP=1` keeps the temporary directories.
//!
//! All CPR numbers here are synthetic test numbers (valid date, mod-11).

mod support;

use std::time::Duration;
use support::milter::{Milter, ORG_DOMAIN};
use support::sendmail::{self, Sendmail, AUTH_PASSWORD, AUTH_USER, INBOX_DOMAIN};
use support::smtp::{last_line, send_mail, Client, Outcome, Reply};

/// A synthetic CPR number: 24 Oct 1985, passes mod-11.
const CPR: &str = "241085-1337";
const CPR_MASKED: &str = "2410XX-XXXX";
const PARTNERS: &str = "  partner_domains: [fredericia.dk]\n";
const LOG_WAIT: Duration = Duration::from_secs(10);
/// How long to keep looking for mail that must NOT arrive.
const SETTLE: Duration = Duration::from_millis(1500);

fn sender() -> String {
    format!("jens@{ORG_DOMAIN}")
}

fn inbox(local: &str) -> String {
    format!("{local}@{INBOX_DOMAIN}")
}

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jens Hansen <{}>\r\n\
         To: <{}>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         {body}\r\n",
        sender(),
        inbox("borger")
    )
    .into_bytes()
}

/// The milter (with `organisation` lines) and a Sendmail consulting it.
/// Dropped in field order: Sendmail first, then the milter.
struct SendmailStack {
    sendmail: Sendmail,
    milter: Milter,
}

impl SendmailStack {
    fn start(organisation: &str) -> SendmailStack {
        SendmailStack::start_with(organisation, "")
    }

    /// `organisation` lines inside `organisation:`, `extra_yaml` top-level
    /// keys, as for `Milter::start_with`.
    fn start_with(organisation: &str, extra_yaml: &str) -> SendmailStack {
        let milter = Milter::start_with(organisation, extra_yaml);
        let sendmail = Sendmail::start(milter.port());
        SendmailStack { sendmail, milter }
    }

    fn send(&self, rcpts: &[&str], message: &[u8]) -> Outcome {
        send_mail(self.sendmail.port(), &sender(), rcpts, message)
    }

    fn context(&self) -> String {
        format!(
            "--- milter log:\n{}\n--- sendmail output:\n{}\n--- queue: {:?}",
            self.milter.log(),
            self.sendmail.output(),
            self.sendmail.queue_files()
        )
    }

    /// The milter's audit line containing all of `parts`.
    fn audit_line(&self, parts: &[&str]) -> String {
        support::poll(LOG_WAIT, || {
            self.milter
                .log()
                .lines()
                .find(|l| parts.iter().all(|p| l.contains(p)))
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no audit line with {parts:?}\n{}", self.context()))
    }

    /// After a short settle time exactly `n` messages were delivered and
    /// nothing waits in the queue.
    fn assert_settled_with(&self, n: usize) -> Vec<Vec<u8>> {
        std::thread::sleep(SETTLE);
        let delivered = self.sendmail.delivered();
        assert_eq!(delivered.len(), n, "{}", self.context());
        let queued = support::poll(DELIVERY_SETTLE, || {
            self.sendmail.queue_files().is_empty().then_some(())
        });
        assert!(queued.is_some(), "queue not empty:\n{}", self.context());
        delivered
    }
}

const DELIVERY_SETTLE: Duration = Duration::from_secs(10);

/// Sendmail's queue id from `250 2.0.0 ID Message accepted for delivery`.
fn accepted_id(out: &Outcome) -> String {
    let r = out
        .message
        .as_ref()
        .filter(|r| r.code == 250)
        .unwrap_or_else(|| panic!("message not accepted:\n{}", out.transcript));
    let text = r.text();
    let id = text
        .strip_prefix("250 2.0.0 ")
        .and_then(|rest| rest.strip_suffix(" Message accepted for delivery"))
        .unwrap_or_else(|| panic!("unexpected 250 reply: {text}"));
    assert_sendmail_queue_id(id);
    id.to_string()
}

/// Sendmail 8.17's queue ids are 14 characters: letters and digits.
fn assert_sendmail_queue_id(id: &str) {
    assert!(
        id.len() == 14 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id:?} does not look like a Sendmail queue id"
    );
}

/// The built-in reply for a CPR number in the Subject, as Sendmail shows it.
fn subject_reply(reference: &str) -> String {
    [
        "550-5.7.1 Afvist: emnefeltet eller et filnavn indeholder et CPR-nummer. \
         Fjern nummeret fra emne og filnavne og send igen."
            .to_string(),
        "550-5.7.1 Rejected: the subject or a file name contains a Danish CPR number. \
         Remove the number from the subject and file names and send again."
            .to_string(),
        format!(
            "550 5.7.1 {}",
            last_line(
                "CPR-nummer i emne eller filnavn / CPR number in subject or file name",
                reference
            )
        ),
    ]
    .join("\r\n")
}

/// A RCPT reply as Sendmail shows it: like Postfix, except that Sendmail
/// puts `<address>... ` in front of the first line's text.
fn rcpt_reply(status: &str, rcpt: &str, lines: [String; 3]) -> String {
    let (code, xcode) = status.split_once(' ').expect("code and enhanced code");
    format!(
        "{code}-{xcode} <{rcpt}>... {}\r\n{code}-{xcode} {}\r\n{code} {xcode} {}",
        lines[0], lines[1], lines[2]
    )
}

fn assert_no_cpr_digits(what: &str, text: &str) {
    let (date, serial) = CPR.split_once('-').expect("DDMMYY-SSSS");
    for spelling in [
        format!("{date}-{serial}"),
        format!("{date}{serial}"),
        format!("{date} {serial}"),
    ] {
        assert!(
            !text.contains(&spelling),
            "{what} contains the test number {spelling}:\n{text}"
        );
    }
}

/// The value of header `name` in a delivered message.
fn header(message: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let prefix = format!("{}:", name.to_ascii_lowercase());
    text.lines()
        .take_while(|l| !l.trim_end().is_empty())
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .map(|l| l[prefix.len()..].trim().to_string())
}

// ---------------------------------------------------------------------------

/// The harness itself: the configuration carries the README's filter line
/// verbatim (port aside) and Sendmail negotiated with the milter.
#[test]
fn sendmail_runs_the_readme_filter_line() {
    let st = SendmailStack::start("");
    let cf = st.sendmail.cf();
    let expected = format!(
        "Xcpr-milter, S=inet:{}@127.0.0.1, F=T, T=S:30s;R:30s;E:5m",
        st.milter.port()
    );
    assert!(
        cf.lines().any(|l| l == expected),
        "sendmail.cf lacks {expected:?}"
    );
    assert!(cf.contains("O InputMailFilters=cpr-milter"), "{cf}");
    eprintln!(
        "Sendmail {} with: {}",
        st.sendmail.version(),
        sendmail::readme_filter_line(8899)
    );
}

/// A TCP relay between Sendmail and the milter that keeps a copy of what
/// Sendmail sends, for checking the negotiation and the macros.
struct RecordingRelay {
    port: u16,
    from_mta: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl RecordingRelay {
    fn start(milter_port: u16) -> RecordingRelay {
        use std::io::{Read, Write};
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let from_mta = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = from_mta.clone();
        std::thread::spawn(move || {
            for mta in listener.incoming().flatten() {
                let Ok(milter) = TcpStream::connect(("127.0.0.1", milter_port)) else {
                    continue;
                };
                let (mut mta_r, mut milter_w) = (
                    mta.try_clone().expect("clone"),
                    milter.try_clone().expect("clone"),
                );
                let (mut milter_r, mut mta_w) = (milter, mta);
                let record = record.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = mta_r.read(&mut buf) {
                        if n == 0 || milter_w.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        record.lock().expect("lock").extend_from_slice(&buf[..n]);
                    }
                    let _ = milter_w.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut milter_r, &mut mta_w);
                    let _ = mta_w.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        RecordingRelay { port, from_mta }
    }

    /// The milter packets Sendmail sent: (command, data).
    fn packets(&self) -> Vec<(u8, Vec<u8>)> {
        let bytes = self.from_mta.lock().expect("lock").clone();
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while rest.len() >= 5 {
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if len == 0 || rest.len() < 4 + len {
                break;
            }
            out.push((rest[4], rest[5..4 + len].to_vec()));
            rest = &rest[4 + len..];
        }
        out
    }
}

/// What Sendmail tells the milter, read off the wire: it negotiates milter
/// protocol version 6 and, with no `confMILTER_MACROS_*` line, sends the
/// macros the milter asks for: `i` at MAIL, but not at end of message.
#[test]
fn sendmail_negotiates_protocol_6_and_sends_the_queue_id_at_mail() {
    let milter = Milter::start_with("", "");
    let relay = RecordingRelay::start(milter.port());
    let sendmail = Sendmail::start(relay.port);
    let out = send_mail(
        sendmail.port(),
        &sender(),
        &[&inbox("borger")],
        &message("Hej", "Hej"),
    );
    assert!(out.accepted(), "{}", out.transcript);
    let qid = accepted_id(&out);
    sendmail.wait_delivered(1);
    let packets = relay.packets();
    let optneg = packets
        .iter()
        .find(|(cmd, _)| *cmd == b'O')
        .unwrap_or_else(|| panic!("no SMFIC_OPTNEG in {packets:?}"));
    let version = u32::from_be_bytes(optneg.1[..4].try_into().expect("4 bytes"));
    assert_eq!(version, 6, "Sendmail offered milter protocol {version}");
    // SMFIC_MACRO packets: 'D', the stage's command, then name\0value\0...
    let macros = |stage: u8| -> Vec<(String, String)> {
        packets
            .iter()
            .filter(|(cmd, data)| *cmd == b'D' && data.first() == Some(&stage))
            .flat_map(|(_, data)| {
                let fields: Vec<String> = data[1..]
                    .split(|&b| b == 0)
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect();
                fields
                    .chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| (c[0].clone(), c[1].clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let at_mail = macros(b'M');
    assert!(
        at_mail.iter().any(|(k, v)| k == "i" && v == &qid),
        "no i={qid} at MAIL: {at_mail:?}"
    );
    assert!(
        !macros(b'E').iter().any(|(k, _)| k == "i"),
        "Sendmail now sends i at end of message: {:?}",
        macros(b'E')
    );
    eprintln!(
        "Sendmail {}: milter protocol {version}, at MAIL: {at_mail:?}",
        sendmail.version()
    );
}

/// Clean mail passes the milter, gets 250 and is delivered.
#[test]
fn clean_mail_is_accepted_and_delivered() {
    let st = SendmailStack::start("");
    let rcpt = inbox("borger");
    let out = st.send(
        &[&rcpt],
        &message(
            "Referat af moedet 2024-10-24",
            "Hej\r\n\r\nSag 2024-1337, tlf. 12 34 56 78.\r\n",
        ),
    );
    assert!(out.accepted(), "{}\n{}", out.transcript, st.context());
    let qid = accepted_id(&out);
    let delivered = st.sendmail.wait_delivered(1);
    let text = String::from_utf8_lossy(&delivered[0]);
    assert!(text.contains("Subject: Referat af moedet"), "{text}");
    assert!(text.contains(&format!("id {qid}")), "{text}");
    assert_eq!(
        header(&delivered[0], "X-Delivered-To").as_deref(),
        Some(rcpt.as_str())
    );
    assert!(
        !st.milter.log().contains("action=reject"),
        "{}",
        st.context()
    );
    st.assert_settled_with(1);
}

/// A CPR number in the Subject: the client sees exactly the three lines
/// (Danish, English, reference) after the final dot; the reference is the
/// Sendmail queue id, which Sendmail sends only at MAIL (no `i` at end of
/// message), and the audit line carries it. Nothing is delivered or queued.
#[test]
fn cpr_in_subject_is_rejected_with_the_exact_lines() {
    let st = SendmailStack::start("");
    let rcpt = inbox("borger");
    let out = st.send(
        &[&rcpt],
        &message(&format!("Vedr. borger {CPR}"), "Hej\r\n\r\nSe emnet.\r\n"),
    );
    let reply = out
        .message
        .as_ref()
        .unwrap_or_else(|| panic!("message never sent:\n{}\n{}", out.transcript, st.context()));
    eprintln!("client saw:\n{reply}\n");
    let qid = reply.reference();
    assert_sendmail_queue_id(&qid);
    assert_eq!(reply.text(), subject_reply(&qid), "{}", out.transcript);

    let line = st.audit_line(&[&format!("{qid}: action=reject")]);
    eprintln!("audit line:\n{line}\n");
    for part in [
        "rule=cpr.subject",
        "stage=eom",
        "reply=\"550 5.7.1\"",
        &format!("from=<{}>", sender()),
        &format!("rcpt=<{rcpt}>"),
        "[127.0.0.1]",
        "where=header:Subject",
        &format!("cpr={CPR_MASKED}"),
        "mode=enforce",
    ] {
        assert!(line.contains(part), "audit line lacks {part:?}:\n{line}");
    }
    for r in out.replies() {
        assert_no_cpr_digits("an SMTP reply", &r.text());
    }
    assert_no_cpr_digits("the milter log", &st.milter.log());
    st.assert_settled_with(0);
}

/// In one transaction a lookalike of the partner domain and a retired
/// mailbox are refused at RCPT with the milter's exact lines (Sendmail adds
/// `<address>... ` to the first), while the good recipient gets 250 and is
/// the only one the mail is delivered to. The references are the
/// transaction's queue id, the one the 250 names.
#[test]
fn lookalike_and_retired_recipients_are_refused_while_the_good_one_gets_the_mail() {
    let retired = inbox("nedlagt");
    let new_address = format!("ny.postkasse@{ORG_DOMAIN}");
    let st = SendmailStack::start_with(
        PARTNERS,
        &format!("recipients:\n  retired:\n    {retired}: {new_address}\n"),
    );
    let good = inbox("borger");
    let lookalike = "sag@fred.dk";
    let out = st.send(
        &[lookalike, &good, &retired],
        &message("Sagen", "Hej\r\n\r\nSe vedlagte.\r\n"),
    );
    eprintln!("client saw:\n{}\n", out.transcript);
    let ctx = || format!("{}\n{}", out.transcript, st.context());
    assert_eq!(out.rcpts.len(), 3, "{}", ctx());
    let qid = accepted_id(&out);

    let refused = &out.rcpts[0].1;
    assert_eq!(refused.code, 550, "{}", ctx());
    assert_eq!(refused.reference(), qid, "{}", ctx());
    assert_eq!(
        refused.text(),
        rcpt_reply(
            "550 5.1.2",
            lookalike,
            [
                "Afvist: domaenet fred.dk ligner fredericia.dk. Mente du fredericia.dk? \
                 Ret adressen og send igen."
                    .into(),
                "Rejected: the domain fred.dk looks like fredericia.dk. Did you mean \
                 fredericia.dk? Correct the address and send again."
                    .into(),
                last_line(
                    "Mente du fredericia.dk? / Did you mean fredericia.dk?",
                    &qid
                ),
            ]
        ),
        "{}",
        ctx()
    );
    assert_eq!(out.rcpts[1].1.code, 250, "{}", ctx());
    let refused = &out.rcpts[2].1;
    assert_eq!(refused.code, 550, "{}", ctx());
    assert_eq!(
        refused.text(),
        rcpt_reply(
            "550 5.1.6",
            &retired,
            [
                format!("Afvist: postkassen {retired} er nedlagt. Skriv i stedet til {new_address}."),
                format!(
                    "Rejected: the mailbox {retired} has been retired. Write to {new_address} instead."
                ),
                last_line(
                    &format!(
                        "Postkassen er nedlagt, skriv til {new_address} / \
                         Mailbox retired, write to {new_address}"
                    ),
                    &qid
                ),
            ]
        ),
        "{}",
        ctx()
    );

    let delivered = st.assert_settled_with(1);
    assert_eq!(
        header(&delivered[0], "X-Delivered-To").as_deref(),
        Some(good.as_str()),
        "{}",
        ctx()
    );
    for (rcpt, rule, status) in [
        (lookalike, "recipient.lookalike", "550 5.1.2"),
        (retired.as_str(), "recipient.retired", "550 5.1.6"),
    ] {
        let line = st.audit_line(&[
            &format!("{qid}: action=reject"),
            &format!("rule={rule}"),
            &format!("rcpt=<{rcpt}>"),
        ]);
        eprintln!("audit line:\n{line}\n");
        assert!(line.contains("stage=rcpt"), "{line}");
        assert!(line.contains(&format!("reply=\"{status}\"")), "{line}");
    }
}

/// One SMTP AUTH (PLAIN) transaction: returns what the client saw.
fn send_authenticated(port: u16, rcpt: &str, message: &[u8]) -> (Reply, Outcome) {
    let mut c = Client::connect(port).expect("connect to Sendmail");
    let ehlo = c.ehlo("client.e2e.test").expect("EHLO");
    assert!(ehlo.text().contains("AUTH"), "no AUTH offered:\n{ehlo}");
    let token = support::base64(format!("\0{AUTH_USER}\0{AUTH_PASSWORD}").as_bytes());
    let auth = c.command(&format!("AUTH PLAIN {token}")).expect("AUTH");
    let mail = c.mail_from(&sender()).expect("MAIL");
    let r = c.rcpt_to(rcpt).expect("RCPT");
    let data = c.data().expect("DATA");
    let reply = c.send_message(message).expect("message");
    let _ = c.command("QUIT");
    let outcome = Outcome {
        banner: c.banner.clone(),
        ehlo,
        mail,
        rcpts: vec![(rcpt.to_string(), r)],
        data: Some(data),
        message: Some(reply),
        transcript: c.transcript_text(),
    };
    (auth, outcome)
}

/// With the client's address outside `organisation.networks`, only SMTP
/// AUTH makes a session outgoing: the same mail with a CPR number in the
/// Subject is accepted without AUTH (incoming, not policed) and refused
/// after AUTH, and the audit line names the authenticated user, so Sendmail
/// passed `{auth_authen}` without any extra macro configuration.
#[test]
fn authenticated_session_is_policed_and_audited_with_the_user() {
    let st = SendmailStack::start("  networks: [10.0.0.0/8]\n");
    let rcpt = inbox("borger");
    let msg = message(&format!("Vedr. borger {CPR}"), "Hej");

    let plain = st.send(&[&rcpt], &msg);
    assert!(plain.accepted(), "{}\n{}", plain.transcript, st.context());
    st.sendmail.wait_delivered(1);

    let (auth, out) = send_authenticated(st.sendmail.port(), &rcpt, &msg);
    eprintln!("client saw:\n{}\n", out.transcript);
    assert_eq!(auth.code, 235, "{}\n{}", out.transcript, st.context());
    let reply = out.message.as_ref().expect("sent");
    let qid = reply.reference();
    assert_eq!(reply.text(), subject_reply(&qid), "{}", out.transcript);
    let line = st.audit_line(&[&format!("{qid}: action=reject"), "rule=cpr.subject"]);
    eprintln!("audit line:\n{line}\n");
    assert!(line.contains(&format!(" auth={AUTH_USER}")), "{line}");
    st.assert_settled_with(1);
}

/// The milter down: with `F=T` Sendmail answers 451 4.3.2, the client keeps the
/// mail, nothing is delivered or queued. Before the stop the same path
/// delivers, so the 4xx is the milter's absence and nothing else.
#[test]
fn milter_down_tempfails_and_nothing_is_delivered() {
    let mut st = SendmailStack::start("");
    let rcpt = inbox("borger");
    let before = st.send(&[&rcpt], &message("Foer stop", "Hej"));
    assert!(before.accepted(), "{}\n{}", before.transcript, st.context());
    st.sendmail.wait_delivered(1);

    st.milter.stop();
    let out = st.send(&[&rcpt], &message("Efter stop", "Hej"));
    eprintln!("client saw:\n{}\n", out.transcript);
    let decisive = out.decisive();
    assert!(
        decisive.is_transient(),
        "expected 4xx, got:\n{}\n{}",
        out.transcript,
        st.context()
    );
    // Sendmail refuses at MAIL, before taking the message.
    assert_eq!(out.mail.text(), "451 4.3.2 Please try again later");
    assert!(!out.accepted());
    st.assert_settled_with(1);
}
