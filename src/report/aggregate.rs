//! Counting audit lines into what a DPO asks for: decisions per day and
//! rule, per sender and recipient domain, reject vs would-reject, tempfails
//! and unscannable content by reason, the top senders of CPR mail.

use super::parse::AuditLine;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// action → lines
pub type ByAction = BTreeMap<String, u64>;

#[derive(Debug, Default)]
pub struct Report {
    pub files: u64,
    pub lines: u64,
    /// Other programs' lines.
    pub foreign: u64,
    /// Our non-audit lines (start, reload, warnings).
    pub operational: u64,
    /// Our audit-shaped lines that lack an action or rule.
    pub unreadable: u64,
    pub decisions: u64,
    pub by_action: ByAction,
    /// (day, rule) → action → lines
    pub by_day_rule: BTreeMap<(String, String), ByAction>,
    pub by_sender_domain: BTreeMap<String, ByAction>,
    pub by_recipient_domain: BTreeMap<String, ByAction>,
    /// `rule: reason` → lines
    pub tempfails: BTreeMap<String, u64>,
    /// reason → lines
    pub unscannable: BTreeMap<String, u64>,
    /// sender → decisions with a CPR number found
    pub cpr_senders: HashMap<String, u64>,
}

/// Domain of `<user@domain>` (lower case, as the envelope reads it),
/// `(none)` for the null sender.
fn domain(address: &str) -> String {
    cpr_milter_core::Envelope::domain_of(address).unwrap_or_else(|| {
        if cpr_milter_core::bare_address(address).is_empty() {
            "(none)".into()
        } else {
            "(no domain)".into()
        }
    })
}

fn bump(map: &mut ByAction, action: &str) {
    *map.entry(action.to_string()).or_default() += 1;
}

impl Report {
    pub fn add(&mut self, a: &AuditLine<'_>) {
        self.decisions += 1;
        let action = a.action.as_ref();
        bump(&mut self.by_action, action);
        let day = a.day.clone().unwrap_or_else(|| "unknown".into());
        bump(
            self.by_day_rule
                .entry((day, a.rule.to_string()))
                .or_default(),
            action,
        );
        bump(
            self.by_sender_domain.entry(domain(&a.from)).or_default(),
            action,
        );
        let mut domains: Vec<String> = a
            .rcpt
            .split(',')
            .filter(|r| !r.is_empty())
            .map(domain)
            .collect();
        domains.sort();
        domains.dedup();
        for d in domains {
            bump(self.by_recipient_domain.entry(d).or_default(), action);
        }
        if action == "tempfail" || action == "would-tempfail" {
            *self
                .tempfails
                .entry(format!("{}: {}", a.rule, a.reason))
                .or_default() += 1;
        }
        if a.rule == "content.unscannable" {
            *self.unscannable.entry(a.reason.to_string()).or_default() += 1;
        }
        if a.cpr.is_some() {
            *self.cpr_senders.entry(a.from.to_string()).or_default() += 1;
        }
    }

