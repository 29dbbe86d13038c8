//! From the raw file to the policy, one function per section. Each error
//! names the value's line and column and says what would be accepted.

use super::raw::{
    RawCpr, RawLimits, RawOrganisation, RawPolicyFile, RawRecipients, RawReply, RawUnscannable, S,
};
use super::{is_address, normalise_domain, parse_network, ConfigError};
use crate::cpr::validate::Date;
use crate::extract::{Cause, Limits, PerCause};
use crate::policy::{Mode, Policy, UnscannablePolicy};
use crate::reply::{ReplyTemplate, ReplyTexts};
use std::collections::BTreeMap;
use std::time::Duration;

/// Positions errors in one file.
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
}

impl Ctx<'_> {
    pub fn err<T>(&self, s: &S<T>, message: String, hint: &str) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: s.referenced.line(),
            column: s.referenced.column(),
            // The refused value may hold a number; this text reaches syslog.
            message: crate::redact::redact_digits(&message),
            hint: (!hint.is_empty()).then(|| hint.to_string()),
        }
    }
}

/// The whole policy.
pub(super) fn policy(cx: &Ctx<'_>, raw: &RawPolicyFile) -> Result<Policy, ConfigError> {
    let mut p = Policy::default();
    p.mode = mode(cx, raw.mode.as_ref())?;
    organisation(cx, &raw.organisation, &mut p)?;
    cpr(cx, &raw.cpr, &mut p)?;
    recipients(cx, &raw.recipients, &mut p)?;
    limits(cx, &raw.limits, &mut p)?;
    p.replies = replies(cx, &raw.replies)?;
    Ok(p)
}

fn mode(cx: &Ctx<'_>, raw: Option<&S<String>>) -> Result<Mode, ConfigError> {
    match raw {
        None => Ok(Mode::Enforce),
        Some(m) => match m.value.as_str() {
            "enforce" => Ok(Mode::Enforce),
            "monitor" => Ok(Mode::Monitor),
            other => Err(cx.err(m, format!("unknown mode {other:?}"), "enforce or monitor")),
        },
    }
}

fn domains(cx: &Ctx<'_>, list: &[S<String>]) -> Result<Vec<String>, ConfigError> {
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
}

fn organisation(cx: &Ctx<'_>, raw: &RawOrganisation, p: &mut Policy) -> Result<(), ConfigError> {
    p.org_domains = domains(cx, &raw.domains)?;
    p.partner_domains = domains(cx, &raw.partner_domains)?;
    if let Some(list) = &raw.networks {
        p.networks = list
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
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

fn cpr(cx: &Ctx<'_>, raw: &RawCpr, p: &mut Policy) -> Result<(), ConfigError> {
    p.secure_destinations = domains(cx, &raw.secure_destinations)?;
    if let Some(list) = &raw.exempt_dates {
        p.exempt_dates = list
            .iter()
            .map(|d| {
                Date::parse(&d.value)
                    .ok_or_else(|| cx.err(d, format!("invalid date {:?}", d.value), "YYYY-MM-DD"))
            })
            .collect::<Result<_, _>>()?;
    }
    let lower = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|k| k.trim().to_lowercase())
            .filter(|k| !k.is_empty())
            .collect()
    };
    if let Some(list) = &raw.positive_keywords {
        p.positive_keywords = lower(list);
    }
    if let Some(list) = &raw.negative_keywords {
        p.negative_keywords = lower(list);
    }
    Ok(())
}

fn recipients(cx: &Ctx<'_>, raw: &RawRecipients, p: &mut Policy) -> Result<(), ConfigError> {
    if let Some(l) = &raw.lookalike {
        p.lookalike_reject = match l.value.as_str() {
            "reject" => true,
            "off" => false,
            other => {
                return Err(cx.err(
                    l,
                    format!("unknown lookalike action {other:?}"),
                    "reject or off",
                ))
            }
        };
    }
    p.lookalike_allow = domains(cx, &raw.allow)?;
    let mut retired = BTreeMap::new();
    for (old, new) in &raw.retired {
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
    p.retired = retired;
    Ok(())
}

fn limits(cx: &Ctx<'_>, raw: &RawLimits, p: &mut Policy) -> Result<(), ConfigError> {
    if let Some(u) = &raw.unscannable {
        let action = |value: &str| match value {
            "accept" => Ok(UnscannablePolicy::Accept),
            "reject" => Ok(UnscannablePolicy::Reject),
            "tempfail" => Ok(UnscannablePolicy::Tempfail),
            other => {
                let hint = if other == "discard" || other == "quarantine" {
                    "discard and quarantine are not supported: Postfix would answer 250 and the sender would never learn the mail was stopped"
                } else {
                    "accept, reject or tempfail"
                };
                Err(cx.err(u, format!("unknown unscannable action {other:?}"), hint))
            }
        };
        match &u.value {
            RawUnscannable::All(value) => p.unscannable = PerCause::all(action(value)?),
            RawUnscannable::PerCause(by_cause) => {
                for (cause, value) in [
                    (Cause::Encrypted, &by_cause.encrypted),
                    (Cause::Limit, &by_cause.limit),
                    (Cause::Broken, &by_cause.broken),
                    (Cause::Unsupported, &by_cause.unsupported),
                ] {
                    if let Some(value) = value {
                        *p.unscannable.get_mut(cause) = action(value)?;
                    }
                }
            }
        }
    }
    let l = &mut p.limits;
    let d = Limits::default();
    l.max_message_bytes = raw.max_message_bytes.unwrap_or(d.max_message_bytes);
    l.max_depth = raw.max_depth.unwrap_or(d.max_depth);
    l.max_parts = raw.max_parts.unwrap_or(d.max_parts);
    l.max_zip_entries = raw.max_zip_entries.unwrap_or(d.max_zip_entries);
    l.max_uncompressed_bytes = raw
        .max_uncompressed_bytes
        .unwrap_or(d.max_uncompressed_bytes);
    l.max_compression_ratio = raw.max_compression_ratio.unwrap_or(d.max_compression_ratio);
    l.max_pdf_pages = raw.max_pdf_pages.unwrap_or(d.max_pdf_pages);
    if let Some(secs) = raw.scan_timeout_seconds {
        p.set_scan_timeout(Duration::from_secs(secs.max(1)));
    }
    Ok(())
}

fn replies(cx: &Ctx<'_>, raw: &BTreeMap<String, S<RawReply>>) -> Result<ReplyTexts, ConfigError> {
    let mut replies = ReplyTexts::default();
    for (rule, r) in raw {
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
    Ok(replies)
}
