//! The documentation keeps up with the code: every configuration key of
//! milter.yaml.example is described in cpr-milter.yaml(5) with the same
//! default, and nothing in the repository points outside it.

use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The keys of milter.yaml.example in dotted form, with their values:
/// `listen`, `limits.max_depth`, and keys shown commented out
/// (`  # exempt_dates: [...]`).
fn example_keys() -> Vec<(String, String)> {
    let mut keys = Vec::new();
    let mut section = String::new();
    for line in read("milter.yaml.example").lines() {
        let top = line.strip_prefix("# ").unwrap_or(line);
        if let Some((name, value)) = top.split_once(':') {
            if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                if line.starts_with('#') && !value.is_empty() {
                    continue; // a comment such as "# enforce: reject ..."
                }
                section = name.to_string();
                if !value.trim().is_empty() {
                    keys.push((name.to_string(), value.trim().to_string()));
                }
                continue;
            }
        }
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        let (commented, rest) = match rest.strip_prefix("# ") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if let Some((name, value)) = rest.split_once(':') {
            let value = value.trim();
            let is_key = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && (!commented || value.starts_with('['));
            if is_key && section != "replies" {
                keys.push((format!("{section}.{name}"), value.to_string()));
            }
        }
    }
    keys
}

/// The paragraph of the man page that describes `key` (`.B key` up to the
/// next tag or section).
fn man_paragraph<'a>(page: &'a str, key: &str) -> Option<&'a str> {
    let start = page.find(&format!("\n.B {key}\n"))? + 1;
    let body = &page[start + 3 + key.len()..];
    let end = body
        .find("\n.TP")
        .or_else(|| body.find("\n.SH"))
        .unwrap_or(body.len());
    Some(&body[..end])
}

#[test]
fn every_example_key_is_in_the_yaml_man_page_with_its_default() {
    let page = read("docs/man/cpr-milter.yaml.5");
    let keys = example_keys();
    assert!(keys.len() > 25, "too few keys found: {keys:?}");
    let mut missing = Vec::new();
    for (key, value) in &keys {
        match man_paragraph(&page, key) {
            None => missing.push(format!("{key}: not described")),
            // Numeric limits must state the same default.
            Some(text)
                if key.starts_with("limits.")
                    && value.chars().all(|c| c.is_ascii_digit())
                    && !text.contains(&format!("Default: {value}")) =>
            {
                missing.push(format!("{key}: default {value} not stated"));
            }
            Some(_) => {}
        }
    }
    assert!(
        page.contains(".BI replies. RULE .code"),
        "replies not described"
    );
    assert!(
        missing.is_empty(),
        "cpr-milter.yaml(5):\n{}",
        missing.join("\n")
    );
}

#[test]
fn readme_links_point_into_the_repository() {
    let readme = read("README.md");
    for target in readme
        .split("](")
        .skip(1)
        .filter_map(|s| s.split(')').next())
        .filter(|t| !t.starts_with("http") && !t.starts_with('#'))
    {
        let file = target.split('#').next().unwrap_or(target);
        assert!(
            !file.starts_with(".."),
            "README links outside the repository: {target}"
        );
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(file).exists(),
            "README links to a missing file: {target}"
        );
    }
}
