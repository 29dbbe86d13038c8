//! The outcome of an inspection: what to tell the MTA and why.

use crate::reply::Reply;
use std::fmt;

/// What the MTA is told to do with a message or recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Accept,
    Reject,
    Tempfail,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Tempfail => "tempfail",
        }
    }
}

/// How sure the detector is that a match is a CPR number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason a message or recipient was looked at twice. Never holds the
/// digits of a CPR number: only a mask and an optional keyed fingerprint;
/// `location` and `reason` are redacted when the finding is made (a file
/// name or address may hold a number), so every front end can print them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Rule identifier as it appears in audit lines (`cpr.subject`, `recipient.lookalike` …).
    pub rule: String,
    /// Where it was found (`header:Subject`, `body:text/plain`, `rcpt:<a@b.dk>` …).
    pub location: String,
    /// Byte offset of a CPR match in the decoded text of that location.
    pub offset: Option<usize>,
    /// Masked CPR number (`2410XX-XXXX`), for CPR findings.
    pub masked: Option<String>,
    /// Detector confidence, for CPR findings.
    pub confidence: Option<Confidence>,
    /// Keyed fingerprint of the number when `audit.fingerprint_key_file` is set.
    pub fingerprint: Option<String>,
    /// Human-readable explanation (which rule fired, which keyword, which limit).
    pub reason: String,
}

/// Decision for one RCPT command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcptVerdict {
    pub address: String,
    pub action: Action,
    pub reply: Option<Reply>,
    pub finding: Option<Finding>,
    /// In monitor mode: the action enforce mode would have taken.
    pub would: Option<Action>,
}

/// Decision for a whole message at end of data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// What the MTA must do (already accounts for monitor mode: a would-be
    /// reject in monitor mode is `Accept` with `would_reject` set).
    pub action: Action,
    /// The reply to send with a reject or tempfail.
    pub reply: Option<Reply>,
    /// The rule that decided, when not a plain accept.
    pub rule: Option<String>,
    /// In monitor mode: the action enforce mode would have taken.
    pub would: Option<Action>,
    /// Every finding, including ones that did not cause a reject (single
    /// medium-confidence numbers, unscannable parts), for the audit trail.
    pub findings: Vec<Finding>,
}

impl Verdict {
    pub fn accept(findings: Vec<Finding>) -> Self {
        Verdict {
            action: Action::Accept,
            reply: None,
            rule: None,
            would: None,
            findings,
        }
    }

    /// True when the decision is worth an audit line (anything but a plain,
    /// finding-free accept).
    pub fn is_notable(&self) -> bool {
        self.action != Action::Accept || self.would.is_some() || !self.findings.is_empty()
    }
}
