//! One mail transaction in the order the MTA drives it: MAIL (policed or
//! not), each RCPT (checked, the accepted ones kept), end of message (the
//! local-submission recipient rules, then the content) or a temporary
//! failure. The milter callbacks and `scan` both drive this type, so they
//! run the same rules in the same order by construction.
//!
//! The transaction owns the one envelope; every stage borrows it.

use std::sync::Arc;

use crate::envelope::{bare_address, Envelope};
use crate::inspect::Inspector;
use crate::message::Message;
use crate::verdict::{Action, RcptVerdict, TempfailCause, Verdict};

/// What MAIL decides: only outgoing mail is policed.
#[derive(Debug)]
pub enum Begin {
    /// Outgoing mail: drive the transaction through its stages.
    Policed(Transaction),
    /// Incoming mail (a citizen writing to the municipality): accept it at
    /// MAIL, so it is neither buffered nor inspected.
    NotPoliced,
}

/// A policed transaction between MAIL and end of message.
#[derive(Debug)]
pub struct Transaction {
    inspector: Arc<Inspector>,
    envelope: Envelope,
}

impl Transaction {
    /// MAIL: `envelope` holds the client, the SASL login, the sender and
    /// the queue id known so far (its recipient list is ignored). The
    /// inspector is the configuration in force when the transaction began;
    /// a reload does not change it half-way.
    pub fn begin(inspector: Arc<Inspector>, mut envelope: Envelope) -> Begin {
        envelope.recipients.clear();
        if !inspector.is_outgoing(&envelope) {
            return Begin::NotPoliced;
        }
        Begin::Policed(Transaction {
            inspector,
            envelope,
        })
    }

    /// The envelope so far (for audit lines).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The configuration this transaction runs under.
    pub fn inspector(&self) -> &Inspector {
        &self.inspector
    }

    /// Records the MTA's queue id once it has one (Postfix assigns it after
    /// the first accepted RCPT). An absent or empty value keeps the old one.
    pub fn set_queue_id(&mut self, queue_id: Option<String>) {
        if let Some(q) = queue_id.filter(|q| !q.is_empty()) {
            self.envelope.queue_id = Some(q);
        }
    }

    /// RCPT: the recipient rules for one address as the MTA sent it (angle
    /// brackets and ESMTP decoration allowed). An accepted recipient joins
    /// the envelope. Local submission cannot be refused per recipient, so
    /// there every recipient is accepted here and the rules run at
    /// [`Transaction::finish`].
    pub fn recipient(&mut self, arg: &str) -> RcptVerdict {
        let address = bare_address(arg);
        let verdict = if self.envelope.local_submission {
            RcptVerdict::accepted(address)
        } else {
            self.inspector.judge_recipient(&self.envelope, address)
        };
        if verdict.action == Action::Accept {
            self.envelope.recipients.push(verdict.address.clone());
        }
        verdict
    }

    /// End of message: the verdict on the whole mail.
    pub fn finish(&self, message: Message<'_>) -> Verdict {
        self.inspector.judge_message(&self.envelope, message)
    }

    /// The verdict when the message could not be judged (overload, timeout,
    /// internal error): a temporary failure, never an accept.
    pub fn tempfail(&self, cause: TempfailCause) -> Verdict {
        self.inspector.tempfail(&self.envelope, cause)
    }

