//! Live metrics for monitoring systems, in the Prometheus text format.
//!
//! The milter counts through a few calls ([`Metrics::eom`],
//! [`Metrics::rcpt`], [`Metrics::reload`], the in-flight guard); the optional
//! listener ([`serve`]) renders them. Labels hold only values from fixed
//! sets (stage, action, rule, cause), never an address, a subject or a
//! number: an unscannable part is counted by its cause (encrypted, limit,
//! broken, unsupported), never by its free-text reason.

pub mod histogram;
pub mod serve;

use cpr_milter_core::{Action, RcptVerdict, Verdict};
use histogram::Histogram;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Distinct values one label may take; more are counted as `other`.
const MAX_LABEL_VALUES: usize = 64;

/// (stage, action, rule) → count
type DecisionKey = (&'static str, String, String);

pub struct Metrics {
    decisions: Mutex<BTreeMap<DecisionKey, u64>>,
    unscannable: Mutex<BTreeMap<String, u64>>,
    tempfails: Mutex<BTreeMap<String, u64>>,
    inspection_seconds: Histogram,
    message_bytes: Histogram,
    in_flight: AtomicI64,
    buffered_bytes: AtomicU64,
    config_generation: AtomicU64,
    last_reload_ok: AtomicU64,
    last_reload_time: AtomicU64,
    started: AtomicU64,
}

const SECONDS_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0];
const BYTES_BUCKETS: &[f64] = &[
    4_096.0,
    16_384.0,
    65_536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The process's metrics (counting costs a few atomic operations per mail,
/// listener or not).
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// `action=` as the audit line writes it.
fn action_word(action: Action, would: Option<Action>) -> String {
    match would {
        Some(w) if action == Action::Accept => format!("would-{}", w.as_str()),
        _ => action.as_str().to_string(),
    }
}

/// A rule identifier from the core (`cpr.body`): kept if it looks like one.
fn rule_label(rule: &str) -> String {
    let ok = !rule.is_empty()
        && rule.len() <= 48
        && rule
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        rule.to_string()
    } else {
        "other".into()
    }
}

fn bump(map: &Mutex<BTreeMap<String, u64>>, key: String) {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    let key = if m.len() >= MAX_LABEL_VALUES && !m.contains_key(&key) {
        "other".to_string()
    } else {
        key
    };
    *m.entry(key).or_default() += 1;
}

impl Metrics {
    fn new() -> Self {
        Metrics {
            decisions: Mutex::default(),
            unscannable: Mutex::default(),
            tempfails: Mutex::default(),
            inspection_seconds: Histogram::new(SECONDS_BUCKETS),
            message_bytes: Histogram::new(BYTES_BUCKETS),
            in_flight: AtomicI64::new(0),
            buffered_bytes: AtomicU64::new(0),
            config_generation: AtomicU64::new(1),
            last_reload_ok: AtomicU64::new(1),
            last_reload_time: AtomicU64::new(0),
            started: AtomicU64::new(now_seconds()),
        }
    }

    fn decision(&self, stage: &'static str, action: String, rule: &str) {
        let mut m = self.decisions.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = (stage, action, rule_label(rule));
        if m.len() >= MAX_LABEL_VALUES && !m.contains_key(&key) {
            key.2 = "other".into();
        }
        *m.entry(key).or_default() += 1;
    }

    /// An end-of-message verdict, the time its inspection took (`None` when
    /// it was not inspected: over budget, no slot) and the message's size.
    pub fn eom(&self, v: &Verdict, took: Option<Duration>, size: usize) {
        let rule = v
            .rule
            .as_deref()
            .or_else(|| v.findings.first().map(|f| f.rule.as_str()))
            .unwrap_or("none");
        let rule = if v.action == Action::Accept && v.would.is_none() && v.rule.is_none() {
            "none"
        } else {
            rule
        };
        self.decision("eom", action_word(v.action, v.would), rule);
        for f in v
            .findings
            .iter()
            .filter(|f| f.rule == "content.unscannable")
        {
            let cause = f.cause.map_or("other", |c| c.as_str());
            bump(&self.unscannable, cause.to_string());
        }
        if v.action == Action::Tempfail {
            bump(&self.tempfails, rule_label(rule));
        }
        if let Some(t) = took {
            self.inspection_seconds.observe(t.as_secs_f64());
        }
        self.message_bytes.observe(size as f64);
    }

    /// A RCPT decision.
    pub fn rcpt(&self, v: &RcptVerdict) {
        let rule = v.finding.as_ref().map_or("none", |f| f.rule.as_str());
        self.decision("rcpt", action_word(v.action, v.would), rule);
    }

    /// A configuration reload: `ok` when it was taken.
    pub fn reload(&self, ok: bool) {
        if ok {
            self.config_generation.fetch_add(1, Ordering::Relaxed);
        }
        self.last_reload_ok.store(u64::from(ok), Ordering::Relaxed);
        self.last_reload_time
            .store(now_seconds(), Ordering::Relaxed);
    }

