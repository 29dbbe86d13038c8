//! Text in images through `cpr-milter scan --json` with Tesseract: a page
//! rendered at test time (a one-page PDF written here, turned into PNG by
//! poppler's pdftoppm) showing a synthetic CPR number is rejected with the
//! image named, its clean twin is accepted, and a configuration asking for
//! a language Tesseract lacks is refused at load. Tesseract and pdftoppm
//! come from scripts/install-ocr.sh.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::scans::{mail_with_type, pdf_of, pdf_page, tool_scanned_pdf};

/// `lines` rendered to a PNG (150 dpi, grey) in `dir`.
fn png(dir: &Path, stem: &str, lines: &[&str]) -> Vec<u8> {
    render(dir, stem, lines, "png")
}

/// `lines` rendered by pdftoppm as `format` (png or jpeg).
fn render(dir: &Path, stem: &str, lines: &[&str], format: &str) -> Vec<u8> {
    let pdf = dir.join(format!("{stem}.pdf"));
    std::fs::write(&pdf, pdf_page(lines)).unwrap();
    let out = dir.join(stem);
    let run = Command::new("pdftoppm")
        .args(["-r", "150", "-gray", &format!("-{format}"), "-singlefile"])
        .arg(&pdf)
        .arg(&out)
        .output()
        .expect("pdftoppm (scripts/install-ocr.sh installs poppler-utils)");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let ext = if format == "jpeg" { "jpg" } else { format };
    std::fs::read(out.with_extension(ext)).unwrap()
}

/// A scanned PDF: one page that only draws `jpeg` (a DCTDecode image).
fn scanned_pdf(jpeg: &[u8]) -> Vec<u8> {
    let content = "q 620 0 0 360 0 0 cm /Im1 Do Q\n";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 620 360] \
          /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        )
        .into_bytes(),
        [
            format!(
                "<< /Type /XObject /Subtype /Image /Width 1292 /Height 750 \
                 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode \
                 /Length {} >>\nstream\n",
                jpeg.len()
            )
            .as_bytes(),
            jpeg,
            b"\nendstream",
        ]
        .concat(),
    ];
    pdf_of(&objects)
}

/// A mail carrying `images` as PNG attachments, named by their keys.
fn mail_with(images: &[(&str, &[u8])]) -> Vec<u8> {
    mail_with_type("image/png", images)
}

/// The locations of a `scan --json` verdict's findings.
fn finding_locations(verdict: &serde_json::Value) -> Vec<&str> {
    verdict["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["location"].as_str()).collect())
        .unwrap_or_default()
}

const CONFIG: &str =
    "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\nocr:\n  enabled: true\n";

fn scan(dir: &Path, config: &str, mails: &[PathBuf]) -> Output {
    let cfg = dir.join("milter.yaml");
    std::fs::write(&cfg, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["scan", "--json", "--rcpt", "borger@example.org", "-c"])
        .arg(&cfg)
        .args(mails)
        .output()
        .unwrap()
}

#[test]
fn a_number_in_a_scanned_image_is_rejected_and_its_clean_twin_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let leak = png(
        dir.path(),
        "leak",
        &[
            "Ansoegning om boligstoette",
            "Navn: Jens Hansen",
            "CPR-nr.: 241085-1337",
        ],
    );
    let clean = png(
        dir.path(),
        "clean",
        &[
            "Ansoegning om boligstoette",
            "Navn: Jens Hansen",
            "Sagsnr.: 2024-0815",
        ],
    );
    let leak_mail = dir.path().join("leak.eml");
    let clean_mail = dir.path().join("clean.eml");
    std::fs::write(&leak_mail, mail_with(&[("blanket.png", &leak)])).unwrap();
    std::fs::write(&clean_mail, mail_with(&[("blanket.png", &clean)])).unwrap();

    let out = scan(dir.path(), CONFIG, &[leak_mail, clean_mail]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_name = |n: &str| {
        results
            .iter()
            .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(n)))
            .unwrap_or_else(|| panic!("{n} in {stdout}"))
    };
    let leak = by_name("/leak.eml");
    assert_eq!(leak["action"], "reject", "{leak}");
    let locations = finding_locations(leak);
    assert!(
        locations.contains(&"attachment:blanket.png"),
        "{locations:?}"
    );
    let clean = by_name("/clean.eml");
    assert_eq!(clean["action"], "accept", "{clean}");

    // Without OCR the same image is opaque and passes.
    let off = CONFIG.replace("enabled: true", "enabled: false");
    let out = scan(dir.path(), &off, &[dir.path().join("leak.eml")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_language_tesseract_lacks_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("milter.yaml");
    std::fs::write(&cfg, format!("{CONFIG}  languages: [zzz]\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpr-milter"))
        .args(["check-config", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("zzz"), "{stderr}");
}

#[test]
fn a_scanned_pdf_page_is_read_through_its_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = render(
        dir.path(),
        "page",
        &["Ansoegning om boligstoette", "CPR-nr.: 241085-1337"],
        "jpeg",
    );
    let mail = dir.path().join("scan.eml");
    std::fs::write(
        &mail,
        mail_with_type("application/pdf", &[("scan.pdf", &scanned_pdf(&jpeg))]),
    )
    .unwrap();
    let out = scan(dir.path(), CONFIG, std::slice::from_ref(&mail));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["action"], "reject", "{first}");
    let locations = finding_locations(&first);
    assert!(
        locations.contains(&"attachment:scan.pdf:page1:image1"),
        "{locations:?}"
    );
}

#[test]
fn scanned_pdfs_are_read_whatever_their_image_encoding() {
    let dir = tempfile::tempdir().unwrap();
    for how in ["g4", "gray", "mono"] {
        let leak = tool_scanned_pdf(
            dir.path(),
            &format!("{how}-leak"),
            &["Ansoegning om boligstoette", "CPR-nr.: 241085-1337"],
            how,
        );
        let clean = tool_scanned_pdf(
            dir.path(),
            &format!("{how}-clean"),
            &["Ansoegning om boligstoette", "Sagsnummer: 2024-118"],
            how,
        );
        let mails: Vec<PathBuf> = [("leak", leak), ("clean", clean)]
            .into_iter()
            .map(|(name, pdf)| {
                let path = dir.path().join(format!("{how}-{name}.eml"));
                std::fs::write(
                    &path,
                    mail_with_type("application/pdf", &[("scan.pdf", &pdf)]),
                )
                .unwrap();
                path
            })
            .collect();
        let out = scan(dir.path(), CONFIG, &mails);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let verdicts: Vec<serde_json::Value> = stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &serde_json::Value| v.get("action").is_some())
            .collect();
        assert_eq!(verdicts.len(), 2, "{how}: {stdout}");
        assert_eq!(verdicts[0]["action"], "reject", "{how}: {}", verdicts[0]);
        let locations = finding_locations(&verdicts[0]);
        assert!(
            locations.contains(&"attachment:scan.pdf:page1:image1"),
            "{how}: {locations:?}"
        );
        assert_eq!(verdicts[1]["action"], "accept", "{how}: {}", verdicts[1]);
    }
}
