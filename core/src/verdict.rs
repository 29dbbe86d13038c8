//! The outcome of an inspection: what to tell the MTA and why.

pub use crate::cpr::Confidence;
pub use crate::findings::FindingCount;
use crate::redact::Redacted;
use crate::reply::Reply;
use std::fmt;

/// What the MTA is told to do with a message or recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Let it through (RCPT: go on).
    Accept,
    /// Refuse it with a 5xx.
    Reject,
    /// Answer 4xx: the MTA keeps it and retries.
    Tempfail,
}

impl Action {
    /// `accept`, `reject` or `tempfail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Tempfail => "tempfail",
        }
    }
}

/// A rule that can decide a message or recipient; its id is what audit
/// lines and `scan` print (`rule=cpr.subject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A CPR number in the Subject.
    CprSubject,
    /// A CPR number in another human-readable header or a file name.
    CprHeader,
    /// A CPR number in a body part.
    CprBody,
    /// A CPR number in an attachment's text.
    CprAttachment,
    /// A recipient domain imitating an own or partner domain.
    RecipientLookalike,
    /// A retired mailbox.
    RecipientRetired,
    /// Content that could not be inspected.
    ContentUnscannable,
    /// Inspection ran out of time.
    InternalTimeout,
    /// No capacity to inspect (memory budget, inspection slots).
    InternalOverload,
    /// Inspection failed.
    InternalError,
}

impl Rule {
    /// Every rule, in the order of this list.
    pub const ALL: [Rule; 10] = [
        Rule::CprSubject,
        Rule::CprHeader,
        Rule::CprBody,
        Rule::CprAttachment,
        Rule::RecipientLookalike,
        Rule::RecipientRetired,
        Rule::ContentUnscannable,
        Rule::InternalTimeout,
        Rule::InternalOverload,
        Rule::InternalError,
    ];

    /// The rule's id (`cpr.subject`, `recipient.lookalike` …).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::CprSubject => "cpr.subject",
            Rule::CprHeader => "cpr.header",
            Rule::CprBody => "cpr.body",
            Rule::CprAttachment => "cpr.attachment",
            Rule::RecipientLookalike => "recipient.lookalike",
            Rule::RecipientRetired => "recipient.retired",
            Rule::ContentUnscannable => "content.unscannable",
            Rule::InternalTimeout => "internal.timeout",
            Rule::InternalOverload => "internal.overload",
            Rule::InternalError => "internal.error",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule reads as its id wherever text is expected.
impl std::ops::Deref for Rule {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Rule {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Rule {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a message could not be judged and gets a temporary failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TempfailCause {
    /// The shared memory budget for mail being received was in use.
    BufferBudget,
    /// No inspection slot came free within the scan timeout.
    NoSlot,
    /// The inspection failed (a panic in a reader).
    Failed,
    /// The inspection ran past the scan timeout.
    Timeout,
    /// Extraction ran out of its share of the scan timeout.
    ExtractionDeadline,
}

impl TempfailCause {
    /// The rule the audit line names.
    pub fn rule(self) -> Rule {
        match self {
            TempfailCause::BufferBudget | TempfailCause::NoSlot => Rule::InternalOverload,
            TempfailCause::Failed => Rule::InternalError,
            TempfailCause::Timeout | TempfailCause::ExtractionDeadline => Rule::InternalTimeout,
        }
    }

