//! What the MTA told us about a transaction, independent of the milter protocol.

use std::net::IpAddr;

/// The SMTP envelope of one message, as seen by the milter (or given to `scan`).
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    /// Client address, `None` for local submission or unknown.
    pub client_ip: Option<IpAddr>,
    /// Client host name as reported by the MTA (`unknown` when unresolved).
    pub client_name: Option<String>,
    /// SASL login name (`{auth_authen}`), when the session authenticated.
    pub auth_user: Option<String>,
    /// Envelope sender without angle brackets; empty for the null sender.
    pub sender: String,
    /// Envelope recipients without angle brackets, in RCPT order.
    pub recipients: Vec<String>,
    /// MTA queue id (`i` macro), used as the reference in replies and logs.
    pub queue_id: Option<String>,
    /// The milter's own transaction reference, quoted in replies when the MTA
    /// has no queue id yet (Postfix assigns it only after the first accepted
    /// RCPT, so RCPT rejects would otherwise say NOQUEUE).
    pub reference: Option<String>,
    /// True when the mail did not arrive over SMTP (Postfix `non_smtpd_milters`,
    /// sendmail(1)): RCPT rejects are impossible there, so recipient rules run
    /// at end of message instead.
    pub local_submission: bool,
}

impl Envelope {
    /// Domain part of an address, lower-cased; `None` when there is no `@`.
    pub fn domain_of(address: &str) -> Option<String> {
        let addr = address.trim().trim_start_matches('<').trim_end_matches('>');
        addr.rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
    }
}

/// Strips the angle brackets and ESMTP decoration an MTA passes with an address.
pub fn bare_address(arg: &str) -> String {
    let s = arg.trim();
    let s = s.strip_prefix('<').unwrap_or(s);
    let s = s.strip_suffix('>').unwrap_or(s);
    s.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_is_lowercased_and_bracket_free() {
        assert_eq!(
            Envelope::domain_of("<Jens@Nyborg.DK>").as_deref(),
            Some("nyborg.dk")
        );
        assert_eq!(Envelope::domain_of("postmaster"), None);
        assert_eq!(bare_address(" <a@b.dk> "), "a@b.dk");
        assert_eq!(bare_address("<>"), "");
    }
}
