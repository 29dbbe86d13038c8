//! `check-config` says plainly which mode is in force and shows the admission,
//! metrics and OCR settings in force, and the configuration
//! the Debian package installs is valid, starts in monitor mode and listens
//! inside Postfix's chroot.

use std::path::Path;
use std::process::Command;

fn check_config(path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["check-config", "--config"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn check_config_names_the_mode_in_force_on_its_second_line() {
    let dir = tempfile::tempdir().unwrap();
    for (mode, expected) in [
        ("monitor", "Mode in force: MONITOR - nothing is rejected"),
        (
            "enforce",
            "Mode in force: ENFORCE - mail that breaks the rules is rejected.",
        ),
    ] {
        let cfg = dir.path().join(format!("{mode}.yaml"));
        std::fs::write(&cfg, format!("listen: inet:127.0.0.1:1\nmode: {mode}\n")).unwrap();
        let shown = check_config(&cfg);
        let second = shown.lines().nth(1).unwrap_or_default();
        assert!(second.starts_with(expected), "{shown}");
    }
}

#[test]
fn packaged_configuration_starts_in_monitor_mode_on_the_chroot_socket() {
    let packaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("debian/cpr-milter.yaml");
    let shown = check_config(&packaged);
    assert!(shown.contains("Mode in force: MONITOR"), "{shown}");
    assert!(
        shown.contains("listen:               unix:/var/spool/postfix/cpr-milter/cpr-milter.sock"),
        "{shown}"
    );
    let text = std::fs::read_to_string(&packaged).unwrap();
    assert!(
        text.contains("mode: enforce") && text.contains("systemctl reload cpr-milter"),
        "the packaged file must say how to switch to enforce"
    );
}

#[test]
fn check_config_shows_admission_metrics_and_ocr_settings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(
        &cfg,
        "listen: inet:127.0.0.1:1\nadmission:\n  slot_wait_seconds: 5\n\
         metrics:\n  listen: inet:127.0.0.1:9\nocr:\n  enabled: true\n  max_images: 3\n",
    )
    .unwrap();
    let shown = check_config(&cfg);
    let line = |label: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("{label}:")))
            .unwrap_or_else(|| panic!("no {label} line: {shown}"))
            .to_string()
    };
    assert!(line("admission").contains("slot wait 5 s"), "{shown}");
    assert!(line("metrics").contains("127.0.0.1:9"), "{shown}");
    assert!(
        line("ocr").contains("on (tesseract -l dan+eng), 3 images"),
        "{shown}"
    );
}
