//! Breach assessment: which audit lines involve a suspected number? The
//! auditor holds the key and the numbers; the lines hold only keyed
//! fingerprints. Numbers are read from stdin (never from the command line,
//! where `ps` and shell history would see them) and never printed: a
//! suspect is shown by its position and its mask.

use cpr_milter_core::cpr::{fingerprint, mask};
use serde_json::json;
use std::io::BufRead;
use std::path::Path;

pub struct Suspects {
    /// (mask, fingerprint), in the order given.
    list: Vec<(String, String)>,
}

impl Suspects {
    /// The key as `audit.fingerprint_key_file` holds it (surrounding white
    /// space trimmed), and one number per line of `numbers` (`DDMMYY-SSSS`
    /// or ten digits; empty lines ignored).
    pub fn read(key_file: &Path, numbers: impl BufRead) -> Result<Suspects, String> {
        let key = std::fs::read(key_file).map_err(|e| format!("{}: {e}", key_file.display()))?;
        let key = key.trim_ascii();
        if key.is_empty() {
            return Err(format!("{}: the key file is empty", key_file.display()));
        }
        let mut list = Vec::new();
        for (i, line) in numbers.lines().enumerate() {
            let line = line.map_err(|e| format!("standard input: {e}"))?;
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let digits: Vec<u8> = t
                .bytes()
                .filter(|b| *b != b'-' && *b != b' ')
                .map(|b| b.wrapping_sub(b'0'))
                .collect();
            let Ok(d) = <[u8; 10]>::try_from(digits.as_slice()) else {
                return Err(format!(
                    "standard input line {}: not a CPR number (ten digits, optionally DDMMYY-SSSS)",
                    i + 1
                ));
            };
            if d.iter().any(|&x| x > 9) {
                return Err(format!(
                    "standard input line {}: not a CPR number (ten digits, optionally DDMMYY-SSSS)",
                    i + 1
                ));
            }
            list.push((mask(&d), fingerprint(key, &d)));
        }
        if list.is_empty() {
            return Err("no suspected numbers on standard input (one per line)".into());
        }
        Ok(Suspects { list })
    }

    /// Index of the suspect with fingerprint `fp`.
    pub fn find(&self, fp: &str) -> Option<usize> {
        self.list.iter().position(|(_, f)| f == fp)
    }

    pub fn matches_text(&self, matches: &[(usize, String)]) -> String {
        let mut s = String::new();
        for (i, (masked, _)) in self.list.iter().enumerate() {
            let lines: Vec<&String> = matches.iter().filter(|m| m.0 == i).map(|m| &m.1).collect();
            s.push_str(&format!(
                "suspect {} ({masked}): {} line(s)\n",
                i + 1,
                lines.len()
            ));
            for l in lines {
                s.push_str(&format!("  {l}\n"));
            }
        }
        s
    }

    pub fn matches_json(&self, matches: &[(usize, String)]) -> serde_json::Value {
        json!({
            "suspects": self.list.iter().enumerate().map(|(i, (masked, _))| json!({
                "suspect": i + 1,
                "masked": masked,
                "lines": matches.iter().filter(|m| m.0 == i).map(|m| &m.1).collect::<Vec<_>>(),
            })).collect::<Vec<_>>()
        })
    }
}
