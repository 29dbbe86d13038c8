//! `cpr-milter scan`: the daemon's exact pipeline over files, for testing
//! rules and for searching archives. This file judges one message
//! ([`scan_message`]); reading archives is in `crate::mailbox`, the rest of
//! the command (parallel judging, output, CSV, summary, compare) in the
//! submodules.

pub mod command;
pub mod compare;
pub mod csv;
pub mod headers;
pub mod pipeline;
pub mod progress;
pub mod summary;

use cpr_milter_core::bare_address;
use cpr_milter_core::redact::redact_digits;
use cpr_milter_core::{
    Action, Begin, Envelope, Finding, Inspector, Message, RcptVerdict, Transaction, Verdict,
};
use serde_json::json;
use std::sync::Arc;

/// How `scan` builds the envelope.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub from: Option<String>,
    pub rcpts: Vec<String>,
    /// Treat the mail as arriving from outside (not policed).
    pub incoming: bool,
}

/// The result for one message.
pub struct Outcome {
    pub path: String,
    pub action: Action,
    pub stage: &'static str,
    pub reply: Option<String>,
    pub recipients: Vec<RcptVerdict>,
    pub verdict: Option<Verdict>,
}

impl Outcome {
    fn findings(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self
            .recipients
            .iter()
            .filter_map(|r| r.finding.as_ref())
            .collect();
        if let Some(verdict) = &self.verdict {
            v.extend(&verdict.findings);
        }
        v
    }

    /// Every finding made, those left out of the sample included.
    fn findings_total(&self) -> usize {
        let rcpt = self
            .recipients
            .iter()
            .filter(|r| r.finding.is_some())
            .count();
        rcpt + self.verdict.as_ref().map_or(0, |v| v.findings_total)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let finding = |f: &Finding| {
            json!({
                "rule": f.rule.as_str(),
                "location": f.location.as_str(),
                "offset": f.offset,
                "masked": f.masked,
                "confidence": f.confidence.map(|c| c.as_str()),
                "fingerprint": f.fingerprint,
                "reason": f.reason.as_str(),
            })
        };
        let would = self
            .verdict
            .as_ref()
            .and_then(|v| v.would)
            .map(|w| w.as_str());
        json!({
            "path": self.path,
            "action": self.action.as_str(),
            "would": would,
            "stage": self.stage,
            "reply": self.reply,
            "recipients": self.recipients.iter().map(|r| json!({
                "address": redact_digits(&r.address),
                "action": r.action.as_str(),
                "would": r.would.map(|w| w.as_str()),
                "reply": r.shown_reply().map(|x| x.to_string()),
            })).collect::<Vec<_>>(),
            "findings": self.findings().into_iter().map(finding).collect::<Vec<_>>(),
            // All findings are counted; "findings" is a bounded sample.
            "findings_total": self.findings_total(),
            "finding_counts": self.verdict.iter().flat_map(|v| &v.finding_counts).map(|c| json!({
                "rule": c.rule.as_str(),
                "location": c.location.as_str(),
                "count": c.count,
            })).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!("{}: {}", self.path, self.action.as_str());
        if let Some(v) = &self.verdict {
            if let Some(w) = v.would {
                s.push_str(&format!(" (monitor mode: would {})", w.as_str()));
            }
        }
        if let Some(r) = &self.reply {
            s.push_str(&format!(" at {}: {}", self.stage, r.replace("\r\n", " | ")));
        }
        for f in self.findings() {
            s.push_str(&format!(
                "\n  {} {} {} {} ({})",
                f.rule,
                f.location,
                f.masked.as_deref().unwrap_or("-"),
                f.confidence.map_or("-", |c| c.as_str()),
                f.reason
            ));
        }
        s
    }
}

/// Drives one core transaction as the daemon does: MAIL, each RCPT, then
/// end of message (unless RCPT refused every recipient). The envelope is the
/// command line's, else what the headers say.
pub fn scan_message(
    inspector: &Arc<Inspector>,
    opts: &ScanOptions,
    path: String,
    raw: &[u8],
    headers: &headers::Headers,
) -> Outcome {
    let rcpts = if opts.rcpts.is_empty() {
        headers.recipients.clone()
    } else {
        opts.rcpts.clone()
    };
    let mut env = Envelope {
        sender: opts.from.clone().unwrap_or_else(|| headers.sender.clone()),
        queue_id: Some("SCAN".into()),
        ..Default::default()
    };
    // Outgoing: as if submitted by an authenticated user. Incoming: a client
    // from TEST-NET-1, outside any organisation network.
    if opts.incoming {
        env.client_ip = Some("192.0.2.1".parse().expect("valid address"));
    } else {
        env.auth_user = Some("scan".into());
    }
    let mut tx = match Transaction::begin(inspector.clone(), env) {
        Begin::Policed(tx) => tx,
        Begin::NotPoliced => {
            return Outcome {
                path,
                action: Action::Accept,
                stage: "eom",
                reply: None,
                recipients: rcpts
                    .iter()
                    .map(|r| RcptVerdict::accepted(bare_address(r)))
                    .collect(),
                verdict: Some(Verdict::accept(Vec::new())),
            };
        }
    };
    let verdicts: Vec<RcptVerdict> = rcpts.iter().map(|r| tx.recipient(r)).collect();
    if tx.refused_all(rcpts.len()) {
        let reply = verdicts
            .iter()
            .find_map(|v| v.reply.as_ref())
            .map(|r| r.to_string());
        return Outcome {
            path,
            action: Action::Reject,
            stage: "rcpt",
            reply,
            recipients: verdicts,
            verdict: None,
        };
    }
    let v = tx.finish(Message::whole(raw));
    let reply = v.shown_reply().map(|r| r.to_string());
    Outcome {
        path,
        action: v.action,
        stage: "eom",
        reply,
        recipients: verdicts,
        verdict: Some(v),
    }
}