    /// Senders with the most CPR decisions, most first (then by name).
    pub fn top_cpr_senders(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .cpr_senders
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    pub fn to_json(&self) -> Value {
        let by_day: Vec<Value> = self
            .by_day_rule
            .iter()
            .map(|((day, rule), actions)| json!({"day": day, "rule": rule, "actions": actions}))
            .collect();
        json!({
            "files": self.files,
            "lines": self.lines,
            "decisions": self.decisions,
            "other_program_lines": self.foreign,
            "operational_lines": self.operational,
            "unreadable_audit_lines": self.unreadable,
            "by_action": self.by_action,
            "by_day_and_rule": by_day,
            "by_sender_domain": self.by_sender_domain,
            "by_recipient_domain": self.by_recipient_domain,
            "tempfails": self.tempfails,
            "unscannable": self.unscannable,
            "top_cpr_senders": self.top_cpr_senders(20).iter().map(|(s, n)| json!({"sender": s, "decisions": n})).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} decision(s) in {} line(s) from {} input(s)",
            self.decisions, self.lines, self.files
        );
        if self.unreadable > 0 {
            s.push_str(&format!(
                "; {} audit line(s) could not be read (damaged, or from another version)",
                self.unreadable
            ));
        }
        s.push_str(&format!(
            "\n\nby action: {}\n",
            actions_text(&self.by_action)
        ));
        s.push_str("\nper day and rule:\n");
        for ((day, rule), a) in &self.by_day_rule {
            s.push_str(&format!("  {day:<10}  {rule:<24}  {}\n", actions_text(a)));
        }
        section(&mut s, "per sender domain (top 20)", &self.by_sender_domain);
        section(
            &mut s,
            "per recipient domain (top 20)",
            &self.by_recipient_domain,
        );
        if !self.tempfails.is_empty() {
            s.push_str("\ntempfails by cause:\n");
            for (k, v) in &self.tempfails {
                s.push_str(&format!("  {v:>8}  {k}\n"));
            }
        }
        if !self.unscannable.is_empty() {
            s.push_str("\nunscannable content by reason:\n");
            for (k, v) in &self.unscannable {
                s.push_str(&format!("  {v:>8}  {k}\n"));
            }
        }
        let top = self.top_cpr_senders(20);
        if !top.is_empty() {
            s.push_str("\ntop senders of mail with CPR numbers:\n");
            for (sender, n) in top {
                s.push_str(&format!("  {n:>8}  {sender}\n"));
            }
        }
        s
    }
}

fn actions_text(a: &ByAction) -> String {
    a.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn section(s: &mut String, title: &str, map: &BTreeMap<String, ByAction>) {
    if map.is_empty() {
        return;
    }
    let mut rows: Vec<(&String, &ByAction, u64)> =
        map.iter().map(|(k, a)| (k, a, a.values().sum())).collect();
    rows.sort_by(|x, y| y.2.cmp(&x.2).then(x.0.cmp(y.0)));
    s.push_str(&format!("\n{title}:\n"));
    for (k, a, _) in rows.into_iter().take(20) {
        s.push_str(&format!("  {k:<32}  {}\n", actions_text(a)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::parse::{parse, Line};

    #[test]
    fn lines_are_counted_per_day_rule_domain_and_cause() {
        let lines = [
            "Dec  1 10:00:00 mx cpr-milter[1]: A1: action=reject rule=cpr.body stage=eom reply=\"550 5.7.1\" from=<jens@nyborg.dk> rcpt=<a@x.dk>,<b@X.dk>,<c@y.dk> client=h[10.0.0.1] cpr=2410XX-XXXX confidence=high reason=mod11 mode=enforce",
            "Dec  1 10:01:00 mx cpr-milter[1]: A2: action=would-reject rule=cpr.subject stage=eom from=<jens@nyborg.dk> rcpt=<a@x.dk> client=h[10.0.0.1] cpr=2410XX-XXXX reason=mod11 mode=monitor",
            "Dec  2 10:00:00 mx cpr-milter[1]: A3: action=tempfail rule=internal.timeout stage=eom from=<> rcpt=<a@x.dk> client=local reason=\"too slow\" mode=enforce",
            "Dec  2 10:00:00 mx cpr-milter[1]: A4: action=accept rule=content.unscannable stage=eom from=<kim@nyborg.dk> rcpt=<a@x.dk> client=local where=attachment reason=\"password-protected PDF\" mode=enforce",
        ];
        let mut r = Report::default();
        for l in lines {
            let Line::Audit(a) = parse(l) else {
                panic!("{l}")
            };
            r.add(&a);
        }
        assert_eq!(r.decisions, 4);
        assert_eq!(r.by_action["reject"], 1);
        assert_eq!(r.by_action["would-reject"], 1);
        assert_eq!(
            r.by_day_rule[&("12-01".into(), "cpr.body".into())]["reject"],
            1
        );
        assert_eq!(
            r.by_recipient_domain["x.dk"].values().sum::<u64>(),
            4,
            "x.dk once per line"
        );
        assert_eq!(r.by_sender_domain["(none)"]["tempfail"], 1);
        assert_eq!(r.tempfails["internal.timeout: too slow"], 1);
        assert_eq!(r.unscannable["password-protected PDF"], 1);
        assert_eq!(r.top_cpr_senders(5), [("<jens@nyborg.dk>", 2)]);
    }
}
