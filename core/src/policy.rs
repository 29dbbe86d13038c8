//! The policy: everything inspection reads, and nothing else (where the
//! daemon listens, logs or keeps its key file is the daemon's business).
//! `Policy::default()` is a working policy with no own domains; the
//! configuration file's policy sections override it.

use crate::cpr::validate::Date;
use crate::envelope::Envelope;
use crate::extract::{extraction_budget, Limits, PerCause};
use crate::recipients::domain_matches;
use crate::reply::ReplyTexts;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::time::Duration;

/// Enforce rejects; monitor logs `would-reject` and accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Reject what the rules reject.
    Enforce,
    /// Accept everything, log what enforce mode would have done.
    Monitor,
}

impl Mode {
    /// `enforce` or `monitor`, as in the file and the audit line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
        }
    }
}

/// What to do with content that could not be inspected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnscannablePolicy {
    /// Let it go (with an audit line).
    Accept,
    /// Refuse it with a reply saying why.
    Reject,
    /// Answer 4xx: the sending MTA keeps it and retries.
    Tempfail,
}

/// The answer to unscannable content when the file gives none: encrypted
/// content is the sender's right and goes (with an audit line); a limit
/// stopped the reader (bombs, thousands of parts, huge streams: how crafted
/// mail hides a number) and is refused; broken or unsupported content goes
/// with an audit line (real mail has stub attachments and formats no reader
/// handles, and refusing them would stop legitimate mail).
pub const DEFAULT_UNSCANNABLE: PerCause<UnscannablePolicy> = PerCause {
    encrypted: UnscannablePolicy::Accept,
    limit: UnscannablePolicy::Reject,
    broken: UnscannablePolicy::Accept,
    unsupported: UnscannablePolicy::Accept,
};

/// Networks whose clients are outgoing when the file names none.
pub const DEFAULT_NETWORKS: &[&str] = &["127.0.0.0/8", "::1/128"];

/// The validated rules one inspection runs under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Enforce or monitor.
    pub mode: Mode,
    /// The organisation's own domains (lower case).
    pub org_domains: Vec<String>,
    /// Domains of partners, protected against lookalikes.
    pub partner_domains: Vec<String>,
    /// Clients whose mail is outgoing.
    pub networks: Vec<IpNet>,
    /// Domains that may receive CPR numbers in the body.
    pub secure_destinations: Vec<String>,
    /// Birth dates issued without modulus-11.
    pub exempt_dates: Vec<Date>,
    /// Words that say "this is a CPR number" (lower case).
    pub positive_keywords: Vec<String>,
    /// Words that say "this is some other number" (lower case).
    pub negative_keywords: Vec<String>,
    /// Whether lookalike recipient domains are rejected.
    pub lookalike_reject: bool,
    /// Domains never treated as lookalikes.
    pub lookalike_allow: Vec<String>,
    /// Retired address (lower case) → forwarding address, if any.
    pub retired: BTreeMap<String, Option<String>>,
    /// What one message may cost to extract; its `timeout` is the
    /// extraction's share of [`Policy::scan_timeout`].
    pub limits: Limits,
    /// What happens to content that could not be inspected, per cause.
    pub unscannable: PerCause<UnscannablePolicy>,
    /// Reply texts per reply kind.
    pub replies: ReplyTexts,
    scan_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        let limits = Limits::default();
        Policy {
            mode: Mode::Enforce,
            org_domains: Vec::new(),
            partner_domains: Vec::new(),
            networks: DEFAULT_NETWORKS
                .iter()
                .map(|n| n.parse().expect("valid default network"))
                .collect(),
            secure_destinations: Vec::new(),
            exempt_dates: crate::cpr::default_exempt_dates(),
            positive_keywords: crate::cpr::DEFAULT_POSITIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            negative_keywords: crate::cpr::DEFAULT_NEGATIVE_KEYWORDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            lookalike_reject: true,
            lookalike_allow: Vec::new(),
            retired: BTreeMap::new(),
            scan_timeout: limits.timeout * 5 / 4,
            limits,
            unscannable: DEFAULT_UNSCANNABLE,
            replies: ReplyTexts::default(),
        }
    }
}

impl Policy {
    /// The whole inspection's time limit (`limits.scan_timeout_seconds`):
    /// past it the daemon answers 4xx.
    pub fn scan_timeout(&self) -> Duration {
        self.scan_timeout
    }

    /// Sets the inspection's time limit and, from it, the extraction's share.
    pub fn set_scan_timeout(&mut self, timeout: Duration) {
        self.scan_timeout = timeout;
        self.limits.timeout = extraction_budget(timeout);
    }

    /// Only outgoing mail is policed: SASL-authenticated sessions, clients
    /// in `organisation.networks`, and local submission (no client address).
    pub fn is_outgoing(&self, env: &Envelope) -> bool {
        if env.auth_user.as_deref().is_some_and(|u| !u.is_empty()) || env.local_submission {
            return true;
        }
        match env.client_ip {
            // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
            Some(ip) => {
                let ip = ip.to_canonical();
                self.networks.iter().any(|n| n.contains(&ip))
            }
            None => true,
        }
    }

    /// A recipient may receive CPR numbers in the body when its domain is one
    /// of the organisation's own or a configured secure destination.
    pub fn is_secure_recipient(&self, rcpt: &str) -> bool {
        let Some(domain) = Envelope::domain_of(rcpt) else {
            return false;
        };
        self.org_domains
            .iter()
            .chain(&self.secure_destinations)
            .any(|base| domain_matches(&domain, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        crate::config::parse(
            "organisation:\n  domains: [nyborg.dk]\n  networks: [10.0.0.0/8]\ncpr:\n  secure_destinations: [sikker.partner.dk]\n",
            "t",
        )
        .unwrap()
    }

    #[test]
    fn an_empty_file_is_the_default_policy() {
        assert_eq!(crate::config::parse("", "t").unwrap(), Policy::default());
        assert_eq!(Policy::default().scan_timeout(), Duration::from_secs(30));
    }

    #[test]
    fn scope() {
        let c = policy();
        let mut e = Envelope {
            client_ip: Some("10.1.2.3".parse().unwrap()),
            ..Default::default()
        };
        assert!(c.is_outgoing(&e));
        e.client_ip = Some("192.0.2.1".parse().unwrap());
        assert!(
            !c.is_outgoing(&e),
            "a citizen's mail from outside is incoming"
        );
        e.auth_user = Some("jens".into());
        assert!(c.is_outgoing(&e));
        let mapped = Envelope {
            client_ip: Some("::ffff:10.1.2.3".parse().unwrap()),
            ..Default::default()
        };
        assert!(
            c.is_outgoing(&mapped),
            "IPv4-mapped client is inside 10.0.0.0/8"
        );
    }

    #[test]
    fn secure_recipients() {
        let c = policy();
        assert!(c.is_secure_recipient("a@nyborg.dk"));
        assert!(c.is_secure_recipient("a@post.sikker.partner.dk"));
        assert!(!c.is_secure_recipient("a@partner.dk"));
        assert!(!c.is_secure_recipient("a@gmail.com"));
    }
}
