#![warn(missing_docs)]
//! Pure inspection core of cpr-milter: CPR detection, MIME and attachment
//! extraction, recipient checks, policy and replies.
//!
//! No sockets, no async, no global state: every rule is a function from
//! plain bytes and a [`Policy`] to a verdict, so the daemon, the offline
//! `scan` command and the tests run exactly the same code.
//!
//! # The one way in
//!
//! A [`Policy`] (from [`config::parse`] or `Policy::default()`) is compiled
//! once into an [`Inspector`]. Each mail is a [`Transaction`]: begun at MAIL
//! (incoming mail is [`Begin::NotPoliced`] and never inspected), given each
//! RCPT (refused recipients stay out of the envelope), and finished with the
//! message, which yields the [`Verdict`]: what to tell the MTA, the reply,
//! the deciding rule and every finding, with CPR numbers only masked.
//!
//! ```
//! use std::sync::Arc;
//! use cpr_milter_core::{config, Action, Begin, Envelope, Inspector, Message, Rule, Transaction};
//!
//! let policy = config::parse("organisation:\n  domains: [nyborg.dk]\n", "example.yaml")?;
//! let inspector = Arc::new(Inspector::new(policy, None));
//! let mail = Envelope {
//!     auth_user: Some("jens".into()), // a SASL login: outgoing mail
//!     sender: "jens@nyborg.dk".into(),
//!     queue_id: Some("4F1A2B3C".into()),
//!     ..Envelope::default()
//! };
//! let Begin::Policed(mut tx) = Transaction::begin(inspector, mail) else {
//!     unreachable!("authenticated mail is policed");
//! };
//! assert_eq!(tx.recipient("<borger@example.com>").action, Action::Accept);
//! let verdict = tx.finish(Message::whole(b"Subject: Sag\r\n\r\nCPR-nr.: 241085-1337\r\n"));
//! assert_eq!(verdict.action, Action::Reject);
//! assert_eq!(verdict.rule, Some(Rule::CprBody));
//! assert_eq!(verdict.deciding().and_then(|f| f.masked.as_deref()), Some("2410XX-XXXX"));
//! assert!(verdict.reply.unwrap().to_string().starts_with("550-5.7.1 "));
//! # Ok::<(), cpr_milter_core::ConfigError>(())
//! ```
//!
//! # Time is an input
//!
//! A birth date in the future is not a CPR number, so the detector reads
//! the clock (at every scan: a daemon runs for months). Tests that need a
//! fixed "today" set it with [`Inspector::with_detector_settings`]
//! (`today`, and `follow_clock: false`).
//!
//! # Layout
//!
//! [`cpr`] finds numbers in text; [`extract`] turns a raw message into
//! texts with locations; [`recipients`] judges addresses; the policy, the
//! transaction, verdicts and [`reply`] texts sit on top; [`config`] reads
//! the policy's part of the configuration file.

pub mod config;
pub mod cpr;
mod envelope;
pub mod extract;
pub mod findings;
mod inspect;
mod message;
mod policy;
pub mod recipients;
pub mod redact;
pub mod reply;
mod transaction;
mod verdict;

pub use config::ConfigError;
pub use envelope::{bare_address, Envelope};
pub use inspect::Inspector;
pub use message::Message;
pub use policy::{Mode, Policy, UnscannablePolicy};
pub use transaction::{Begin, Transaction};
pub use verdict::{Action, Confidence, Finding, RcptVerdict, Rule, TempfailCause, Verdict};
