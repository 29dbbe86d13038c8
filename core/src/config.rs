//! Configuration: the YAML model (what operators write) and its validation
//! into typed settings (what the policy uses). Reading the file is the
//! caller's job; this module turns text into a `Config` or an error that names
//! the file, line and column with a hint.

use crate::cpr::validate::Date;
use crate::reply::{ReplyTemplate, ReplyTexts};
use ipnet::IpNet;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

/// A configuration error with its position in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: Option<String>,
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

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: S<String>,
    #[serde(default)]
    mode: Option<S<String>>,
    #[serde(default)]
    organisation: RawOrganisation,
    #[serde(default)]
    cpr: RawCpr,
    #[serde(default)]
    recipients: RawRecipients,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    replies: BTreeMap<String, S<RawReply>>,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    audit: RawAudit,
    #[serde(default)]
    admission: AdmissionConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    #[serde(default)]
    domains: Vec<S<String>>,
    #[serde(default)]
    partner_domains: Vec<S<String>>,
    #[serde(default)]
    networks: Option<Vec<S<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCpr {
    #[serde(default)]
    secure_destinations: Vec<S<String>>,
    #[serde(default)]
    exempt_dates: Option<Vec<S<String>>>,
    #[serde(default)]
    positive_keywords: Option<Vec<String>>,
    #[serde(default)]
    negative_keywords: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipients {
    #[serde(default)]
    lookalike: Option<S<String>>,
    #[serde(default)]
    allow: Vec<S<String>>,
    #[serde(default)]
    retired: BTreeMap<String, S<Option<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_message_bytes: Option<u64>,
    max_depth: Option<usize>,
    max_parts: Option<usize>,
    max_zip_entries: Option<usize>,
    max_uncompressed_bytes: Option<u64>,
    max_compression_ratio: Option<u64>,
    max_pdf_pages: Option<usize>,
    max_buffered_bytes: Option<u64>,
    scan_timeout_seconds: Option<u64>,
    unscannable: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    code: String,
    text: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    destination: Option<S<String>>,
    facility: Option<S<String>>,
    syslog_socket: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    fingerprint_key_file: Option<String>,
}

/// The daemon's admission limits as written under `admission:`; `None`
/// keeps the daemon's default. Their meaning and sizing are the daemon's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdmissionConfig {
    pub max_connections: Option<usize>,
    pub max_connections_per_peer: Option<usize>,
    pub idle_timeout_seconds: Option<u64>,
    pub light_slots: Option<usize>,
    pub heavy_slots: Option<usize>,
    pub light_max_bytes: Option<usize>,
    pub max_inspections_per_client: Option<usize>,
    pub slot_wait_seconds: Option<u64>,
}

/// Where the milter listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Inet(String),
    Unix(std::path::PathBuf),
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "inet:{a}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Monitor,
}

impl Mode {
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
    Accept,
    Reject,
    Tempfail,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogDestination {
    Syslog,
    Stderr,
}

/// Hard limits on what one message may cost to inspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    pub max_message_bytes: u64,
    pub max_depth: usize,
    pub max_parts: usize,
    pub max_zip_entries: usize,
    pub max_uncompressed_bytes: u64,
    pub max_compression_ratio: u64,
    pub max_pdf_pages: usize,
    /// Bytes all transactions together may hold in memory while mail arrives.
    pub max_buffered_bytes: u64,
    pub scan_timeout_seconds: u64,
    pub unscannable: UnscannablePolicy,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            max_message_bytes: 64 * 1024 * 1024,
            max_depth: 16,
            max_parts: 2_000,
            max_zip_entries: 1_000,
            max_uncompressed_bytes: 256 * 1024 * 1024,
            max_compression_ratio: 200,
            max_pdf_pages: 500,
            max_buffered_bytes: 1024 * 1024 * 1024,
            scan_timeout_seconds: 30,
            unscannable: UnscannablePolicy::Accept,
        }
    }
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: ListenAddr,
    pub mode: Mode,
    pub org_domains: Vec<String>,
    pub partner_domains: Vec<String>,
    pub networks: Vec<IpNet>,
    pub secure_destinations: Vec<String>,
    pub exempt_dates: Vec<Date>,
    pub positive_keywords: Vec<String>,
    pub negative_keywords: Vec<String>,
    pub lookalike_reject: bool,
    pub lookalike_allow: Vec<String>,
    /// Retired address (lower case) → forwarding address, if any.
    pub retired: BTreeMap<String, Option<String>>,
    pub limits: LimitSettings,
    pub replies: ReplyTexts,
    pub log_destination: LogDestination,
    pub log_facility: String,
    /// The syslog daemon's socket; `None` looks in the usual places (/dev/log).
    pub log_syslog_socket: Option<std::path::PathBuf>,
    pub fingerprint_key_file: Option<std::path::PathBuf>,
    pub admission: AdmissionConfig,
}

