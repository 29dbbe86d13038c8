//! Every fixture format (fixtures/extract, made by fixtures/gen/make_fixtures.py)
//! through the two front ends the users have: `cpr-milter scan --json` and the
//! milter itself (in-process over 127.0.0.1, driven by indymilter-test). Each
//! leaking fixture must be rejected with 550 5.7.1 naming the attachment and
//! part; each clean twin must be accepted.

mod support;

use indymilter_test::{Status, TestConnection};
use std::path::PathBuf;
use std::process::Command;
use support::inprocess::InProcess;

/// Leaking fixture and where the number is (as `scan` prints it: digits of
/// file names redacted).
const LEAKS: &[(&str, &str)] = &[
    ("docx.eml", "attachment:rapport.docx:word/document.xml"),
    (
        "xlsx.eml",
        "attachment:borgere.xlsx:xl/worksheets/sheet1.xml",
    ),
    ("pptx.eml", "attachment:oplaeg.pptx:ppt/slides/slide1.xml"),
    ("odt.eml", "attachment:notat.odt:content.xml"),
    ("ods.eml", "attachment:notat.ods:content.xml"),
    ("odp.eml", "attachment:notat.odp:content.xml"),
    ("pdf-tj.eml", "attachment:rapport.pdf:page1"),
    ("pdf-fpdf.eml", "attachment:psykolog.pdf:page1"),
    ("zip-csv.eml", "attachment:sager.zip:2024/liste.csv"),
    ("forwarded-base64.eml", "message:1/body:text/plain"),
    ("qp-softbreak.eml", "body:text/plain"),
    ("iso-8859-1.eml", "body:text/plain"),
    ("windows-1252.eml", "body:text/plain"),
    ("html.eml", "body:text/html"),
    ("signed.eml", "body:text/plain"),
    ("filenames.eml", "filename:Sag 2410XX-XXXX.txt"),
    ("fmt-flowed.eml", "body:text/plain"),
    ("fmt-flowed-delsp.eml", "body:text/plain"),
    ("fmt-uuencode.eml", "body:text/plain/uuencoded:liste.csv"),
    ("fmt-calendar.eml", "body:text/calendar"),
    ("fmt-outlook-html.eml", "body:text/html"),
    ("fmt-table-cells.eml", "body:text/html"),
    ("fmt-pdf-as-text.eml", "attachment:scan.pdf:page1"),
    ("fmt-msg.eml", "attachment:sag.msg:recipients"),
    ("fmt-tnef.eml", "attachment:winmail.dat:body.rtf"),
    ("fmt-doc.eml", "attachment:notat.doc:body"),
    ("fmt-xls.eml", "attachment:borgere.xls:sheet:Borgere"),
    ("fmt-ppt.eml", "attachment:oplaeg.ppt:slides"),
    (
        "fmt-xlsx-numformat.eml",
        "attachment:udbetalinger.xlsx:xl/worksheets/sheet1.xml",
    ),
    (
        "fmt-xls-numformat.eml",
        "attachment:udbetalinger.xls:sheet:Udbetalinger",
    ),
    ("fmt-smime-opaque.eml", "signed:1/body:text/plain"),
    ("fmt-smime-opaque-ber.eml", "signed:1/body:text/plain"),
];

const CLEAN: &[&str] = &[
    "clean-docx.eml",
    "clean-xlsx.eml",
    "clean-pptx.eml",
    "clean-odt.eml",
    "clean-ods.eml",
    "clean-odp.eml",
    "clean-pdf-tj.eml",
    "clean-pdf-fpdf.eml",
    "clean-zip-csv.eml",
    "clean-forwarded-base64.eml",
    "clean-qp-softbreak.eml",
    "clean-iso-8859-1.eml",
    "clean-windows-1252.eml",
    "clean-html.eml",
    "clean-filenames.eml",
    "smime-encrypted.eml",
    "pgp-encrypted.eml",
    "fmt-clean-flowed.eml",
    "fmt-clean-flowed-delsp.eml",
    "fmt-clean-uuencode.eml",
    "fmt-clean-calendar.eml",
    "fmt-clean-outlook-html.eml",
    "fmt-clean-table-cells.eml",
    "fmt-clean-pdf-as-text.eml",
    "fmt-clean-msg.eml",
    "fmt-clean-tnef.eml",
    "fmt-clean-doc.eml",
    "fmt-clean-xls.eml",
    "fmt-clean-ppt.eml",
    "fmt-clean-xlsx-numformat.eml",
    "fmt-clean-xls-numformat.eml",
    "fmt-clean-smime-opaque.eml",
    "fmt-clean-smime-opaque-ber.eml",
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/extract")
        .join(name)
}

