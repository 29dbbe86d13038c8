//! The rules under one configuration: envelope and raw message in, verdict
//! out. The daemon and `scan` reach them through a [`crate::Transaction`],
//! which calls them in the MTA's order.

use crate::cpr::{ocr_tolerance, Detector, DetectorSettings};
use crate::envelope::Envelope;
use crate::extract::{self, Cause};
use crate::findings::CprTally;
use crate::message::Message;
use crate::policy::{Mode, Policy, UnscannablePolicy};
use crate::recipients::LookalikeChecker;
use crate::redact::{redact_digits, Redacted};
use crate::reply::{Reply, ReplyKind};
use crate::verdict::{Action, Finding, RcptVerdict, Rule, TempfailCause, Verdict};

/// Everything needed to judge mail under one configuration. Built once per
/// (re)load and shared read-only between transactions.
#[derive(Clone, Debug)]
pub struct Inspector {
    policy: Policy,
    detector: Detector,
    lookalike: LookalikeChecker,
    /// Reads text in images (OCR); supplied by the caller, none by default.
    image_text: Option<std::sync::Arc<dyn extract::ImageText>>,
}

impl Inspector {
    /// Compiles `policy` (keyword sets, lookalike tables) once; `fingerprint_key` keys the audit fingerprints.
    pub fn new(policy: Policy, fingerprint_key: Option<Vec<u8>>) -> Self {
        let detector = Detector::new(DetectorSettings {
            exempt_dates: policy.exempt_dates.clone(),
            positive_keywords: policy.positive_keywords.clone(),
            negative_keywords: policy.negative_keywords.clone(),
            fingerprint_key,
            follow_clock: true,
            ..Default::default()
        });
        let protected: Vec<String> = policy
            .org_domains
            .iter()
            .chain(&policy.partner_domains)
            .cloned()
            .collect();
        let lookalike = LookalikeChecker::new(&protected, &policy.lookalike_allow);
        Inspector {
            policy,
            detector,
            lookalike,
            image_text: None,
        }
    }

    /// Hands images in mail to `provider` (OCR) from now on.
    pub fn with_image_text(mut self, provider: std::sync::Arc<dyn extract::ImageText>) -> Self {
        self.image_text = Some(provider);
        self
    }

    /// Replaces the detector's notion of today (for reproducible tests).
    pub fn with_detector_settings(mut self, f: impl FnOnce(&mut DetectorSettings)) -> Self {
        let mut s = self.detector.settings().clone();
        f(&mut s);
        self.detector = Detector::new(s);
        self
    }

    /// The policy this inspector applies.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The CPR detector under this policy.
    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// Whether mail with this envelope is policed (outgoing).
    pub fn is_outgoing(&self, env: &Envelope) -> bool {
        self.policy.is_outgoing(env)
    }

    /// Judges one RCPT outside a transaction: the outgoing check, then the
    /// recipient rules. A shortcut for tests; the daemon and `scan` drive a
    /// [`crate::Transaction`].
    pub fn check_recipient(&self, env: &Envelope, rcpt: &str) -> RcptVerdict {
        let address = crate::envelope::bare_address(rcpt);
        if !self.is_outgoing(env) {
            return RcptVerdict::accepted(address);
        }
        self.judge_recipient(env, address)
    }

    /// The recipient rules for one policed RCPT. `env` holds what is known
    /// so far (client, auth, sender, queue id).
    pub(crate) fn judge_recipient(&self, env: &Envelope, address: String) -> RcptVerdict {
        let reference = reference(env);
        // `a@nyborg.dk.` is the same mailbox as `a@nyborg.dk`.
        let lower = address.trim_end_matches('.').to_ascii_lowercase();
        let shown_address = redact_digits(&address);
        let (rule, reply, reason) = if let Some(new) = self.policy.retired.get(&lower) {
            let reply = match new {
                Some(n) => self.policy.replies.get(ReplyKind::Retired).render(&[
                    ("address", &shown_address),
                    ("new_address", n),
                    ("ref", &reference),
                ]),
                None => self
                    .policy
                    .replies
                    .get(ReplyKind::RetiredNoForward)
                    .render(&[("address", &shown_address), ("ref", &reference)]),
            };
            (Rule::RecipientRetired, reply, "retired mailbox".to_string())
        } else if let Some(hit) = self
            .policy
            .lookalike_reject
            .then(|| {
                Envelope::domain_of(&address).and_then(|d| self.lookalike.check(&d).map(|l| (d, l)))
            })
            .flatten()
        {
            let (domain, look) = hit;
            // An internationalised domain goes into the reply in its ASCII (punycode) form.
            let shown = crate::recipients::ascii_form(&domain);
            let reply = self.policy.replies.get(ReplyKind::Lookalike).render(&[
                ("domain", &redact_digits(&shown)),
                ("suggestion", &look.suggestion),
                ("ref", &reference),
            ]);
            (
                Rule::RecipientLookalike,
                reply,
                format!("{} of {}", look.reason, look.suggestion),
            )
        } else {
            return RcptVerdict::accepted(address);
        };
        let finding = Finding {
            rule,
            location: Redacted::new(&format!("rcpt:<{address}>")),
            offset: None,
            masked: None,
            confidence: None,
            fingerprint: None,
            reason: Redacted::new(&reason),
            cause: None,
        };
        let (action, would) = self.apply_mode(Action::Reject);
        RcptVerdict {
            address,
            action,
            reply: Some(reply),
            finding: Some(finding),
            would,
        }
    }

