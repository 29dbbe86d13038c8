//! One grep-able key=value line per decision that is not a plain accept
//! (docs/operations.md, "Logs"). Never contains CPR digits: numbers appear masked, file
//! names and addresses are redacted.

use cpr_milter_core::config::Mode;
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::{Action, Envelope, Finding, RcptVerdict, Verdict};

/// `action=` value: `reject`, `tempfail`, `would-reject`, `accept` (accept
/// lines are only written when something was found).
fn action_word(action: Action, would: Option<Action>) -> String {
    match would {
        Some(w) if action == Action::Accept => format!("would-{}", w.as_str()),
        _ => action.as_str().to_string(),
    }
}

fn quote(v: &str) -> String {
    let clean: String = v
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if clean.is_empty() || clean.contains([' ', '"', '=']) {
        format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        clean
    }
}

fn push(line: &mut String, key: &str, value: &str) {
    line.push(' ');
    line.push_str(key);
    line.push('=');
    line.push_str(&quote(value));
}

/// The transaction's fields; `recipients` are the ones this line is about.
fn common(line: &mut String, env: &Envelope, recipients: &[String]) {
    if let (None, Some(r)) = (queue_id(env), &env.reference) {
        push(line, "ref", r);
    }
    push(line, "from", &format!("<{}>", redact_digits(&env.sender)));
    let rcpts: Vec<String> = recipients
        .iter()
        .map(|r| format!("<{}>", redact_digits(r)))
        .collect();
    push(line, "rcpt", &rcpts.join(","));
    // The host name comes from the client's DNS; its digits are masked like
    // any free text, the address (from the socket) is kept as it is.
    let client_name = env.client_name.as_deref().map(redact_digits);
    let client = match (client_name, env.client_ip) {
        (Some(n), Some(a)) => format!("{n}[{a}]"),
        (None, Some(a)) => format!("unknown[{a}]"),
        (Some(n), None) => n,
        (None, None) => "local".into(),
    };
    push(line, "client", &client);
    if let Some(a) = env.auth_user.as_deref().filter(|a| !a.is_empty()) {
        push(line, "auth", &redact_digits(a));
    }
}

fn queue_id(env: &Envelope) -> Option<&str> {
    env.queue_id.as_deref().filter(|q| !q.is_empty())
}

fn finding_fields(line: &mut String, f: &Finding) {
    // Findings hold redacted text only (the type has no other constructor).
    push(line, "where", f.location.as_str());
    if let Some(m) = &f.masked {
        push(line, "cpr", m);
    }
    if let Some(c) = f.confidence {
        push(line, "confidence", c.as_str());
    }
    if let Some(fp) = &f.fingerprint {
        push(line, "fingerprint", fp);
    }
    if let Some(c) = f.cause {
        push(line, "cause", c.as_str());
    }
    push(line, "reason", f.reason.as_str());
}

fn mode_word(mode: Mode) -> &'static str {
    mode.as_str()
}

/// The audit line for an end-of-message verdict, or `None` for a plain accept.
pub fn eom_line(env: &Envelope, v: &Verdict, mode: Mode) -> Option<String> {
    if !v.is_notable() {
        return None;
    }
    let mut line = format!("{}:", queue_id(env).unwrap_or("NOQUEUE"));
    push(&mut line, "action", &action_word(v.action, v.would));
    let rule = v.rule.or_else(|| v.headline().map(|f| f.rule));
    push(&mut line, "rule", rule.map_or("", |r| r.as_str()));
    push(&mut line, "stage", "eom");
    if let Some(r) = v.shown_reply() {
        push(&mut line, "reply", &r.status());
    }
    common(&mut line, env, &env.recipients);
    if let Some(f) = v.headline() {
        finding_fields(&mut line, f);
    }
    if v.findings_total > 1 {
        push(&mut line, "findings", &v.findings_total.to_string());
    }
    push(&mut line, "mode", mode_word(mode));
    Some(line)
}