#[test]
fn scan_json_finds_every_format_and_passes_every_clean_twin() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cpr-milter"));
    cmd.args([
        "scan",
        "--json",
        "--from",
        "jens@nyborg.dk",
        "--rcpt",
        "borger@example.org",
    ]);
    for (name, _) in LEAKS {
        cmd.arg(fixture(name));
    }
    for name in CLEAN {
        cmd.arg(fixture(name));
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1 when some are rejected; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut results: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = results.pop().expect("a final summary object");
    assert_eq!(summary["summary"]["messages"], results.len(), "{summary}");
    assert_eq!(results.len(), LEAKS.len() + CLEAN.len(), "{stdout}");
    for (name, location) in LEAKS {
        let r = results
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(&format!("/{name}")))
            .unwrap();
        assert_eq!(r["action"], "reject", "{name}: {r}");
        assert_eq!(r["stage"], "eom", "{name}: {r}");
        assert!(
            r["reply"].as_str().unwrap().starts_with("550-5.7.1 "),
            "{name}: {r}"
        );
        let locations: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["location"].as_str().unwrap())
            .collect();
        assert!(
            locations.contains(location),
            "{name}: expected a finding at {location}, got {locations:?}"
        );
        assert!(
            !stdout.contains("241085-1337") && !stdout.contains("2410851337"),
            "digits in scan output"
        );
    }
    for name in CLEAN {
        let r = results
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(&format!("/{name}")))
            .unwrap();
        assert_eq!(r["action"], "accept", "{name}: {r}");
    }
}

/// Splits a raw message into unfolded-as-sent headers and the body, the way
/// an MTA hands them to a milter.
fn split(raw: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(raw);
    let sep = text
        .find("\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| text.find("\n\n").map(|i| (i, 2)))
        .unwrap();
    let head_len = text[..sep.0].len();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in text[..sep.0].split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().unwrap();
            last.1.push_str("\r\n");
            last.1.push_str(line);
        } else if let Some((n, v)) = line.split_once(':') {
            headers.push((n.to_string(), v.trim_start().to_string()));
        }
    }
    (headers, raw[head_len + sep.1..].to_vec())
}

async fn through_milter(addr: std::net::SocketAddr, raw: &[u8]) -> Status {
    let (headers, body) = split(raw);
    let mut c = TestConnection::open(addr).await.unwrap();
    c.connect("sagsbehandler", ([10, 1, 2, 3], 40000))
        .await
        .unwrap();
    c.helo("sagsbehandler").await.unwrap();
    c.mail(["<jens@nyborg.dk>"]).await.unwrap();
    assert_eq!(
        c.rcpt(["<borger@example.org>"]).await.unwrap(),
        Status::Continue
    );
    c.data().await.unwrap();
    for (n, v) in headers {
        assert_eq!(c.header(n, v).await.unwrap(), Status::Continue);
    }
    c.eoh().await.unwrap();
    for chunk in body.chunks(65_535) {
        assert_eq!(c.body(chunk.to_vec()).await.unwrap(), Status::Continue);
    }
    let (_, status) = c.eom().await.unwrap();
    c.close().await.unwrap();
    status
}

#[tokio::test]
async fn the_milter_rejects_every_leaking_format_and_accepts_every_clean_twin() {
    let milter = InProcess::start(
        "listen: inet:127.0.0.1:0\norganisation:\n  domains: [nyborg.dk]\n  networks: [10.0.0.0/8]\n",
    )
    .await;
    let addr = milter.addr;
    for (name, _) in LEAKS {
        let status = through_milter(addr, &std::fs::read(fixture(name)).unwrap()).await;
        match &status {
            Status::Reject { message: Some(m) } => {
                let m = m.to_string_lossy();
                assert!(m.starts_with("550-5.7.1 Afvist"), "{name}: {m}");
            }
            other => panic!("{name}: expected a 550 5.7.1 reject, got {other:?}"),
        }
    }
    for name in CLEAN {
        let status = through_milter(addr, &std::fs::read(fixture(name)).unwrap()).await;
        assert_eq!(status, Status::Accept, "{name}");
    }
    milter.stop().await;
}
