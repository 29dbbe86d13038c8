//! Collecting CPR findings for one message in constant memory: every hit
//! is counted (per rule and location), the facts the decision needs are
//! kept (any HIGH, two distinct MEDIUM numbers, the first header hit, the
//! first HIGH), and only a bounded sample of findings is stored for the
//! audit line and `scan --json`. A 60 MB list of numbers costs what a
//! list of a hundred does.

use crate::cpr::{Confidence, CprHit};
use crate::extract::{Segment, SegmentKind};
use crate::redact::Redacted;
use crate::verdict::{Finding, Rule};

/// Findings kept per message; past this they are only counted.
pub const FINDINGS_SAMPLE: usize = 100;

/// How many findings one rule made at one location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingCount {
    /// The rule.
    pub rule: Rule,
    /// Where (`header:Subject`, `attachment:liste.xlsx:xl/sharedStrings.xml` …).
    pub location: Redacted,
    /// How many.
    pub count: usize,
}

/// A finding the decision may name, and where it sits in the sample.
#[derive(Clone, Debug)]
struct Kept {
    finding: Finding,
    at: Option<usize>,
}

/// The CPR findings of one message so far.
#[derive(Debug, Default)]
pub(crate) struct CprTally {
    sample: Vec<Finding>,
    counts: Vec<FindingCount>,
    total: usize,
    any_high: bool,
    first_medium: Option<CprHit>,
    two_medium: bool,
    first: Option<Kept>,
    first_high: Option<Kept>,
    first_header: Option<Kept>,
}

fn rule_of(kind: SegmentKind) -> Rule {
    match kind {
        SegmentKind::Subject => Rule::CprSubject,
        SegmentKind::Header => Rule::CprHeader,
        SegmentKind::Body => Rule::CprBody,
        SegmentKind::Attachment => Rule::CprAttachment,
    }
}

impl CprTally {
    /// Records one hit in `seg`.
    pub fn add(&mut self, seg: &Segment<'_>, hit: CprHit) {
        let rule = rule_of(seg.kind);
        self.total += 1;
        match self.counts.last_mut() {
            // Hits arrive segment by segment: one entry per segment.
            Some(c) if c.rule == rule && c.location == seg.location.as_str() => c.count += 1,
            _ => self.counts.push(FindingCount {
                rule,
                location: Redacted::new(&seg.location),
                count: 1,
            }),
        }
        match hit.confidence {
            Confidence::High => self.any_high = true,
            Confidence::Medium => match &self.first_medium {
                Some(m) if !m.same_number(&hit) => self.two_medium = true,
                Some(_) => {}
                None => self.first_medium = Some(hit.clone()),
            },
            Confidence::Low => {}
        }
        let wanted = self.first.is_none()
            || (self.first_high.is_none() && hit.confidence == Confidence::High)
            || (self.first_header.is_none()
                && seg.kind.is_header_like()
                && hit.confidence >= Confidence::Medium);
        if !wanted && self.sample.len() >= FINDINGS_SAMPLE {
            return;
        }
        let finding = Finding {
            rule,
            location: self.counts.last().expect("just counted").location.clone(),
            offset: Some(hit.offset),
            masked: Some(hit.masked.clone()),
            confidence: Some(hit.confidence),
            fingerprint: hit.fingerprint.clone(),
            reason: Redacted::new(&hit.reason),
            cause: None,
        };
        let at = (self.sample.len() < FINDINGS_SAMPLE).then_some(self.sample.len());
        let kept = || Kept {
            finding: finding.clone(),
            at,
        };
        if self.first.is_none() {
            self.first = Some(kept());
        }
        if self.first_high.is_none() && hit.confidence == Confidence::High {
            self.first_high = Some(kept());
        }
        if self.first_header.is_none()
            && seg.kind.is_header_like()
            && hit.confidence >= Confidence::Medium
        {
            self.first_header = Some(kept());
        }
        if at.is_some() {
            self.sample.push(finding);
        }
    }

    /// The message-level rule: any HIGH, or two distinct MEDIUM numbers.
    pub fn decides(&self) -> bool {
        self.any_high || self.two_medium
    }

    /// The first header-like hit of at least MEDIUM confidence: a number
    /// there travels everywhere and is always rejected.
    pub fn header_rule(&self) -> Option<Rule> {
        self.first_header.as_ref().map(|k| k.finding.rule)
    }

    /// The finding a body reject names: the first HIGH, else the first.
    fn body_decider(&self) -> Option<&Kept> {
        self.first_high.as_ref().or(self.first.as_ref())
    }

    /// The sample with the header hit first.
    pub fn into_header_decided(self) -> (Rule, Vec<Finding>, Vec<FindingCount>, usize) {
        let kept = self.first_header.clone().expect("header_rule was Some");
        self.decided(kept)
    }

    /// The sample with the body rule's finding first.
    pub fn into_body_decided(self) -> (Rule, Vec<Finding>, Vec<FindingCount>, usize) {
        let kept = self
            .body_decider()
            .cloned()
            .expect("decides() implies a hit");
        self.decided(kept)
    }

    fn decided(mut self, kept: Kept) -> (Rule, Vec<Finding>, Vec<FindingCount>, usize) {
        let rule = kept.finding.rule;
        match kept.at {
            Some(i) => self.sample.swap(0, i),
            None => {
                self.sample.truncate(FINDINGS_SAMPLE - 1);
                self.sample.insert(0, kept.finding);
            }
        }
        (rule, self.sample, self.counts, self.total)
    }

    /// The sample in text order, the counts and the total.
    pub fn into_parts(self) -> (Vec<Finding>, Vec<FindingCount>, usize) {
        (self.sample, self.counts, self.total)
    }
}