/// The audit line for a RCPT decision, or `None` for a plain accept.
pub fn rcpt_line(env: &Envelope, v: &RcptVerdict, mode: Mode) -> Option<String> {
    let f = v.finding.as_ref()?;
    let mut line = format!("{}:", queue_id(env).unwrap_or("NOQUEUE"));
    push(&mut line, "action", &action_word(v.action, v.would));
    push(&mut line, "rule", f.rule.as_str());
    push(&mut line, "stage", "rcpt");
    if let Some(r) = v.shown_reply() {
        push(&mut line, "reply", &r.status());
    }
    common(&mut line, env, std::slice::from_ref(&v.address));
    finding_fields(&mut line, f);
    push(&mut line, "mode", mode_word(mode));
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpr_milter_core::reply::Reply;
    use cpr_milter_core::{Confidence, Rule};

    #[test]
    fn reject_line_has_every_key_and_no_digits() {
        let v = Verdict {
            action: Action::Reject,
            reply: Some(Reply {
                code: "550".into(),
                xcode: "5.7.1".into(),
                lines: vec!["x".into()],
            }),
            rule: Some(Rule::CprSubject),
            would: None,
            finding_counts: vec![],
            findings_total: 1,
            findings: vec![Finding {
                rule: Rule::CprSubject,
                location: "filename:241085-1337 sag.pdf".into(),
                offset: Some(9),
                masked: Some("2410XX-XXXX".into()),
                confidence: Some(Confidence::High),
                fingerprint: None,
                reason: "mod11+hyphen".into(),
                cause: None,
            }],
        };
        let env = Envelope {
            queue_id: Some("4F1A2B3C".into()),
            reference: Some("M0000000001".into()),
            sender: "a@nyborg.dk".into(),
            recipients: vec!["b@x.dk".to_string(), "c@y.dk".to_string()],
            client_name: Some("host".into()),
            client_ip: Some("10.1.2.3".parse().unwrap()),
            auth_user: Some("jens".into()),
            ..Default::default()
        };
        let line = eom_line(&env, &v, Mode::Enforce).unwrap();
        assert_eq!(
            line,
            "4F1A2B3C: action=reject rule=cpr.subject stage=eom reply=\"550 5.7.1\" from=<a@nyborg.dk> \
rcpt=<b@x.dk>,<c@y.dk> client=host[10.1.2.3] auth=jens where=\"filename:2410XX-XXXX sag.pdf\" \
cpr=2410XX-XXXX confidence=high reason=mod11+hyphen mode=enforce"
        );
    }

    #[test]
    fn digits_in_names_and_addresses_are_masked_but_the_client_ip_is_not() {
        let v = Verdict {
            action: Action::Tempfail,
            reply: None,
            rule: Some(Rule::InternalTimeout),
            would: None,
            findings: vec![],
            finding_counts: vec![],
            findings_total: 0,
        };
        let env = Envelope {
            reference: Some("M00000000001".into()),
            sender: "a@nyborg.dk".into(),
            recipients: vec!["2410851337@x.dk".to_string()],
            client_name: Some("cpr-2410851337.example".into()),
            client_ip: Some("192.168.100.200".parse().unwrap()),
            ..Default::default()
        };
        let line = eom_line(&env, &v, Mode::Enforce).unwrap();
        assert!(
            line.starts_with(
                "NOQUEUE: action=tempfail rule=internal.timeout stage=eom ref=M00000000001"
            ),
            "{line}"
        );
        assert!(
            line.contains("rcpt=<2410XXXXXX@x.dk> client=cpr-2410XXXXXX.example[192.168.100.200]"),
            "{line}"
        );
    }

    #[test]
    fn unscannable_content_is_logged_with_its_cause() {
        let f = Finding {
            rule: Rule::ContentUnscannable,
            location: "attachment:sag.zip".into(),
            offset: None,
            masked: None,
            confidence: None,
            fingerprint: None,
            reason: "encrypted ZIP entry".into(),
            cause: Some(cpr_milter_core::extract::Cause::Encrypted),
        };
        let env = Envelope {
            queue_id: Some("4F1A2B3C".into()),
            ..Default::default()
        };
        let line = eom_line(&env, &Verdict::accept(vec![f]), Mode::Enforce).expect("notable");
        assert!(
            line.contains(
                " where=attachment:sag.zip cause=encrypted reason=\"encrypted ZIP entry\""
            ),
            "{line}"
        );
    }

    #[test]
    fn plain_accept_is_silent() {
        let env = Envelope::default();
        assert!(eom_line(&env, &Verdict::accept(vec![]), Mode::Enforce).is_none());
    }
}