    /// Bytes of mail being received, held in memory (the shared budget).
    pub fn set_buffered_bytes(&self, n: usize) {
        self.buffered_bytes.store(n as u64, Ordering::Relaxed);
    }

    /// Counts one inspection in flight while the guard lives.
    pub fn inspecting(&'static self) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(4096);
        let head = |s: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        head(&mut s, "cpr_milter_decisions_total", "counter", "Decisions by stage, action (as in audit lines) and rule; rule=\"none\" for a plain accept.");
        for ((stage, action, rule), n) in self
            .decisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(s, "cpr_milter_decisions_total{{stage=\"{stage}\",action=\"{action}\",rule=\"{rule}\"}} {n}");
        }
        head(
            &mut s,
            "cpr_milter_unscannable_total",
            "counter",
            "Messages with content that could not be inspected, by cause.",
        );
        for (cause, n) in self
            .unscannable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(s, "cpr_milter_unscannable_total{{cause=\"{cause}\"}} {n}");
        }
        head(
            &mut s,
            "cpr_milter_tempfails_total",
            "counter",
            "Messages answered 4xx, by cause.",
        );
        for (cause, n) in self
            .tempfails
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(s, "cpr_milter_tempfails_total{{cause=\"{cause}\"}} {n}");
        }
        head(
            &mut s,
            "cpr_milter_inspection_seconds",
            "histogram",
            "Time to inspect one message.",
        );
        self.inspection_seconds
            .render(&mut s, "cpr_milter_inspection_seconds");
        head(
            &mut s,
            "cpr_milter_message_bytes",
            "histogram",
            "Size of messages at end of data.",
        );
        self.message_bytes
            .render(&mut s, "cpr_milter_message_bytes");
        let gauge = |s: &mut String, name: &str, help: &str, v: String| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut s,
            "cpr_milter_inspections_in_flight",
            "Inspections running now.",
            self.in_flight.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut s,
            "cpr_milter_buffered_bytes",
            "Memory held by mail being received (limits.max_buffered_bytes is the most).",
            self.buffered_bytes.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut s,
            "cpr_milter_config_generation",
            "Configurations taken: 1 at start, one more per successful reload.",
            self.config_generation.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut s,
            "cpr_milter_last_reload_success",
            "1 if the last reload was taken (or none was tried), 0 if it was refused.",
            self.last_reload_ok.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut s,
            "cpr_milter_last_reload_timestamp_seconds",
            "When the last reload was tried (0: never).",
            self.last_reload_time.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            &mut s,
            "cpr_milter_start_time_seconds",
            "When the daemon started.",
            self.started.load(Ordering::Relaxed).to_string(),
        );
        let _ = writeln!(
            s,
            "# HELP cpr_milter_build_info The running version.\n# TYPE cpr_milter_build_info gauge\ncpr_milter_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        s
    }
}

/// Held while one inspection runs.
pub struct InFlight(&'static Metrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpr_milter_core::extract::Cause;
    use cpr_milter_core::{Finding, Rule};

    fn finding(rule: Rule, reason: &str) -> Finding {
        Finding {
            rule,
            location: "attachment:2410851337.pdf".into(),
            offset: None,
            masked: None,
            confidence: None,
            fingerprint: None,
            reason: reason.into(),
            cause: (rule == Rule::ContentUnscannable).then_some(Cause::Encrypted),
        }
    }

    #[test]
    fn labels_hold_no_numbers_or_addresses() {
        assert_eq!(rule_label("cpr.body"), "cpr.body");
        assert_eq!(rule_label("rcpt:<a@b.dk>"), "other");
    }

    #[test]
    fn decisions_render_as_counters_with_fixed_labels() {
        let m = Metrics::new();
        let mut v = Verdict::accept(vec![finding(
            Rule::ContentUnscannable,
            "password-protected PDF",
        )]);
        m.eom(&v, Some(Duration::from_millis(3)), 1000);
        v.action = Action::Reject;
        v.rule = Some(Rule::CprBody);
        m.eom(&v, Some(Duration::from_millis(3)), 1000);
        m.eom(&Verdict::accept(vec![]), None, 10);
        let text = m.render();
        assert!(
            text.contains(
                "cpr_milter_decisions_total{stage=\"eom\",action=\"reject\",rule=\"cpr.body\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "cpr_milter_decisions_total{stage=\"eom\",action=\"accept\",rule=\"none\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("cpr_milter_unscannable_total{cause=\"encrypted\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("cpr_milter_inspection_seconds_count 2\n"),
            "{text}"
        );
        assert!(
            text.contains("cpr_milter_message_bytes_count 3\n"),
            "{text}"
        );
        assert!(!text.contains("2410851337"));
    }
}
