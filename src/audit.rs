//! One grep-able key=value line per decision that is not a plain accept
//! (docs/operations.md, "Logs"). Never contains CPR digits: numbers appear masked, file
//! names and addresses are redacted.

use cpr_milter_core::config::Mode;
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::{Action, Finding, RcptVerdict, Verdict};

/// What the audit line needs to know about the transaction.
#[derive(Clone, Debug, Default)]
pub struct AuditContext<'a> {
    pub queue_id: Option<&'a str>,
    /// The milter's own reference, logged as `ref=` when there is no queue id.
    pub reference: Option<&'a str>,
    pub sender: &'a str,
    pub recipients: &'a [String],
    pub client_name: Option<&'a str>,
    pub client_addr: Option<String>,
    pub auth: Option<&'a str>,
}

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

fn common(line: &mut String, cx: &AuditContext<'_>) {
    if let (None, Some(r)) = (cx.queue_id, cx.reference) {
        push(line, "ref", r);
    }
    push(line, "from", &format!("<{}>", redact_digits(cx.sender)));
    let rcpts: Vec<String> = cx
        .recipients
        .iter()
        .map(|r| format!("<{}>", redact_digits(r)))
        .collect();
    push(line, "rcpt", &rcpts.join(","));
    // The host name comes from the client's DNS; its digits are masked like
    // any free text, the address (from the socket) is kept as it is.
    let client = match (cx.client_name.map(redact_digits), &cx.client_addr) {
        (Some(n), Some(a)) => format!("{n}[{a}]"),
        (None, Some(a)) => format!("unknown[{a}]"),
        (Some(n), None) => n,
        (None, None) => "local".into(),
    };
    push(line, "client", &client);
    if let Some(a) = cx.auth.filter(|a| !a.is_empty()) {
        push(line, "auth", &redact_digits(a));
    }
}

fn finding_fields(line: &mut String, f: &Finding) {
    // Core redacts findings when it makes them; the audit line is the
    // privacy boundary, so it masks again (idempotent) whatever it is given.
    push(line, "where", &redact_digits(&f.location));
    if let Some(m) = &f.masked {
        push(line, "cpr", m);
    }
    if let Some(c) = f.confidence {
        push(line, "confidence", c.as_str());
    }
    if let Some(fp) = &f.fingerprint {
        push(line, "fingerprint", fp);
    }
    push(line, "reason", &redact_digits(&f.reason));
}

fn mode_word(mode: Mode) -> &'static str {
    mode.as_str()
}

/// The audit line for an end-of-message verdict, or `None` for a plain accept.
pub fn eom_line(cx: &AuditContext<'_>, v: &Verdict, mode: Mode) -> Option<String> {
    if !v.is_notable() {
        return None;
    }
    let mut line = format!("{}:", cx.queue_id.unwrap_or("NOQUEUE"));
    push(&mut line, "action", &action_word(v.action, v.would));
    let rule = v
        .rule
        .clone()
        .or_else(|| v.findings.first().map(|f| f.rule.clone()))
        .unwrap_or_default();
    push(&mut line, "rule", &rule);
    push(&mut line, "stage", "eom");
    if let Some(r) = &v.reply {
        if v.action != Action::Accept || v.would.is_some() {
            push(&mut line, "reply", &r.status());
        }
    }
    common(&mut line, cx);
    if let Some(f) = v.findings.first() {
        finding_fields(&mut line, f);
    }
    if v.findings.len() > 1 {
        push(&mut line, "findings", &v.findings.len().to_string());
    }
    push(&mut line, "mode", mode_word(mode));
    Some(line)
}

/// The audit line for a RCPT decision, or `None` for a plain accept.
pub fn rcpt_line(cx: &AuditContext<'_>, v: &RcptVerdict, mode: Mode) -> Option<String> {
    let f = v.finding.as_ref()?;
    let mut line = format!("{}:", cx.queue_id.unwrap_or("NOQUEUE"));
    push(&mut line, "action", &action_word(v.action, v.would));
    push(&mut line, "rule", &f.rule);
    push(&mut line, "stage", "rcpt");
    if let Some(r) = &v.reply {
        push(&mut line, "reply", &r.status());
    }
    let rcpt = [v.address.clone()];
    common(
        &mut line,
        &AuditContext {
            recipients: &rcpt,
            ..cx.clone()
        },
    );
    finding_fields(&mut line, f);
    push(&mut line, "mode", mode_word(mode));
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpr_milter_core::reply::Reply;
    use cpr_milter_core::Confidence;

    #[test]
    fn reject_line_has_every_key_and_no_digits() {
        let v = Verdict {
            action: Action::Reject,
            reply: Some(Reply {
                code: "550".into(),
                xcode: "5.7.1".into(),
                lines: vec!["x".into()],
            }),
            rule: Some("cpr.subject".into()),
            would: None,
            findings: vec![Finding {
                rule: "cpr.subject".into(),
                location: "filename:241085-1337 sag.pdf".into(),
                offset: Some(9),
                masked: Some("2410XX-XXXX".into()),
                confidence: Some(Confidence::High),
                fingerprint: None,
                reason: "mod11+hyphen".into(),
            }],
        };
        let rcpts = vec!["b@x.dk".to_string(), "c@y.dk".to_string()];
        let cx = AuditContext {
            queue_id: Some("4F1A2B3C"),
            reference: Some("M0000000001"),
            sender: "a@nyborg.dk",
            recipients: &rcpts,
            client_name: Some("host"),
            client_addr: Some("10.1.2.3".into()),
            auth: Some("jens"),
        };
        let line = eom_line(&cx, &v, Mode::Enforce).unwrap();
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
            rule: Some("internal.timeout".into()),
            would: None,
            findings: vec![],
        };
        let rcpts = vec!["2410851337@x.dk".to_string()];
        let cx = AuditContext {
            queue_id: None,
            reference: Some("M00000000001"),
            sender: "a@nyborg.dk",
            recipients: &rcpts,
            client_name: Some("cpr-2410851337.example"),
            client_addr: Some("192.168.100.200".into()),
            auth: None,
        };
        let line = eom_line(&cx, &v, Mode::Enforce).unwrap();
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
    fn plain_accept_is_silent() {
        let cx = AuditContext::default();
        assert!(eom_line(&cx, &Verdict::accept(vec![]), Mode::Enforce).is_none());
    }
}
