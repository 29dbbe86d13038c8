//! Pure inspection core of cpr-milter.
//!
//! No sockets, no async, no global state: every rule is a function from plain
//! bytes and configuration to a verdict, so the daemon, the offline `scan`
//! command and the tests all run exactly the same code.

pub mod config;
pub mod cpr;
pub mod envelope;
pub mod extract;
pub mod inspect;
pub mod policy;
pub mod recipients;
pub mod redact;
pub mod reply;
pub mod transaction;
pub mod verdict;

pub use config::ConfigError;
pub use envelope::Envelope;
pub use inspect::Inspector;
pub use policy::{Mode, Policy, UnscannablePolicy};
pub use transaction::{Begin, Message, Transaction};
pub use verdict::{Action, Confidence, Finding, RcptVerdict, Rule, TempfailCause, Verdict};