    /// True when RCPT refused every recipient the MTA offered (`offered` > 0):
    /// the MTA ends the transaction there, before DATA.
    pub fn refused_all(&self, offered: usize) -> bool {
        offered > 0 && self.envelope.recipients.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Rule;

    fn inspector() -> Arc<Inspector> {
        let cfg = crate::config::parse(
            "organisation:\n  domains: [nyborg.dk]\n  networks: [10.0.0.0/8]\nrecipients:\n  retired:\n    gammel@nyborg.dk: ny@nyborg.dk\n",
            "t",
        )
        .unwrap();
        Arc::new(Inspector::new(cfg, None))
    }

    fn outgoing() -> Envelope {
        Envelope {
            client_ip: Some("10.1.2.3".parse().unwrap()),
            sender: "a@nyborg.dk".into(),
            recipients: vec!["ignored@x.dk".into()],
            ..Default::default()
        }
    }

    #[test]
    fn incoming_mail_is_not_policed() {
        let env = Envelope {
            client_ip: Some("192.0.2.1".parse().unwrap()),
            ..outgoing()
        };
        assert!(matches!(
            Transaction::begin(inspector(), env),
            Begin::NotPoliced
        ));
    }

    #[test]
    fn accepted_recipients_join_the_envelope_refused_ones_do_not() {
        let Begin::Policed(mut tx) = Transaction::begin(inspector(), outgoing()) else {
            panic!("outgoing mail is policed");
        };
        assert!(tx.envelope().recipients.is_empty(), "MAIL starts with none");
        assert_eq!(tx.recipient("<b@gmail.com>").action, Action::Accept);
        let v = tx.recipient("<gammel@nyborg.dk>");
        assert_eq!(v.action, Action::Reject);
        assert_eq!(
            v.finding.map(|f| f.rule),
            Some(Rule::RecipientRetired),
            "the retired rule decided"
        );
        assert_eq!(tx.envelope().recipients, vec!["b@gmail.com".to_string()]);
        let v = tx.finish(Message::whole(b"Subject: Sag\r\n\r\nCPR: 241085-1337\r\n"));
        assert_eq!(v.action, Action::Reject);
        let wire = v.reply.unwrap().to_string();
        assert!(wire.contains("<b@gmail.com>"), "{wire}");
        assert!(!wire.contains("gammel"), "{wire}");
    }

    #[test]
    fn local_submission_defers_the_recipient_rules_to_end_of_message() {
        let env = Envelope {
            client_ip: None,
            local_submission: true,
            ..outgoing()
        };
        let Begin::Policed(mut tx) = Transaction::begin(inspector(), env) else {
            panic!("local submission is policed");
        };
        assert_eq!(tx.recipient("gammel@nyborg.dk").action, Action::Accept);
        let v = tx.finish(Message::whole(b"Subject: Sag\r\n\r\nHej\r\n"));
        assert_eq!(
            (v.action, v.rule),
            (Action::Reject, Some(Rule::RecipientRetired))
        );
    }

    #[test]
    fn a_truncated_message_is_judged_on_its_headers() {
        let Begin::Policed(mut tx) = Transaction::begin(inspector(), outgoing()) else {
            panic!("outgoing mail is policed");
        };
        tx.recipient("b@gmail.com");
        let v = tx.finish(Message::truncated(b"Subject: Sag\r\n\r\nHej"));
        // Too large to read is a limit, refused by default.
        assert_eq!(
            (v.action, v.rule),
            (Action::Reject, Some(Rule::ContentUnscannable))
        );
        assert_eq!(v.findings[0].rule, Rule::ContentUnscannable);
        assert!(v.findings[0]
            .reason
            .as_str()
            .starts_with("message larger than"));
    }

    #[test]
    fn the_queue_id_is_kept_once_known() {
        let Begin::Policed(mut tx) = Transaction::begin(inspector(), outgoing()) else {
            panic!("outgoing mail is policed");
        };
        tx.set_queue_id(Some("4F1A2B3C".into()));
        tx.set_queue_id(Some(String::new()));
        tx.set_queue_id(None);
        assert_eq!(tx.envelope().queue_id.as_deref(), Some("4F1A2B3C"));
        let v = tx.tempfail(TempfailCause::Timeout);
        assert_eq!(v.action, Action::Tempfail);
        assert!(v.reply.unwrap().to_string().contains("4F1A2B3C"));
    }

    #[test]
    fn every_reply_line_fits_512_octets_with_eight_long_recipients() {
        let long = |i: usize| format!("{}{i}@{}.example.com", "m".repeat(32), "d".repeat(14));
        let cfg = crate::config::parse(
            &format!(
                "organisation:\n  domains: [nyborg.dk]\n  networks: [10.0.0.0/8]\nrecipients:\n  retired:\n    {}: {}\nlimits:\n  max_message_bytes: 100\n  unscannable: reject\n",
                long(9),
                long(10)
            ),
            "t",
        )
        .unwrap();
        let inspector = Arc::new(Inspector::new(cfg, None));
        let Begin::Policed(mut tx) = Transaction::begin(inspector, outgoing()) else {
            panic!("outgoing mail is policed");
        };
        let mut replies = Vec::new();
        for i in 0..8 {
            assert_eq!(tx.recipient(&long(i)).action, Action::Accept);
        }
        replies.extend(tx.recipient(&long(9)).reply);
        let lookalike = format!("{}@nyb0rg.dk", "l".repeat(50));
        replies.extend(tx.recipient(&lookalike).reply);
        replies.extend(
            tx.finish(Message::whole(b"Subject: CPR 241085-1337\r\n\r\nx"))
                .reply,
        );
        let body = format!(
            "Subject: Sag\r\n\r\nCPR: 241085-1337 {}\r\n",
            "x".repeat(200)
        );
        let small = tx.finish(Message::whole(b"Subject: Sag\r\n\r\nCPR: 241085-1337\r\n"));
        replies.extend(small.reply);
        replies.extend(tx.finish(Message::whole(body.as_bytes())).reply);
        replies.extend(tx.tempfail(TempfailCause::Timeout).reply);
        assert_eq!(replies.len(), 6, "{replies:?}");
        for r in &replies {
            for line in r.to_string().split("\r\n") {
                assert!(line.len() + 2 <= 512, "{} octets: {line}", line.len() + 2);
            }
        }
    }
}
