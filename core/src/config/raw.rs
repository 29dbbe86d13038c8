//! The configuration file as operators write it: serde structs with the
//! position of every value that validation may refuse. Only the policy's
//! sections are read here; the daemon's keys (`listen`, `log`, `audit`,
//! `limits.max_buffered_bytes`) are known by name, so a typo anywhere is an
//! error, and left to the daemon's own reader.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// A value with its line and column.
pub(super) type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the daemon's keys are named only to be recognised
pub(super) struct RawPolicyFile {
    #[serde(default)]
    pub listen: Option<IgnoredAny>,
    #[serde(default)]
    pub mode: Option<S<String>>,
    #[serde(default)]
    pub organisation: RawOrganisation,
    #[serde(default)]
    pub cpr: RawCpr,
    #[serde(default)]
    pub recipients: RawRecipients,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub replies: BTreeMap<String, S<RawReply>>,
    #[serde(default)]
    pub log: Option<IgnoredAny>,
    #[serde(default)]
    pub audit: Option<IgnoredAny>,
    #[serde(default)]
    pub metrics: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrganisation {
    #[serde(default)]
    pub domains: Vec<S<String>>,
    #[serde(default)]
    pub partner_domains: Vec<S<String>>,
    #[serde(default)]
    pub networks: Option<Vec<S<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCpr {
    #[serde(default)]
    pub secure_destinations: Vec<S<String>>,
    #[serde(default)]
    pub exempt_dates: Option<Vec<S<String>>>,
    #[serde(default)]
    pub positive_keywords: Option<Vec<String>>,
    #[serde(default)]
    pub negative_keywords: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecipients {
    #[serde(default)]
    pub lookalike: Option<S<String>>,
    #[serde(default)]
    pub allow: Vec<S<String>>,
    #[serde(default)]
    pub retired: BTreeMap<String, S<Option<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // max_buffered_bytes is the daemon's
pub(super) struct RawLimits {
    pub max_message_bytes: Option<u64>,
    pub max_depth: Option<usize>,
    pub max_parts: Option<usize>,
    pub max_zip_entries: Option<usize>,
    pub max_uncompressed_bytes: Option<u64>,
    pub max_compression_ratio: Option<u64>,
    pub max_pdf_pages: Option<usize>,
    /// The daemon's (memory for mail being received).
    pub max_buffered_bytes: Option<IgnoredAny>,
    pub scan_timeout_seconds: Option<u64>,
    pub unscannable: Option<S<RawUnscannable>>,
}

/// `unscannable: reject` (every cause), or one action per cause.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawUnscannable {
    All(String),
    PerCause(RawPerCause),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerCause {
    pub encrypted: Option<String>,
    pub limit: Option<String>,
    pub broken: Option<String>,
    pub unsupported: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReply {
    pub code: String,
    pub text: Vec<String>,
}