    /// Judges a whole message outside a transaction: the outgoing check,
    /// then the end-of-message rules. A shortcut for tests and benchmarks;
    /// the daemon and `scan` drive a [`crate::Transaction`].
    pub fn inspect_message(&self, env: &Envelope, raw: &[u8]) -> Verdict {
        if !self.is_outgoing(env) {
            return Verdict::accept(Vec::new());
        }
        self.judge_message(env, Message::whole(raw))
    }

    /// The end-of-message rules for a policed transaction.
    pub(crate) fn judge_message(&self, env: &Envelope, message: Message<'_>) -> Verdict {
        let reference = reference(env);

        // Local submission cannot be refused per recipient at RCPT, so the
        // recipient rules decide the whole message here.
        if env.local_submission {
            for r in &env.recipients {
                let rv = self.judge_recipient(env, r.clone());
                if let (Some(reply), Some(f)) = (rv.reply, rv.finding) {
                    return self.decided(Action::Reject, reply, f.rule, vec![f]);
                }
            }
        }

        let raw = message.bytes();
        let limits = &self.policy.limits;
        // Too large to inspect whole: the headers (Subject, file name) are
        // still read, because a number there is rejected whatever happens
        // to the body.
        let oversized = message.is_truncated() || raw.len() as u64 > limits.max_message_bytes;
        let extracted = if oversized {
            extract::extract_headers(raw, limits)
        } else {
            extract::extract_with(raw, limits, self.image_text.as_deref())
        };

        let mut tally = CprTally::default();
        for seg in &extracted.segments {
            if seg.ocr {
                let text = ocr_tolerance::normalise(&seg.text, &self.policy.positive_keywords);
                self.detector.find_each(&text, |h| tally.add(seg, h));
            } else {
                self.detector.find_each(&seg.text, |h| tally.add(seg, h));
            }
        }
        let mut causes: Vec<Cause> = extracted.unscannable.iter().map(|u| u.cause).collect();
        let mut unscannable: Vec<Finding> = extracted
            .unscannable
            .iter()
            .map(|u| unscannable_finding(&u.location, &u.reason, u.cause))
            .collect();
        if oversized {
            let reason = format!("message larger than {} bytes", limits.max_message_bytes);
            unscannable.insert(0, unscannable_finding("message", &reason, Cause::Limit));
            causes.insert(0, Cause::Limit);
        }

        if tally.decides() {
            // A number in a header travels everywhere: always reject.
            if tally.header_rule().is_some() {
                let (rule, findings, counts, total) = tally.into_header_decided();
                let reply = self
                    .policy
                    .replies
                    .get(ReplyKind::CprHeader)
                    .render(&[("ref", &reference)]);
                return self
                    .decided(Action::Reject, reply, rule, findings)
                    .counted(counts, total);
            }
            let insecure: Vec<&String> = env
                .recipients
                .iter()
                .filter(|r| !self.policy.is_secure_recipient(r))
                .collect();
            // Encrypted parts are never scanned (policy lets them go); a
            // number found here was in plaintext beside them, so encryption
            // elsewhere in the message does not excuse it.
            if !insecure.is_empty() || env.recipients.is_empty() {
                let (rule, findings, counts, total) = tally.into_body_decided();
                let names: Vec<String> = insecure.iter().map(|r| redact_digits(r)).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let reply = self
                    .policy
                    .replies
                    .get(ReplyKind::CprBody)
                    .render_with_recipients(&[("ref", &reference)], &names);
                return self
                    .decided(Action::Reject, reply, rule, findings)
                    .counted(counts, total);
            }
        }
        let (mut findings, counts, total) = tally.into_parts();
        let total = total + unscannable.len();
        // Out of time with nothing decisive found: the MTA keeps the mail and
        // retries, it is not let through half-read.
        if extracted.deadline_exceeded {
            let mut v = self.tempfail(env, TempfailCause::ExtractionDeadline);
            v.findings.extend(findings);
            v.findings.extend(unscannable);
            return v.counted(counts, total + 1);
        }
        // The strictest answer among the causes present decides; its first
        // finding leads (its reason is the one the reply names).
        let strictest = causes
            .iter()
            .enumerate()
            .map(|(i, c)| (*self.policy.unscannable.get(*c), i))
            .max_by_key(|(action, i)| (strictness(*action), std::cmp::Reverse(*i)));
        if let Some((action, i)) = strictest {
            if action != UnscannablePolicy::Accept {
                let mut all = unscannable;
                all.swap(0, i);
                all.extend(findings);
                return self
                    .unscannable_verdict(action, all, &reference)
                    .counted(counts, total);
            }
            findings.extend(unscannable);
        }
        Verdict::accept(findings).counted(counts, total)
    }

