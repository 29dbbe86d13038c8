//! Who is policed and where CPR numbers may go.

use crate::config::Config;
use crate::envelope::Envelope;
use crate::recipients::domain_matches;

/// Only outgoing mail is policed: SASL-authenticated sessions, clients in
/// `organisation.networks`, and local submission (no client address).
pub fn is_outgoing(config: &Config, env: &Envelope) -> bool {
    if env.auth_user.as_deref().is_some_and(|u| !u.is_empty()) || env.local_submission {
        return true;
    }
    match env.client_ip {
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
        Some(ip) => {
            let ip = ip.to_canonical();
            config.networks.iter().any(|n| n.contains(&ip))
        }
        None => true,
    }
}

/// A recipient may receive CPR numbers in the body when its domain is one of
/// the organisation's own or a configured secure destination.
pub fn is_secure_recipient(config: &Config, rcpt: &str) -> bool {
    let Some(domain) = Envelope::domain_of(rcpt) else {
        return false;
    };
    config
        .org_domains
        .iter()
        .chain(&config.secure_destinations)
        .any(|base| domain_matches(&domain, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        crate::config::parse(
            "listen: unix:/x\norganisation:\n  domains: [nyborg.dk]\n  networks: [10.0.0.0/8]\ncpr:\n  secure_destinations: [sikker.partner.dk]\n",
            "t",
        )
        .unwrap()
    }

    #[test]
    fn scope() {
        let c = cfg();
        let mut e = Envelope {
            client_ip: Some("10.1.2.3".parse().unwrap()),
            ..Default::default()
        };
        assert!(is_outgoing(&c, &e));
        e.client_ip = Some("192.0.2.1".parse().unwrap());
        assert!(
            !is_outgoing(&c, &e),
            "a citizen's mail from outside is incoming"
        );
        e.auth_user = Some("jens".into());
        assert!(is_outgoing(&c, &e));
        let mapped = Envelope {
            client_ip: Some("::ffff:10.1.2.3".parse().unwrap()),
            ..Default::default()
        };
        assert!(
            is_outgoing(&c, &mapped),
            "IPv4-mapped client is inside 10.0.0.0/8"
        );
    }

    #[test]
    fn secure_recipients() {
        let c = cfg();
        assert!(is_secure_recipient(&c, "a@nyborg.dk"));
        assert!(is_secure_recipient(&c, "a@post.sikker.partner.dk"));
        assert!(!is_secure_recipient(&c, "a@partner.dk"));
        assert!(!is_secure_recipient(&c, "a@gmail.com"));
    }
}
