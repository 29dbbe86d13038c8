//! `check-config`'s printout: the effective policy and daemon settings,
//! every default filled in. Presentation, so it lives with the binary.

use super::Loaded;
use cpr_milter_core::extract::Cause;
use cpr_milter_core::{Mode, UnscannablePolicy};

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

/// A human-readable summary of a loaded configuration.
pub fn describe(loaded: &Loaded) -> String {
    let p = loaded.inspector.policy();
    let d = &loaded.daemon;
    let mut s = String::new();
    let mut line = |label: &str, value: String| {
        s.push_str(&format!("{:<22}{value}\n", format!("{label}:")));
    };
    line("listen", d.listen.to_string());
    line(
        "mode",
        match p.mode {
            Mode::Enforce => "enforce (rejects)".into(),
            Mode::Monitor => "monitor (logs would-reject, never rejects)".into(),
        },
    );
    line("own domains", list(&p.org_domains));
    line("partner domains", list(&p.partner_domains));
    let nets: Vec<String> = p.networks.iter().map(ToString::to_string).collect();
    line(
        "outgoing networks",
        format!("{} (plus SASL-authenticated sessions)", list(&nets)),
    );
    line("secure destinations", list(&p.secure_destinations));
    line(
        "CPR exempt dates",
        format!("{} dates", p.exempt_dates.len()),
    );
    line(
        "lookalike recipients",
        if p.lookalike_reject {
            "reject (550 5.1.2)".into()
        } else {
            "off".into()
        },
    );
    line("lookalike allow", list(&p.lookalike_allow));
    line("retired mailboxes", p.retired.len().to_string());
    let l = &p.limits;
    line(
        "limits",
        format!(
            "message {} bytes, depth {}, parts {}, zip entries {}, unpacked {} bytes, ratio {}, pdf pages {}, timeout {} s, buffered {} bytes",
            l.max_message_bytes,
            l.max_depth,
            l.max_parts,
            l.max_zip_entries,
            l.max_uncompressed_bytes,
            l.max_compression_ratio,
            l.max_pdf_pages,
            p.scan_timeout().as_secs(),
            d.max_buffered_bytes
        ),
    );
    line(
        "unscannable content",
        Cause::ALL
            .iter()
            .map(|&c| {
                let action = match p.unscannable.get(c) {
                    UnscannablePolicy::Accept => "accept",
                    UnscannablePolicy::Reject => "reject",
                    UnscannablePolicy::Tempfail => "tempfail",
                };
                format!("{c} {action}")
            })
            .collect::<Vec<_>>()
            .join(", "),
    );
    line(
        "log",
        format!("{:?} facility {}", d.log_destination, d.log_facility).to_lowercase(),
    );
    line(
        "fingerprints",
        d.fingerprint_key_file
            .as_ref()
            .map_or("off".to_string(), |p| format!("keyed by {}", p.display())),
    );
    let a = &d.admission;
    let or_auto = |n: usize, auto: &str| {
        if n == 0 {
            auto.to_string()
        } else {
            n.to_string()
        }
    };
    line(
        "admission",
        format!(
            "connections {} ({} per peer), idle timeout {} s, light slots {}, heavy slots {}, light up to {} bytes, heavy per client {}, slot wait {} s",
            a.max_connections,
            a.max_connections_per_peer,
            a.idle_timeout.as_secs(),
            or_auto(a.light_slots, "2 x CPUs"),
            or_auto(a.heavy_slots, "CPUs"),
            a.light_max_bytes,
            or_auto(a.max_inspections_per_client, "half the heavy slots"),
            a.slot_wait.as_secs()
        ),
    );
    line(
        "metrics",
        d.metrics_listen
            .as_ref()
            .map_or("off".to_string(), |l| format!("on {l}")),
    );
    line(
        "ocr",
        if d.ocr.enabled {
            format!(
                "on (tesseract -l {}), {} images and {} s per message",
                d.ocr.languages.join("+"),
                d.ocr.budget.max_images,
                d.ocr.budget.time.as_secs()
            )
        } else {
            "off".to_string()
        },
    );
    s.push_str("replies:\n");
    for (rule, t) in p.replies.iter() {
        s.push_str(&format!(
            "  {rule:<12} {} {}\n",
            t.code(),
            t.lines().first().map(String::as_str).unwrap_or("")
        ));
    }
    s
}