pub const DEFAULT_NETWORKS: &[&str] = &["127.0.0.0/8", "::1/128"];

const FACILITIES: &[&str] = &[
    "mail", "daemon", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, s: &S<T>, message: String, hint: &str) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            message,
            hint: (!hint.is_empty()).then(|| hint.to_string()),
        }
    }
}

/// Parses and validates YAML text. `file` is only used in error messages.
pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        let msg = e.to_string();
        let first = without_position(msg.lines().next().unwrap_or("invalid YAML"));
        let hint = if first.contains("unknown field") {
            Some("see milter.yaml.example for every key".to_string())
        } else if first.contains("missing field") {
            Some("`listen:` is required, e.g. listen: inet:127.0.0.1:8899".to_string())
        } else {
            None
        };
        ConfigError {
            file: file.into(),
            line,
            column,
            message: first,
            hint,
        }
    })?;
    let cx = Ctx { file };

    let listen = parse_listen(&raw.listen.value).ok_or_else(|| {
        cx.err(
            &raw.listen,
            format!("invalid listen address {:?}", raw.listen.value),
            "use inet:HOST:PORT or unix:/PATH",
        )
    })?;
    let mode = match raw.mode.as_ref().map(|m| m.value.as_str()) {
        None | Some("enforce") => Mode::Enforce,
        Some("monitor") => Mode::Monitor,
        Some(other) => {
            return Err(cx.err(
                raw.mode.as_ref().unwrap(),
                format!("unknown mode {other:?}"),
                "enforce or monitor",
            ))
        }
    };
    let domains = |list: &[S<String>]| -> Result<Vec<String>, ConfigError> {
        list.iter()
            .map(|d| {
                normalise_domain(&d.value).ok_or_else(|| {
                    cx.err(
                        d,
                        format!("invalid domain {:?}", d.value),
                        "a domain such as nyborg.dk, without @ or scheme",
                    )
                })
            })
            .collect()
    };
    let org_domains = domains(&raw.organisation.domains)?;
    let partner_domains = domains(&raw.organisation.partner_domains)?;
    let secure_destinations = domains(&raw.cpr.secure_destinations)?;
    let lookalike_allow = domains(&raw.recipients.allow)?;

    let networks = match &raw.organisation.networks {
        None => DEFAULT_NETWORKS
            .iter()
            .map(|n| n.parse().expect("valid default"))
            .collect(),
        Some(list) => list
            .iter()
            .map(|n| {
                parse_network(&n.value).ok_or_else(|| {
                    cx.err(
                        n,
                        format!("invalid network {:?}", n.value),
                        "CIDR such as 10.0.0.0/8 or a single address",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };

    let exempt_dates = match &raw.cpr.exempt_dates {
        None => crate::cpr::default_exempt_dates(),
        Some(list) => list
            .iter()
            .map(|d| {
                Date::parse(&d.value)
                    .ok_or_else(|| cx.err(d, format!("invalid date {:?}", d.value), "YYYY-MM-DD"))
            })
            .collect::<Result<_, _>>()?,
    };
    let lower = |v: &Option<Vec<String>>, default: &[&str]| -> Vec<String> {
        match v {
            Some(list) => list
                .iter()
                .map(|k| k.trim().to_lowercase())
                .filter(|k| !k.is_empty())
                .collect(),
            None => default.iter().map(|s| s.to_string()).collect(),
        }
    };
    let positive_keywords = lower(
        &raw.cpr.positive_keywords,
        crate::cpr::DEFAULT_POSITIVE_KEYWORDS,
    );
    let negative_keywords = lower(
        &raw.cpr.negative_keywords,
        crate::cpr::DEFAULT_NEGATIVE_KEYWORDS,
    );

    let lookalike_reject = match raw.recipients.lookalike.as_ref().map(|s| s.value.as_str()) {
        None | Some("reject") => true,
        Some("off") => false,
        Some(other) => {
            return Err(cx.err(
                raw.recipients.lookalike.as_ref().unwrap(),
                format!("unknown lookalike action {other:?}"),
                "reject or off",
            ))
        }
    };

    let mut retired = BTreeMap::new();
    for (old, new) in &raw.recipients.retired {
        if !is_address(old) {
            return Err(cx.err(
                new,
                format!("invalid retired address {old:?}"),
                "local@domain",
            ));
        }
        if let Some(n) = &new.value {
            if !is_address(n) {
                return Err(cx.err(
                    new,
                    format!("invalid forwarding address {n:?}"),
                    "local@domain, or ~ for none",
                ));
            }
        }
        retired.insert(old.to_ascii_lowercase(), new.value.clone());
    }

    let d = LimitSettings::default();
    let l = &raw.limits;
    let unscannable = match l.unscannable.as_ref().map(|s| s.value.as_str()) {
        None | Some("accept") => UnscannablePolicy::Accept,
        Some("reject") => UnscannablePolicy::Reject,
        Some("tempfail") => UnscannablePolicy::Tempfail,
        Some(other) => {
            let hint = if other == "discard" || other == "quarantine" {
                "discard and quarantine are not supported: Postfix would answer 250 and the sender would never learn the mail was stopped"
            } else {
                "accept, reject or tempfail"
            };
            return Err(cx.err(
                l.unscannable.as_ref().unwrap(),
                format!("unknown unscannable action {other:?}"),
                hint,
            ));
        }
    };
    let limits = LimitSettings {
        max_message_bytes: l.max_message_bytes.unwrap_or(d.max_message_bytes),
        max_depth: l.max_depth.unwrap_or(d.max_depth),
        max_parts: l.max_parts.unwrap_or(d.max_parts),
        max_zip_entries: l.max_zip_entries.unwrap_or(d.max_zip_entries),
        max_uncompressed_bytes: l.max_uncompressed_bytes.unwrap_or(d.max_uncompressed_bytes),
        max_compression_ratio: l.max_compression_ratio.unwrap_or(d.max_compression_ratio),
        max_pdf_pages: l.max_pdf_pages.unwrap_or(d.max_pdf_pages),
        max_buffered_bytes: l.max_buffered_bytes.unwrap_or(d.max_buffered_bytes),
        scan_timeout_seconds: l
            .scan_timeout_seconds
            .unwrap_or(d.scan_timeout_seconds)
            .max(1),
        unscannable,
    };

    let mut replies = ReplyTexts::default();
    for (rule, r) in &raw.replies {
        let tpl = ReplyTemplate::new(&r.value.code, r.value.text.clone()).map_err(|e| {
            cx.err(
                r,
                format!("invalid reply for {rule}: {e}"),
                "e.g. code: \"550 5.7.1\" with ASCII text lines; write %% for %",
            )
        })?;
        replies.set(rule, tpl).map_err(|e| {
            cx.err(
                r,
                e,
                "rules: cpr_header, cpr_body, lookalike, retired, retired_no_forward, unscannable, tempfail",
            )
        })?;
    }

    let log_destination = match raw.log.destination.as_ref().map(|s| s.value.as_str()) {
        None | Some("syslog") => LogDestination::Syslog,
        Some("stderr") => LogDestination::Stderr,
        Some(other) => {
            return Err(cx.err(
                raw.log.destination.as_ref().unwrap(),
                format!("unknown log destination {other:?}"),
                "syslog or stderr",
            ))
        }
    };
    let log_facility = match &raw.log.facility {
        None => "mail".to_string(),
        Some(f) if FACILITIES.contains(&f.value.as_str()) => f.value.clone(),
        Some(f) => {
            return Err(cx.err(
                f,
                format!("unknown syslog facility {:?}", f.value),
                "mail, daemon, user or local0..local7",
            ))
        }
    };

    Ok(Config {
        listen,
        mode,
        org_domains,
        partner_domains,
        networks,
        secure_destinations,
        exempt_dates,
        positive_keywords,
        negative_keywords,
        lookalike_reject,
        lookalike_allow,
        retired,
        limits,
        replies,
        log_destination,
        log_facility,
        log_syslog_socket: raw.log.syslog_socket.map(Into::into),
        fingerprint_key_file: raw.audit.fingerprint_key_file.map(Into::into),
        admission: raw.admission,
    })
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

/// `inet:HOST:PORT`, `inet:PORT@HOST` (Sendmail style), `inet6:[::1]:PORT` or `unix:/path`.
pub fn parse_listen(s: &str) -> Option<ListenAddr> {
    let s = s.trim();
    if let Some(path) = s.strip_prefix("unix:").or_else(|| s.strip_prefix("local:")) {
        return (!path.is_empty() && path.starts_with('/')).then(|| ListenAddr::Unix(path.into()));
    }
    let rest = s
        .strip_prefix("inet:")
        .or_else(|| s.strip_prefix("inet6:"))?;
    let addr = match rest.split_once('@') {
        Some((port, host)) if !host.contains(':') => format!("{host}:{port}"),
        Some((port, host)) => format!("[{host}]:{port}"),
        None => rest.to_string(),
    };
    let (host, port) = addr.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    (!host.is_empty()).then_some(ListenAddr::Inet(addr))
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

impl Config {
    /// A human-readable summary of the effective policy (`check-config`).
    pub fn describe(&self) -> String {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut s = String::new();
        s.push_str(&format!("listen:               {}\n", self.listen));
        s.push_str(&format!(
            "mode:                 {}\n",
            if self.mode == Mode::Enforce {
                "enforce (rejects)"
            } else {
                "monitor (logs would-reject, never rejects)"
            }
        ));
        s.push_str(&format!(
            "own domains:          {}\n",
            list(&self.org_domains)
        ));
        s.push_str(&format!(
            "partner domains:      {}\n",
            list(&self.partner_domains)
        ));
        let nets: Vec<String> = self.networks.iter().map(ToString::to_string).collect();
        s.push_str(&format!(
            "outgoing networks:    {} (plus SASL-authenticated sessions)\n",
            list(&nets)
        ));
        s.push_str(&format!(
            "secure destinations:  {}\n",
            list(&self.secure_destinations)
        ));
        s.push_str(&format!(
            "CPR exempt dates:     {} dates\n",
            self.exempt_dates.len()
        ));
        s.push_str(&format!(
            "lookalike recipients: {}\n",
            if self.lookalike_reject {
                "reject (550 5.1.2)"
            } else {
                "off"
            }
        ));
        s.push_str(&format!(
            "lookalike allow:      {}\n",
            list(&self.lookalike_allow)
        ));
        s.push_str(&format!("retired mailboxes:    {}\n", self.retired.len()));
        let l = &self.limits;
        s.push_str(&format!(
            "limits:               message {} bytes, depth {}, parts {}, zip entries {}, unpacked {} bytes, ratio {}, pdf pages {}, timeout {} s, buffered {} bytes\n",
            l.max_message_bytes, l.max_depth, l.max_parts, l.max_zip_entries, l.max_uncompressed_bytes, l.max_compression_ratio, l.max_pdf_pages, l.scan_timeout_seconds, l.max_buffered_bytes
        ));
        s.push_str(&format!("unscannable content:  {:?}\n", l.unscannable).to_lowercase());
        s.push_str(
            &format!(
                "log:                  {:?} facility {}\n",
                self.log_destination, self.log_facility
            )
            .to_lowercase(),
        );
        s.push_str(&format!(
            "fingerprints:         {}\n",
            self.fingerprint_key_file
                .as_ref()
                .map_or("off".to_string(), |p| format!("keyed by {}", p.display()))
        ));
        s.push_str("replies:\n");
        for (rule, t) in self.replies.iter() {
            s.push_str(&format!(
                "  {rule:<12} {} {}\n",
                t.code(),
                t.lines().first().map(String::as_str).unwrap_or("")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_file_gets_defaults() {
        let c = parse(
            "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [Nyborg.dk]\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(c.org_domains, vec!["nyborg.dk"]);
        assert_eq!(c.mode, Mode::Enforce);
        assert_eq!(c.networks.len(), 2);
        assert!(c.lookalike_reject);
        assert_eq!(c.limits, LimitSettings::default());
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
    fn listen_forms() {
        assert_eq!(
            parse_listen("inet:127.0.0.1:8899"),
            Some(ListenAddr::Inet("127.0.0.1:8899".into()))
        );
        assert_eq!(
            parse_listen("inet:8899@127.0.0.1"),
            Some(ListenAddr::Inet("127.0.0.1:8899".into()))
        );
        assert_eq!(
            parse_listen("inet6:[::1]:8899"),
            Some(ListenAddr::Inet("[::1]:8899".into()))
        );
        assert_eq!(
            parse_listen("unix:/run/m.sock"),
            Some(ListenAddr::Unix("/run/m.sock".into()))
        );
        assert_eq!(parse_listen("inet:host"), None);
        assert_eq!(parse_listen("tcp:1"), None);
    }
}
