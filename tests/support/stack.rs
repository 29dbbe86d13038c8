//! A private Postfix consulting a running cpr-milter: what most end-to-end
//! tests start with. Dropped in field order: Postfix first (nothing talks to
//! the milter any more), then the milter.

use super::milter::{Milter, ORG_DOMAIN};
use super::postfix::{Options, Postfix, INBOX_DOMAIN};
use super::smtp::{send_mail, Outcome};
use std::time::Duration;

/// The envelope sender of test mail: a user of the organisation.
pub fn sender() -> String {
    format!("jens@{ORG_DOMAIN}")
}

/// An address in the domain Postfix delivers into the test Maildir.
pub fn inbox(local: &str) -> String {
    format!("{local}@{INBOX_DOMAIN}")
}

pub struct Stack {
    pub postfix: Postfix,
    pub milter: Milter,
}

impl Stack {
    /// The milter with `organisation` lines added inside `organisation:` and
    /// `extra_yaml` top-level keys, and Postfix pointing `smtpd_milters` at it.
    pub fn start(organisation: &str, extra_yaml: &str) -> Stack {
        let milter = Milter::start_with(organisation, extra_yaml);
        let postfix = Postfix::start(&Options::with_milter_port(milter.port()));
        Stack { postfix, milter }
    }

    /// Sends `message` from `sender()` to `rcpts` over SMTP.
    pub fn send(&self, rcpts: &[&str], message: &[u8]) -> Outcome {
        send_mail(self.postfix.port(), &sender(), rcpts, message)
    }

    /// Maillog and milter log, for failure messages.
    pub fn context(&self) -> String {
        format!(
            "--- maillog:\n{}\n--- milter log:\n{}",
            self.postfix.maillog(),
            self.milter.log()
        )
    }

    /// After a short settle time, `n` messages were delivered and none is
    /// left in the queue (nothing lost, nothing extra).
    pub fn assert_settled_with(&self, n: usize) {
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(self.postfix.delivered().len(), n, "{}", self.context());
        assert_eq!(self.postfix.queued(), 0);
    }
}
