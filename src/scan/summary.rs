//! The totals printed at the end of a scan: what a DPO reports upwards.

use super::Outcome;
use cpr_milter_core::Action;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// Rule of unscannable-content findings.
const UNSCANNABLE_RULE: &str = "content.unscannable";

#[derive(Debug, Default)]
pub struct Summary {
    pub messages: u64,
    /// Message bytes judged (decompressed).
    pub bytes: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub tempfailed: u64,
    /// Accepted in monitor mode, but enforce mode would have stopped them.
    pub would_stop: u64,
    /// Rule that stopped (or would stop) each message → messages.
    pub by_rule: BTreeMap<String, u64>,
    /// Unscannable reason → messages with such content.
    pub unscannable: BTreeMap<String, u64>,
    /// Why files were skipped → files.
    pub skipped: BTreeMap<&'static str, u64>,
    pub errors: u64,
    pub elapsed: Duration,
}

/// The rule that decided `o`, when it was not a plain accept.
pub fn deciding_rule(o: &Outcome) -> Option<String> {
    if o.stage == "rcpt" {
        return o
            .recipients
            .iter()
            .filter(|r| r.action != Action::Accept || r.would.is_some())
            .find_map(|r| r.finding.as_ref().map(|f| f.rule.to_string()));
    }
    let v = o.verdict.as_ref()?;
    if v.action == Action::Accept && v.would.is_none() {
        return None;
    }
    v.rule
        .or_else(|| v.findings.first().map(|f| f.rule))
        .map(|r| r.to_string())
}

impl Summary {
    pub fn add(&mut self, o: &Outcome, size: u64) {
        self.messages += 1;
        self.bytes += size;
        let would = o.verdict.as_ref().and_then(|v| v.would).is_some()
            || o.recipients.iter().any(|r| r.would.is_some());
        match o.action {
            Action::Accept if would => self.would_stop += 1,
            Action::Accept => self.accepted += 1,
            Action::Reject => self.rejected += 1,
            Action::Tempfail => self.tempfailed += 1,
        }
        if let Some(rule) = deciding_rule(o) {
            *self.by_rule.entry(rule).or_default() += 1;
        }
        let mut reasons: Vec<String> = o
            .verdict
            .iter()
            .flat_map(|v| &v.findings)
            .filter(|f| f.rule == UNSCANNABLE_RULE)
            .map(|f| f.reason.to_string())
            .collect();
        reasons.dedup();
        for r in reasons {
            *self.unscannable.entry(r).or_default() += 1;
        }
    }

    pub fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_default() += 1;
    }

    pub fn skipped_files(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn to_text(&self) -> String {
        let list = |m: &mut dyn Iterator<Item = (String, u64)>| {
            m.map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = format!(
            "scanned {} message(s), {:.1} MB, in {:.2} s: {} accepted, {} rejected, {} tempfailed",
            self.messages,
            self.bytes as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.accepted,
            self.rejected,
            self.tempfailed
        );
        if self.would_stop > 0 {
            s.push_str(&format!(
                ", {} would be stopped (monitor mode)",
                self.would_stop
            ));
        }
        if !self.by_rule.is_empty() {
            s.push_str("\n  by rule: ");
            s.push_str(&list(
                &mut self.by_rule.iter().map(|(k, v)| (k.clone(), *v)),
            ));
        }
        if !self.unscannable.is_empty() {
            s.push_str("\n  unscannable content: ");
            s.push_str(&list(
                &mut self.unscannable.iter().map(|(k, v)| (k.clone(), *v)),
            ));
        }
        if !self.skipped.is_empty() {
            s.push_str(&format!(
                "\n  skipped {} file(s) that are not mail: ",
                self.skipped_files()
            ));
            s.push_str(&list(
                &mut self.skipped.iter().map(|(k, v)| (k.to_string(), *v)),
            ));
        }
        if self.errors > 0 {
            s.push_str(&format!(
                "\n  {} read error(s), listed above: those files were not (fully) scanned",
                self.errors
            ));
        }
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "messages": self.messages,
            "bytes": self.bytes,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "tempfailed": self.tempfailed,
            "would_stop": self.would_stop,
            "by_rule": self.by_rule,
            "unscannable": self.unscannable,
            "skipped_files": self.skipped_files(),
            "skipped": self.skipped,
            "errors": self.errors,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }
}
