//! Reading the configuration file and the fingerprint key into an
//! `Inspector`, with errors an operator can act on.

use cpr_milter_core::{Config, Inspector};
use std::path::Path;

/// Loads, validates and compiles a configuration file.
pub fn load(path: &Path) -> Result<Inspector, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read configuration: {e}", path.display()))?;
    let config: Config = cpr_milter_core::config::parse(&text, &path.display().to_string())
        .map_err(|e| e.to_string())?;
    let key = match &config.fingerprint_key_file {
        None => None,
        Some(p) => {
            let key = std::fs::read(p).map_err(|e| {
                format!(
                    "{}: audit.fingerprint_key_file {}: {e}",
                    path.display(),
                    p.display()
                )
            })?;
            let trimmed = key.trim_ascii().to_vec();
            if trimmed.len() < 16 {
                return Err(format!(
                    "{}: audit.fingerprint_key_file {} holds {} bytes; use at least 16 random bytes (e.g. head -c 32 /dev/urandom | base64)",
                    path.display(),
                    p.display(),
                    trimmed.len()
                ));
            }
            Some(trimmed)
        }
    };
    Ok(Inspector::new(config, key))
}