    /// The audit line's reason.
    pub fn reason(self) -> &'static str {
        match self {
            TempfailCause::BufferBudget => "limits.max_buffered_bytes in use by other mail",
            TempfailCause::NoSlot => "busy: no inspection slot free within admission.slot_wait",
            TempfailCause::Failed => "inspection failed",
            TempfailCause::Timeout => "inspection exceeded limits.scan_timeout_seconds",
            TempfailCause::ExtractionDeadline => {
                "extraction ran out of time (80% of limits.scan_timeout_seconds)"
            }
        }
    }
}

/// One reason a message or recipient was looked at twice. Never holds the
/// digits of a CPR number: only a mask and an optional keyed fingerprint;
/// `location` and `reason` are redacted when the finding is made (a file
/// name or address may hold a number), so every front end can print them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule that made it.
    pub rule: Rule,
    /// Where it was found (`header:Subject`, `body:text/plain`, `rcpt:<a@b.dk>` …).
    pub location: Redacted,
    /// Byte offset of a CPR match in the decoded text of that location.
    pub offset: Option<usize>,
    /// Masked CPR number (`2410XX-XXXX`), for CPR findings.
    pub masked: Option<String>,
    /// Detector confidence, for CPR findings.
    pub confidence: Option<Confidence>,
    /// Keyed fingerprint of the number when `audit.fingerprint_key_file` is set.
    pub fingerprint: Option<String>,
    /// Human-readable explanation (which rule fired, which keyword, which limit).
    pub reason: Redacted,
    /// Why content could not be read, for `content.unscannable` findings: a
    /// fixed word that counters and audit lines can carry as it is.
    pub cause: Option<crate::extract::Cause>,
}

/// Decision for one RCPT command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcptVerdict {
    /// The recipient, without angle brackets.
    pub address: String,
    /// What the MTA is told (monitor mode already applied).
    pub action: Action,
    /// The reply for a reject; in monitor mode the one enforce would send.
    pub reply: Option<Reply>,
    /// Why the recipient was refused (or would be).
    pub finding: Option<Finding>,
    /// In monitor mode: the action enforce mode would have taken.
    pub would: Option<Action>,
}

impl RcptVerdict {
    /// A recipient no rule objects to.
    pub fn accepted(address: String) -> Self {
        RcptVerdict {
            address,
            action: Action::Accept,
            reply: None,
            finding: None,
            would: None,
        }
    }

    /// The reply worth showing: the one sent, or in monitor mode the one
    /// enforce mode would have sent.
    pub fn shown_reply(&self) -> Option<&Reply> {
        shown(self.action, self.would, self.reply.as_ref())
    }
}

fn shown(action: Action, would: Option<Action>, reply: Option<&Reply>) -> Option<&Reply> {
    reply.filter(|_| action != Action::Accept || would.is_some())
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
    pub rule: Option<Rule>,
    /// In monitor mode: the action enforce mode would have taken.
    pub would: Option<Action>,
    /// Every finding, including ones that did not cause a reject (single
    /// medium-confidence numbers, unscannable parts), for the audit trail.
    /// When a rule decided, its finding comes first (see
    /// [`Verdict::deciding`]). A sample: at most
    /// [`crate::findings::FINDINGS_SAMPLE`] CPR findings are kept.
    pub findings: Vec<Finding>,
    /// CPR findings per rule and location, all of them counted.
    pub finding_counts: Vec<FindingCount>,
    /// How many findings were made, the sampled-out ones included.
    pub findings_total: usize,
}

impl Verdict {
    /// A plain accept that keeps `findings` for the audit trail.
    pub fn accept(findings: Vec<Finding>) -> Self {
        Verdict {
            action: Action::Accept,
            reply: None,
            rule: None,
            would: None,
            findings_total: findings.len(),
            findings,
            finding_counts: Vec::new(),
        }
    }

    /// The same verdict with the message's finding counts.
    pub fn counted(mut self, counts: Vec<FindingCount>, total: usize) -> Self {
        self.finding_counts = counts;
        self.findings_total = total.max(self.findings.len());
        self
    }

    /// The reply worth showing: the one sent, or in monitor mode the one
    /// enforce mode would have sent.
    pub fn shown_reply(&self) -> Option<&Reply> {
        shown(self.action, self.would, self.reply.as_ref())
    }

    /// The finding of the rule that decided, if one did.
    pub fn deciding(&self) -> Option<&Finding> {
        let rule = self.rule?;
        self.findings.first().filter(|f| f.rule == rule)
    }

    /// The finding an audit line shows: the deciding one, else the first.
    pub fn headline(&self) -> Option<&Finding> {
        self.deciding().or(self.findings.first())
    }

    /// True when the decision is worth an audit line (anything but a plain,
    /// finding-free accept).
    pub fn is_notable(&self) -> bool {
        self.action != Action::Accept || self.would.is_some() || !self.findings.is_empty()
    }
}