    /// The verdict for an internal error or timeout: tempfail, never accept.
    pub fn tempfail(&self, env: &Envelope, cause: TempfailCause) -> Verdict {
        let reply = self
            .policy
            .replies
            .get(ReplyKind::Tempfail)
            .render(&[("ref", &reference(env))]);
        let f = Finding {
            rule: cause.rule(),
            location: "message".into(),
            offset: None,
            masked: None,
            confidence: None,
            fingerprint: None,
            reason: Redacted::new(cause.reason()),
            cause: None,
        };
        Verdict {
            action: Action::Tempfail,
            reply: Some(reply),
            rule: Some(cause.rule()),
            would: None,
            findings: vec![f],
            finding_counts: Vec::new(),
            findings_total: 1,
        }
    }

    fn unscannable_verdict(
        &self,
        action: UnscannablePolicy,
        findings: Vec<Finding>,
        reference: &str,
    ) -> Verdict {
        let reason = findings
            .first()
            .map(|f| f.reason.clone())
            .unwrap_or_default();
        let reason = reason.as_str();
        match action {
            UnscannablePolicy::Accept => Verdict::accept(findings),
            UnscannablePolicy::Reject => {
                let reply = self
                    .policy
                    .replies
                    .get(ReplyKind::Unscannable)
                    .render(&[("reason", reason), ("ref", reference)]);
                self.decided(Action::Reject, reply, Rule::ContentUnscannable, findings)
            }
            UnscannablePolicy::Tempfail => {
                let reply = self
                    .policy
                    .replies
                    .get(ReplyKind::Tempfail)
                    .render(&[("ref", reference)]);
                self.decided(Action::Tempfail, reply, Rule::ContentUnscannable, findings)
            }
        }
    }

    fn apply_mode(&self, action: Action) -> (Action, Option<Action>) {
        match self.policy.mode {
            Mode::Enforce => (action, None),
            Mode::Monitor => (Action::Accept, Some(action)),
        }
    }

    fn decided(&self, action: Action, reply: Reply, rule: Rule, findings: Vec<Finding>) -> Verdict {
        let (action, would) = self.apply_mode(action);
        Verdict {
            action,
            reply: Some(reply),
            rule: Some(rule),
            would,
            findings_total: findings.len(),
            findings,
            finding_counts: Vec::new(),
        }
    }
}

fn reference(env: &Envelope) -> String {
    env.queue_id
        .clone()
        .filter(|q| !q.is_empty())
        .or_else(|| env.reference.clone())
        .unwrap_or_else(|| "NOQUEUE".into())
}

/// Reject over tempfail over accept: a refusal tells the sender what to
/// fix, a tempfail only delays.
fn strictness(action: UnscannablePolicy) -> u8 {
    match action {
        UnscannablePolicy::Accept => 0,
        UnscannablePolicy::Tempfail => 1,
        UnscannablePolicy::Reject => 2,
    }
}

