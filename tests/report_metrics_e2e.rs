//! `cpr-milter report` and the live metrics checked against what SMTP
//! clients saw through a real Postfix: a known mix of mail goes through,
//! then the metrics scraped over HTTP and the report over the milter's
//! audit lines must count exactly the rejects and accepts the clients got.
//!
//! Needs root and Postfix, like the other end-to-end tests.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::milter::ORG_DOMAIN;
use support::stack::{inbox, sender, Stack};

/// A synthetic number valid by modulus 11 (24 Oct 1985, serial 1337).
const CPR: &str = "241085-1337";
const WAIT: Duration = Duration::from_secs(10);

fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Jens <{}>\r\nTo: <{}>\r\nSubject: {subject}\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\nMessage-ID: <m-{}@{ORG_DOMAIN}>\r\n\r\n{body}\r\n",
        sender(),
        inbox("borger"),
        subject.len() + body.len()
    )
    .into_bytes()
}

/// `GET /metrics` over HTTP/1.0: the samples, by name with labels.
fn scrape(port: u16) -> BTreeMap<String, f64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics listener");
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4"),
        "{head}"
    );
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("name value");
            (k.to_string(), v.parse().expect("a number"))
        })
        .collect()
}

fn decisions(m: &BTreeMap<String, f64>, stage: &str, action: &str) -> f64 {
    m.iter()
        .filter(|(k, _)| {
            k.starts_with("cpr_milter_decisions_total{")
                && k.contains(&format!("stage=\"{stage}\""))
                && k.contains(&format!("action=\"{action}\""))
        })
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn report_and_metrics_count_what_smtp_clients_saw() {
    let metrics_port = support::free_port();
    let st = Stack::start(
        "  partner_domains: [fredericia.dk]\n",
        &format!("metrics:\n  listen: inet:127.0.0.1:{metrics_port}\n"),
    );
    let good = inbox("borger");
    let mix: Vec<(Vec<&str>, Vec<u8>)> = vec![
        (vec![&good], message("Mødeindkaldelse", "Vi ses kl. 10.")),
        (vec![&good], message(&format!("Sag {CPR}"), "Se emnet.")),
        (vec![&good], message("Journal", &format!("CPR: {CPR}"))),
        (vec![&good], message("Referat", "Intet nummer her.")),
        (vec!["sag@fred.dk"], message("Til partner", "Hej.")),
        (vec![&good], message(&format!("Igen {CPR}"), "Hej.")),
        (
            vec![&good, "sag@fredericia.dk.com"],
            message("To modtagere", "Hej."),
        ),
    ];
    // A client that connects to the metrics listener and never sends or
    // reads holds one slot; scraping still works.
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(("127.0.0.1", metrics_port)).unwrap())
        .collect();

    let (mut eom_rejects, mut rcpt_rejects, mut accepted, mut rcpt_accepts) = (0, 0, 0, 0);
    for (rcpts, msg) in &mix {
        let out = st.send(rcpts, msg);
        for (_, r) in &out.rcpts {
            if r.code >= 500 {
                rcpt_rejects += 1;
            } else if r.code == 250 {
                rcpt_accepts += 1;
            }
        }
        match &out.message {
            Some(r) if r.code == 250 => accepted += 1,
            Some(r) if r.code >= 500 => eom_rejects += 1,
            Some(r) => panic!("unexpected reply {r}\n{}", st.context()),
            None => {}
        }
    }
    assert_eq!(
        (eom_rejects, rcpt_rejects, accepted),
        (3, 2, 3),
        "{}",
        st.context()
    );

    let m = scrape(metrics_port);
    drop(idle);
    assert_eq!(decisions(&m, "eom", "reject"), eom_rejects as f64, "{m:#?}");
    assert_eq!(decisions(&m, "eom", "accept"), accepted as f64, "{m:#?}");
    assert_eq!(
        decisions(&m, "rcpt", "reject"),
        rcpt_rejects as f64,
        "{m:#?}"
    );
    assert_eq!(
        decisions(&m, "rcpt", "accept"),
        rcpt_accepts as f64,
        "{m:#?}"
    );
    assert_eq!(
        m["cpr_milter_decisions_total{stage=\"eom\",action=\"reject\",rule=\"cpr.subject\"}"],
        2.0
    );
    assert_eq!(
        m["cpr_milter_decisions_total{stage=\"rcpt\",action=\"reject\",rule=\"recipient.lookalike\"}"],
        2.0
    );
    assert_eq!(
        m["cpr_milter_inspection_seconds_count"],
        (eom_rejects + accepted) as f64
    );
    assert_eq!(
        m["cpr_milter_message_bytes_count"],
        (eom_rejects + accepted) as f64
    );
    assert_eq!(m["cpr_milter_inspections_in_flight"], 0.0);
    assert_eq!(m["cpr_milter_config_generation"], 1.0);
    assert!(m.contains_key(&format!(
        "cpr_milter_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    )));
    for key in m.keys() {
        assert!(
            !key.contains('@') && !key.contains("1337"),
            "label holds an address or number: {key}"
        );
    }

    // The report over the milter's own audit lines.
    let log = st.milter.dir().join("milter.stderr");
    let out = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["report", "--json"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["by_action"]["reject"],
        eom_rejects + rcpt_rejects,
        "{report:#}\n{}",
        st.context()
    );
    assert_eq!(report["unreadable_audit_lines"], 0);
    assert!(
        report["operational_lines"].as_u64().unwrap() >= 1,
        "the start line"
    );
    let top = &report["top_cpr_senders"][0];
    assert_eq!(top["sender"], format!("<{}>", sender()));
    assert_eq!(top["decisions"], 3);
    assert_eq!(report["by_recipient_domain"]["fred.dk"]["reject"], 1);

    // A reload counts in the metrics; a refused one too.
    st.milter.reload();
    st.milter.wait_log("configuration reloaded", WAIT);
    assert_eq!(scrape(metrics_port)["cpr_milter_config_generation"], 2.0);
    st.milter.write_config_raw("listen: [broken\n");
    st.milter.reload();
    st.milter.wait_log("reload refused", WAIT);
    let m = scrape(metrics_port);
    assert_eq!(m["cpr_milter_config_generation"], 2.0);
    assert_eq!(m["cpr_milter_last_reload_success"], 0.0);
}
