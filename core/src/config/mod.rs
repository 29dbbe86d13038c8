//! The configuration file's policy sections: `raw` (what operators write,
//! with positions), `validate` (one function per section) and the model,
//! [`crate::Policy`]. Reading the file is the caller's job; this module turns
//! text into a policy or an error that names the file, line and column with
//! a hint. The daemon's own keys (`listen`, `log`, `audit`,
//! `limits.max_buffered_bytes`) are recognised here and read by the daemon
//! with [`from_yaml`].

mod raw;
mod validate;

use crate::policy::Policy;
use ipnet::IpNet;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;
use std::fmt;

pub use crate::policy::{Mode, UnscannablePolicy, DEFAULT_NETWORKS};

/// A configuration error with its position in the file. Its text is
/// redacted when it is made: a refused value may hold a CPR-shaped number,
/// and this text goes to syslog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// What would be accepted.
    pub hint: Option<String>,
}

impl ConfigError {
    /// An error at `value`'s position.
    pub fn at<T>(file: &str, value: &Spanned<T>, message: String, hint: &str) -> Self {
        validate::Ctx { file }.err(value, message, hint)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?;
        } else {
            write!(f, "{}: {}", self.file, self.message)?;
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Parses YAML text into `T` (the raw form of some sections), with errors
/// that name `file`, line and column. Unknown keys are errors wherever `T`
/// says so (`deny_unknown_fields`).
pub fn from_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, ConfigError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let msg = e.to_string();
        let first = without_position(msg.lines().next().unwrap_or("invalid YAML"));
        let hint = first
            .contains("unknown field")
            .then(|| "see milter.yaml.example for every key".to_string());
        ConfigError {
            file: file.into(),
            line,
            column,
            message: crate::redact::redact_digits(&first),
            hint,
        }
    })
}

/// Parses and validates the policy sections of a configuration file.
/// `file` is only used in error messages.
pub fn parse(text: &str, file: &str) -> Result<Policy, ConfigError> {
    let raw: raw::RawPolicyFile = from_yaml(text, file)?;
    validate::policy(&validate::Ctx { file }, &raw)
}

/// serde-saphyr puts "error: line L column C: " in front of its messages;
/// our errors carry the position as FILE:LINE:COL already.
fn without_position(msg: &str) -> String {
    let m = msg.strip_prefix("error: ").unwrap_or(msg);
    if let Some(rest) = m.strip_prefix("line ") {
        if let Some((pos, text)) = rest.split_once(": ") {
            if pos.contains(" column ") {
                return text.to_string();
            }
        }
    }
    m.to_string()
}

fn parse_network(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

/// Lower-cases and checks a domain name (letters, digits, hyphens, dots,
/// non-ASCII letters for IDNs).
pub fn normalise_domain(s: &str) -> Option<String> {
    let d = s.trim().trim_end_matches('.').to_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    ok.then_some(d)
}

fn is_address(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains(char::is_whitespace)
                && normalise_domain(domain).is_some()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_gets_defaults() {
        let c = parse("organisation:\n  domains: [Nyborg.dk]\n", "t.yaml").unwrap();
        assert_eq!(c.org_domains, vec!["nyborg.dk"]);
        assert_eq!(c.mode, Mode::Enforce);
        assert_eq!(c.networks.len(), 2);
        assert!(c.lookalike_reject);
        assert_eq!(c.limits, crate::extract::Limits::default());
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = parse("listen: inet:127.0.0.1:1\nbogus: 1\n", "m.yaml").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.to_string().contains("m.yaml:2:"), "{e}");
        assert!(e.to_string().contains("bogus"), "{e}");
        assert!(
            e.to_string().starts_with("m.yaml:2:1: unknown field"),
            "{e}"
        );
    }

    #[test]
    fn bad_cidr_is_located() {
        let e = parse(
            "listen: unix:/run/x.sock\norganisation:\n  networks:\n    - 10.0.0.0/33\n",
            "m.yaml",
        )
        .unwrap_err();
        assert_eq!(
            (e.line, e.message.contains("10.0.0.0/33")),
            (4, true),
            "{e}"
        );
    }

    #[test]
    fn discard_cannot_be_configured() {
        let e = parse(
            "listen: unix:/x\nlimits:\n  unscannable: discard\n",
            "m.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
    }

    #[test]
    fn unscannable_is_one_action_or_one_per_cause() {
        use crate::extract::PerCause;
        use crate::UnscannablePolicy::{Accept, Reject, Tempfail};
        let by = |yaml: &str| parse(yaml, "m.yaml").map(|c| c.unscannable);
        assert_eq!(
            by("mode: enforce\n"),
            Ok(crate::policy::DEFAULT_UNSCANNABLE)
        );
        assert_eq!(
            by("limits:\n  unscannable: tempfail\n"),
            Ok(PerCause::all(Tempfail))
        );
        assert_eq!(
            by("limits:\n  unscannable:\n    encrypted: reject\n    limit: accept\n"),
            Ok(PerCause {
                encrypted: Reject,
                limit: Accept,
                broken: Accept,
                unsupported: Accept,
            })
        );
        let e = by("limits:\n  unscannable:\n    broken: discard\n").unwrap_err();
        assert!(e.to_string().contains("not supported"), "{e}");
        assert!(by("limits:\n  unscannable:\n    zipbomb: reject\n").is_err());
    }

    #[test]
    fn refused_values_are_redacted_in_the_error() {
        let e = parse(
            "organisation:\n  domains: [\"cpr 241085-1337\"]\n",
            "m.yaml",
        )
        .unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("2410XX-XXXX"), "{shown}");
        assert!(!shown.contains("1337"), "{shown}");
        let e = parse("mode: 2410851337\n", "m.yaml").unwrap_err();
        assert!(!e.to_string().contains("1337"), "{e}");
        let e = parse("bogus_2410851337: 1\n", "m.yaml").unwrap_err();
        assert!(!e.to_string().contains("1337"), "{e}");
    }

    #[test]
    fn the_daemon_keys_are_known_but_not_read_here() {
        let p = parse(
            "listen: inet:127.0.0.1:1\nlog:\n  destination: stderr\naudit:\n  fingerprint_key_file: /k\nlimits:\n  max_buffered_bytes: 5\n",
            "m.yaml",
        )
        .unwrap();
        assert_eq!(p, Policy::default());
    }
}
