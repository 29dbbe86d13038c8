//! Pages for the OCR tests: a one-page PDF of text lines, and that page
//! turned into a scanned PDF by the tools scanning software uses (pdftoppm,
//! libtiff's ppm2tiff and tiff2pdf, img2pdf; scripts/install-ocr.sh
//! installs them).

use std::path::Path;
use std::process::Command;

/// A one-page PDF showing `lines` in 28 pt Helvetica.
pub fn pdf_page(lines: &[&str]) -> Vec<u8> {
    let mut content = String::from("BT /F1 28 Tf 40 300 Td 36 TL\n");
    for l in lines {
        content.push_str(&format!("({l}) Tj T*\n"));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 620 360] \
         /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    pdf_of(&objects.map(String::into_bytes))
}

/// Runs a tool the test needs (installed by scripts/install-ocr.sh).
pub fn run_tool(program: &str, args: &[&std::ffi::OsStr]) {
    let run = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/install-ocr.sh installs it)"));
    assert!(
        run.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A scanned PDF of `lines` made the way scanning software makes them:
/// `g4` renders a black-and-white page, packs it as a CCITT Group 4 TIFF
/// (libtiff's ppm2tiff) and wraps that in a PDF (tiff2pdf); `gray` and
/// `mono` render an 8-bit or 1-bit PNG and wrap it with img2pdf, which
/// stores the samples Flate-compressed with PNG predictors.
pub fn tool_scanned_pdf(dir: &Path, stem: &str, lines: &[&str], how: &str) -> Vec<u8> {
    let page = dir.join(format!("{stem}-page.pdf"));
    std::fs::write(&page, pdf_page(lines)).unwrap();
    let image = dir.join(format!("{stem}-image"));
    let pdf = dir.join(format!("{stem}.pdf"));
    let colour = if how == "gray" { "-gray" } else { "-mono" };
    let format: &[&str] = if how == "g4" { &[] } else { &["-png"] };
    let options = ["-r", "150", colour, "-singlefile"];
    let mut args: Vec<&std::ffi::OsStr> = options
        .iter()
        .chain(format)
        .map(std::ffi::OsStr::new)
        .collect();
    args.extend([page.as_os_str(), image.as_os_str()]);
    run_tool("pdftoppm", &args);
    if how == "g4" {
        let pbm = image.with_extension("pbm");
        let tiff = image.with_extension("tif");
        run_tool(
            "ppm2tiff",
            &[
                "-c".as_ref(),
                "g4".as_ref(),
                pbm.as_os_str(),
                tiff.as_os_str(),
            ],
        );
        run_tool(
            "tiff2pdf",
            &["-o".as_ref(), pdf.as_os_str(), tiff.as_os_str()],
        );
    } else {
        let png = image.with_extension("png");
        run_tool(
            "img2pdf",
            &[png.as_os_str(), "-o".as_ref(), pdf.as_os_str()],
        );
    }
    std::fs::read(pdf).unwrap()
}

/// Base64 in lines of 76 characters, as mail carries it.
pub fn wrapped_base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, c) in data.chunks(3).enumerate() {
        let v = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(v >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
        if n % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

/// A mail carrying `files` of content type `ctype`.
pub fn mail_with_type(ctype: &str, images: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = String::from(
        "From: jens@nyborg.dk\r\nTo: borger@example.org\r\nSubject: Indscannet blanket\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"sep\"\r\n\r\n\
         --sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHermed den indscannede blanket.\r\n",
    );
    for (name, bytes) in images {
        m.push_str(&format!(
            "--sep\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            wrapped_base64(bytes)
        ));
    }
    m.push_str("--sep--\r\n");
    m.into_bytes()
}

/// A PDF file of `objects` (numbered from 1, the first the catalog), with
/// its cross-reference table.
pub fn pdf_of(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(o);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
