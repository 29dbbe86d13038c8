//! The envelope of archived mail, from its headers: there is no SMTP
//! session to ask. Sender: From. Recipients: To, Cc, Bcc, and Delivered-To /
//! X-Original-To (what the receiving server recorded) when present. The date
//! is reported with each result: the Date header, else the mbox separator's.

use cpr_milter_core::bare_address;

/// What the headers say about a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    pub sender: String,
    pub recipients: Vec<String>,
    /// RFC 3339 from the Date header, else the separator line's date as written.
    pub date: Option<String>,
    /// The Subject as written (callers mask it before printing).
    pub subject: Option<String>,
}

/// Reads the header block of `raw`; `from_line` is the mbox separator.
pub fn read(raw: &[u8], from_line: Option<&[u8]>) -> Headers {
    let mut h = Headers::default();
    if let Some(msg) = mail_parser::MessageParser::default().parse_headers(raw) {
        h.sender = msg
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address.as_ref().map(|s| s.to_string()))
            .unwrap_or_default();
        for addrs in [msg.to(), msg.cc(), msg.bcc()].into_iter().flatten() {
            h.recipients.extend(
                addrs
                    .iter()
                    .filter_map(|a| a.address.as_ref().map(|e| e.to_string())),
            );
        }
        h.date = msg.date().map(|d| d.to_rfc3339());
        h.subject = msg.subject().map(str::to_string);
    }
    for rcpt in delivery_recipients(raw) {
        if !h.recipients.iter().any(|r| r.eq_ignore_ascii_case(&rcpt)) {
            h.recipients.push(rcpt);
        }
    }
    if h.date.is_none() {
        h.date = from_line.and_then(separator_date);
    }
    h
}

/// Delivered-To and X-Original-To addresses (not parsed by mail-parser as
/// address fields).
fn delivery_recipients(raw: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        for name in [&b"delivered-to"[..], b"x-original-to"] {
            if let Some(v) = crate::mailbox::mbox::header_value(line, name) {
                let addr = bare_address(String::from_utf8_lossy(v).trim());
                if addr.contains('@') && !out.contains(&addr) {
                    out.push(addr);
                }
            }
        }
    }
    out
}

/// `From sender Tue Dec  1 10:00:00 2026` → `Tue Dec  1 10:00:00 2026`.
fn separator_date(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let rest = text.strip_prefix("From ")?.trim_start();
    let date = rest.split_once(' ')?.1.trim();
    (!date.is_empty()).then(|| date.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_comes_from_address_and_delivery_headers() {
        let raw = b"Delivered-To: box@nyborg.dk\r\nX-Original-To: <Alias@nyborg.dk>\r\nFrom: Jens <jens@nyborg.dk>\r\nTo: a@x.dk, b@y.dk\r\nCc: box@nyborg.dk\r\nDate: Tue, 1 Dec 2026 10:00:00 +0100\r\nSubject: Sag\r\n\r\nDelivered-To: not@header.dk\r\n";
        let h = read(raw, None);
        assert_eq!(h.sender, "jens@nyborg.dk");
        assert_eq!(
            h.recipients,
            ["a@x.dk", "b@y.dk", "box@nyborg.dk", "Alias@nyborg.dk"]
        );
        assert_eq!(h.date.as_deref(), Some("2026-12-01T10:00:00+01:00"));
        assert_eq!(h.subject.as_deref(), Some("Sag"));
    }

    #[test]
    fn without_a_date_header_the_separator_date_is_used() {
        let h = read(
            b"Subject: x\n\n",
            Some(b"From a@b Tue Dec  1 10:00:00 2026\n"),
        );
        assert_eq!(h.date.as_deref(), Some("Tue Dec  1 10:00:00 2026"));
    }
}
