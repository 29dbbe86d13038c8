//! `scan --compare OLD.yaml NEW.yaml`: the messages whose decision differs
//! between two configurations, so a rule change can be tried on past mail
//! before anyone is surprised by it.

use super::summary::deciding_rule;
use super::Outcome;
use cpr_milter_core::Action;
use serde_json::json;

/// What a configuration decided for a message, as compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// Monitor mode: what enforce mode would have done.
    pub would: Option<Action>,
    pub stage: &'static str,
    pub rule: Option<String>,
    /// Per recipient, in order: accepted or not.
    pub recipients: Vec<Action>,
}

impl Decision {
    pub fn of(o: &Outcome) -> Decision {
        Decision {
            action: o.action,
            would: o.verdict.as_ref().and_then(|v| v.would),
            stage: o.stage,
            rule: deciding_rule(o),
            recipients: o.recipients.iter().map(|r| r.action).collect(),
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = match self.would {
            Some(w) => format!("accept (would {})", w.as_str()),
            None => self.action.as_str().to_string(),
        };
        if let Some(r) = &self.rule {
            s.push_str(&format!(" {r} at {}", self.stage));
        }
        s
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "action": self.action.as_str(),
            "would": self.would.map(|w| w.as_str()),
            "stage": self.stage,
            "rule": self.rule,
        })
    }
}

/// Totals of a comparison.
#[derive(Debug, Default)]
pub struct Comparison {
    pub messages: u64,
    pub changed: u64,
    /// Messages stopped (or would be) under each configuration.
    pub stopped_old: u64,
    pub stopped_new: u64,
}

fn stops(d: &Decision) -> bool {
    d.action != Action::Accept || d.would.is_some()
}

impl Comparison {
    /// Counts one message; returns both decisions when they differ.
    pub fn add(&mut self, old: &Outcome, new: &Outcome) -> Option<(Decision, Decision)> {
        let (a, b) = (Decision::of(old), Decision::of(new));
        self.messages += 1;
        self.stopped_old += u64::from(stops(&a));
        self.stopped_new += u64::from(stops(&b));
        if a == b {
            return None;
        }
        self.changed += 1;
        Some((a, b))
    }

    pub fn to_text(&self) -> String {
        format!(
            "compared {} message(s): {} decided differently; stopped: {} with the old configuration, {} with the new",
            self.messages, self.changed, self.stopped_old, self.stopped_new
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "messages": self.messages,
            "changed": self.changed,
            "stopped_old": self.stopped_old,
            "stopped_new": self.stopped_new,
        })
    }
}