fn unscannable_finding(location: &str, reason: &str, cause: Cause) -> Finding {
    Finding {
        rule: Rule::ContentUnscannable,
        location: Redacted::new(location),
        offset: None,
        masked: None,
        confidence: None,
        fingerprint: None,
        reason: Redacted::new(reason),
        cause: Some(cause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspector() -> Inspector {
        let cfg = crate::config::parse("organisation:\n  domains: [nyborg.dk]\n", "t").unwrap();
        Inspector::new(cfg, None)
    }

    fn env() -> Envelope {
        Envelope {
            auth_user: Some("jens".into()),
            recipients: vec!["b@gmail.com".into()],
            ..Default::default()
        }
    }

    const PGP: &str = "From: a@nyborg.dk\r\nSubject: Sag\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n\
--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
--b\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n--b--\r\n";

    #[test]
    fn retired_mailbox_with_a_trailing_dot_is_still_retired() {
        let cfg = crate::config::parse(
            "recipients:\n  retired:\n    gammel@nyborg.dk: ny@nyborg.dk\n",
            "t",
        )
        .unwrap();
        let v = Inspector::new(cfg, None).check_recipient(&env(), "<Gammel@NYBORG.dk.>");
        assert_eq!(v.action, Action::Reject);
        assert_eq!(v.reply.unwrap().xcode, "5.1.6");
    }

    #[test]
    fn digits_in_a_recipient_address_never_reach_the_reply() {
        let v = inspector().inspect_message(
            &Envelope {
                recipients: vec!["2410851337@gmail.com".into()],
                ..env()
            },
            b"Subject: Sag\r\n\r\nCPR: 241085-1337\r\n",
        );
        let wire = v.reply.unwrap().to_string();
        assert!(wire.contains("<2410XXXXXX@gmail.com>"), "{wire}");
        assert!(!wire.contains("1337"), "{wire}");
    }

    #[test]
    fn oversized_message_is_still_rejected_for_a_number_in_the_subject() {
        let cfg = crate::config::parse("limits:\n  max_message_bytes: 2000\n", "t").unwrap();
        let insp = Inspector::new(cfg, None);
        let mut raw = b"Subject: Borger 241085-1337\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        let v = insp.inspect_message(&env(), &raw);
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("cpr.subject")),
            "{v:?}"
        );
        // Without a number in the headers, the size limit decides: a limit
        // is refused by default, accepted (audited) when the policy says so.
        let mut clean = b"Subject: Sag\r\n\r\n".to_vec();
        clean.extend(std::iter::repeat_n(b'x', 5000));
        let v = insp.inspect_message(&env(), &clean);
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("content.unscannable"))
        );
        let cfg = crate::config::parse(
            "limits:\n  max_message_bytes: 2000\n  unscannable: {limit: accept}\n",
            "t",
        )
        .unwrap();
        let v = Inspector::new(cfg, None).inspect_message(&env(), &clean);
        assert_eq!(v.action, Action::Accept);
        assert_eq!(v.findings[0].rule, "content.unscannable");
    }

    #[test]
    fn unscannable_content_under_the_reject_policy_says_why() {
        let cfg = crate::config::parse(
            "limits:\n  max_message_bytes: 2000\n  unscannable: reject\n",
            "t",
        )
        .unwrap();
        let mut raw = b"Subject: Sag\r\n\r\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        let v = Inspector::new(cfg, None).inspect_message(
            &Envelope {
                queue_id: Some("Q9".into()),
                ..env()
            },
            &raw,
        );
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("content.unscannable"))
        );
        assert_eq!(
            v.reply.unwrap().to_string(),
            "550-5.7.1 Afvist: en del af mailen kunne ikke kontrolleres for CPR-numre (message larger than 2000 bytes). \
Send indholdet som almindelig tekst eller via sikker mail.\r\n\
550-5.7.1 Rejected: part of the message could not be checked for CPR numbers (message larger than 2000 bytes). \
Send the content unencrypted and unpacked, or use secure mail.\r\n\
550 5.7.1 Indhold kunne ikke kontrolleres / Content could not be checked - ref Q9"
        );
    }

    #[test]
    fn running_out_of_time_is_a_tempfail_not_an_accept() {
        let raw = b"Subject: Sag\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nHej\r\n--b--\r\n";
        let mut cfg = crate::config::parse("", "t").unwrap();
        assert_eq!(
            Inspector::new(cfg.clone(), None)
                .inspect_message(&env(), raw)
                .action,
            Action::Accept
        );
        // No time at all (parse clamps the setting to >= 1 s; set it directly).
        cfg.limits.timeout = std::time::Duration::ZERO;
        let v = Inspector::new(cfg, None).inspect_message(&env(), raw);
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Tempfail, Some("internal.timeout")),
            "{v:?}"
        );
        assert!(v.reply.unwrap().to_string().starts_with("451-4.7.1 "));
    }

    #[test]
    fn findings_are_redacted_where_they_are_made() {
        let raw = "Subject: Sag\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\nContent-Disposition: attachment; filename=\"Borger 241085-1337.txt\"\r\n\r\nx\r\n--b--\r\n";
        let v = inspector().inspect_message(&env(), raw.as_bytes());
        assert_eq!(v.action, Action::Reject);
        let shown = format!("{v:?}");
        assert!(shown.contains("filename:Borger 2410XX-XXXX.txt"), "{shown}");
        assert!(!shown.contains("1337"), "{shown}");
    }

    #[test]
    fn encrypted_message_goes_out() {
        let v = inspector().inspect_message(&env(), PGP.as_bytes());
        assert_eq!(v.action, Action::Accept, "{v:?}");
    }

    #[test]
    fn plaintext_number_beside_an_encrypted_part_is_still_rejected() {
        let raw = format!(
            "From: a@nyborg.dk\r\nSubject: Sag\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nCPR: 241085-1337\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n{PGP}\r\n--o--\r\n"
        );
        let v = inspector().inspect_message(&env(), raw.as_bytes());
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("cpr.body")),
            "{v:?}"
        );
    }

    #[test]
    fn single_medium_number_is_logged_not_rejected() {
        let raw = "From: a@nyborg.dk\r\nSubject: Sag\r\n\r\nSag 2410851337\r\n";
        let v = inspector().inspect_message(&env(), raw.as_bytes());
        assert_eq!(v.action, Action::Accept);
        assert_eq!(
            v.findings.len(),
            1,
            "the medium finding is kept for the audit line"
        );
        assert!(v.is_notable());
    }

    /// Valid synthetic numbers (real dates in 1985, mod-11), all distinct.
    fn numbers(n: usize) -> Vec<String> {
        let w = [4u32, 3, 2, 7, 6, 5, 4, 3, 2, 1];
        let mut out = Vec::new();
        'outer: for day in 1..=28u32 {
            for month in 1..=12u32 {
                for serial in 0..10_000u32 {
                    let s = format!("{day:02}{month:02}85{serial:04}");
                    let sum: u32 = s.bytes().zip(w).map(|(b, w)| u32::from(b - b'0') * w).sum();
                    if sum.is_multiple_of(11) {
                        out.push(format!("{}-{}", &s[..6], &s[6..]));
                        if out.len() == n {
                            break 'outer;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn findings_are_counted_all_but_kept_as_a_bounded_sample() {
        let mut body = String::from("Subject: Liste\r\n\r\n");
        for n in numbers(5000) {
            body.push_str(&format!("CPR: {n}\r\n"));
        }
        let v = inspector().inspect_message(&env(), body.as_bytes());
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("cpr.body"))
        );
        assert_eq!(v.findings.len(), crate::findings::FINDINGS_SAMPLE);
        assert_eq!(v.findings_total, 5000);
        assert_eq!(v.finding_counts.len(), 1, "{:?}", v.finding_counts);
        assert_eq!(v.finding_counts[0].count, 5000);
        assert_eq!(v.finding_counts[0].location, "body:text/plain");
        assert!(v.deciding().is_some());
    }

    #[test]
    fn a_header_hit_past_the_sample_still_decides_and_comes_first() {
        let mut raw = String::from(
            "Subject: Liste\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n",
        );
        let mut all = numbers(301);
        let last = all.pop().unwrap();
        for n in all {
            raw.push_str(&format!("CPR: {n}\r\n"));
        }
        raw.push_str(&format!(
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"Borger {last}.txt\"\r\n\r\nx\r\n--b--\r\n"
        ));
        let v = inspector().inspect_message(&env(), raw.as_bytes());
        assert_eq!(
            (v.action, v.rule.as_deref()),
            (Action::Reject, Some("cpr.header")),
            "{:?}",
            v.finding_counts
        );
        assert_eq!(v.findings[0].rule, Rule::CprHeader);
        assert_eq!(v.findings.len(), crate::findings::FINDINGS_SAMPLE);
        assert_eq!(v.findings_total, 301);
    }
}
