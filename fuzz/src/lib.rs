//! Shared pieces of the fuzz targets: one policy, an outgoing envelope and a
//! wrapper that puts arbitrary bytes into a mail as an attachment, since the
//! attachment readers are reached only through whole-message extraction.

use cpr_milter_core::extract::{ImageKind, ImageText, OcrBudget, OcrError};
use cpr_milter_core::{Begin, Envelope, Inspector, Message, Transaction};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub mod milter_wire;

/// A policy with every rule switched on: own and partner domains (lookalike
/// checks), secure destinations, retired mailboxes, tight limits so hostile
/// input reaches the limit paths quickly, and `unscannable: reject`.
pub const POLICY: &str = "\
listen: inet:127.0.0.1:8899
mode: enforce
organisation:
  domains: [nyborg.dk, xn--ll-via.dk]
  partner_domains: [fredericia.dk]
  networks: [10.0.0.0/8]
cpr:
  secure_destinations: [sikker.partner.dk]
recipients:
  lookalike: reject
  retired:
    gammel.postkasse@nyborg.dk: ny.postkasse@nyborg.dk
    nedlagt@nyborg.dk: ~
limits:
  max_message_bytes: 1048576
  max_depth: 8
  max_parts: 200
  max_zip_entries: 100
  max_uncompressed_bytes: 16777216
  max_pdf_pages: 50
  scan_timeout_seconds: 5
  unscannable: reject
log:
  destination: stderr
";

/// An OCR engine that reads nothing but checks what it is handed: every
/// image the readers pass on (attachments, document pictures, PDF page
/// images turned into files) must be of the kind they say.
#[derive(Debug)]
struct CheckingNoText;

impl ImageText for CheckingNoText {
    fn budget(&self) -> OcrBudget {
        OcrBudget::default()
    }

    fn read(&self, image: &[u8], kind: ImageKind, _left: Duration) -> Result<String, OcrError> {
        assert_eq!(
            ImageKind::sniff(image),
            Some(kind),
            "an image handed to OCR is not what its kind says"
        );
        Ok(String::new())
    }
}

/// The inspector every target shares (built once), with OCR on so the
/// image paths are reached too.
pub fn inspector() -> &'static Arc<Inspector> {
    static INSPECTOR: OnceLock<Arc<Inspector>> = OnceLock::new();
    INSPECTOR.get_or_init(|| {
        let policy = cpr_milter_core::config::parse(POLICY, "fuzz policy")
            .expect("the fuzz policy is valid");
        Arc::new(
            Inspector::new(policy, Some(b"fuzz-fingerprint-key".to_vec()))
                .with_image_text(Arc::new(CheckingNoText)),
        )
    })
}

/// An authenticated (so outgoing) session sending to an outside recipient.
pub fn outgoing_envelope() -> Envelope {
    Envelope {
        client_ip: Some([10, 1, 2, 3].into()),
        client_name: Some("ws1.nyborg.dk".into()),
        auth_user: Some("jens".into()),
        sender: "jens@nyborg.dk".into(),
        recipients: Vec::new(),
        queue_id: Some("4F1A2B3C".into()),
        reference: Some("MFUZZ".into()),
        local_submission: false,
    }
}

/// A transaction from MAIL through RCPT `rcpts` to end of message with
/// `raw`, as the daemon drives it.
pub fn transaction(inspector: &Arc<Inspector>, env: Envelope, rcpts: &[&str], raw: &[u8]) {
    let Begin::Policed(mut tx) = Transaction::begin(inspector.clone(), env) else {
        return;
    };
    for r in rcpts {
        let _ = tx.recipient(r);
    }
    let _ = tx.finish(Message::whole(raw));
    let _ = tx.finish(Message::truncated(raw));
}

/// Inspects `raw` as the daemon would at end of message.
pub fn inspect(raw: &[u8]) {
    transaction(
        inspector(),
        outgoing_envelope(),
        &["<someone@example.com>"],
        raw,
    );
}

/// A multipart mail carrying `bytes` base64-encoded as attachment `name`
/// with content type `ctype` (and `charset` when given).
pub fn mail_with_attachment(
    name: &str,
    ctype: &str,
    charset: Option<&str>,
    bytes: &[u8],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(bytes.len() * 4 / 3 + 512);
    m.extend_from_slice(
        b"From: jens@nyborg.dk\r\nTo: someone@example.com\r\nSubject: fuzz\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0undary\"\r\n\r\n\
--b0undary\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n--b0undary\r\n",
    );
    let charset = charset
        .map(|c| format!("; charset=\"{c}\""))
        .unwrap_or_default();
    m.extend_from_slice(
        format!(
            "Content-Type: {ctype}{charset}; name=\"{name}\"\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        )
        .as_bytes(),
    );
    base64_lines(bytes, &mut m);
    m.extend_from_slice(b"--b0undary--\r\n");
    m
}

/// Base64 in 76-column CRLF lines.
fn base64_lines(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for line in bytes.chunks(57) {
        for group in line.chunks(3) {
            let b = [
                group[0],
                *group.get(1).unwrap_or(&0),
                *group.get(2).unwrap_or(&0),
            ];
            let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
            for i in 0..4 {
                if i <= group.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
                } else {
                    out.push(b'=');
                }
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// Splits the first byte off as a selector (0 for empty input).
pub fn selector(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard_encoding() {
        let mut out = Vec::new();
        super::base64_lines(b"Many hands make light work.", &mut out);
        assert_eq!(out, b"TWFueSBoYW5kcyBtYWtlIGxpZ2h0IHdvcmsu\r\n");
        let mut out = Vec::new();
        super::base64_lines(b"ab", &mut out);
        assert_eq!(out, b"YWI=\r\n");
    }
}
