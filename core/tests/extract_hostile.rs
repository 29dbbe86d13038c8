//! Hostile inputs, all generated here: each returns within the limits with
//! an `unscannable` reason where a limit was hit, and never panics. Memory is
//! bounded by the limits (small ones are used so the tests stay cheap).

mod common;

use common::zip_of;

use cpr_milter_core::extract::{
    extract, extract_headers, Cause, Extracted, Limits, SegmentKind, Unscannable,
};
use cpr_milter_core::{Action, Envelope, Inspector, Verdict};

fn reasons(x: &Extracted) -> String {
    x.unscannable
        .iter()
        .map(|u| format!("{}: {}\n", u.location, u.reason))
        .collect()
}

fn with_attachment(name: &str, data: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"h\"\r\n\r\n--h\r\nContent-Type: text/plain\r\n\r\nhej\r\n\
--h\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in common::base64(data).as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--h--\r\n");
    raw
}

#[test]
fn nested_zip_bomb_is_bounded() {
    // 42.zip style: a layer of 64 MiB of zeros, then 16 copies per level.
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let mut layer = zip_of(&[("zeros.txt", &zeros)]);
    drop(zeros);
    for level in 0..4 {
        let names: Vec<String> = (0..16).map(|i| format!("l{level}-{i}.zip")).collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), layer.as_slice()))
            .collect();
        layer = zip_of(&entries);
    }
    // 16^4 * 64 MiB = 4 TiB declared; a few hundred KiB on the wire.
    assert!(layer.len() < 4 * 1024 * 1024);
    let x = extract(&with_attachment("42.zip", &layer), &Limits::default()).into_owned();
    let r = reasons(&x);
    assert!(
        r.contains("compression ratio") || r.contains("uncompressed"),
        "{r}"
    );
    assert!(
        r.contains("archive entries") || r.contains("nesting"),
        "{r}"
    );
}

#[test]
fn single_entry_bomb_with_lying_size_is_capped() {
    let zeros = vec![0u8; 32 * 1024 * 1024];
    let z = zip_of(&[("a.txt", &zeros)]);
    let limits = Limits {
        max_uncompressed_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    };
    let x = extract(&with_attachment("a.zip", &z), &limits).into_owned();
    assert!(!x.unscannable.is_empty(), "bomb not reported");
    assert!(x.segments.iter().all(|s| s.text.len() <= 4 * 1024 * 1024));
}

#[test]
fn ten_thousand_parts() {
    let mut raw = b"From: a@nyborg.dk\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..10_000 {
        raw.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"--p--\r\n");
    let x = extract(&raw, &Limits::default());
    assert!(reasons(&x).contains("MIME parts"), "{}", reasons(&x));
    assert!(x.segments.len() <= Limits::default().max_parts + 10);
}

#[test]
fn messages_nested_one_hundred_deep() {
    let mut raw = b"From: a@nyborg.dk\r\nSubject: inner\r\n\r\nBorger 241085-1337\r\n".to_vec();
    for _ in 0..100 {
        let mut outer = b"From: a@nyborg.dk\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n".to_vec();
        outer.extend_from_slice(&raw);
        raw = outer;
    }
    let x = extract(&raw, &Limits::default());
    assert!(reasons(&x).contains("nesting"), "{}", reasons(&x));
}

#[test]
fn multiparts_nested_one_hundred_deep() {
    let mut raw = String::from("From: a@nyborg.dk\r\nSubject: deep\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n");
    for i in 1..100 {
        raw.push_str(&format!(
            "--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n",
            i - 1
        ));
    }
    raw.push_str("--b99\r\nContent-Type: text/plain\r\n\r\nBorger 241085-1337\r\n");
    for i in (0..100).rev() {
        raw.push_str(&format!("--b{i}--\r\n"));
    }
    // mail-parser flattens the tree, so the depth is no danger here: the
    // body must be found, or the depth reported; never silently dropped.
    let x = extract(raw.as_bytes(), &Limits::default());
    let found = x.segments.iter().any(|s| s.text.contains("241085-1337"));
    let r = reasons(&x);
    assert!(
        found || r.contains("nesting") || r.contains("depth"),
        "neither found nor reported: {r}"
    );
}

#[test]
fn hundred_megabyte_single_line() {
    let mut raw = b"From: a@nyborg.dk\r\nSubject: long\r\n\r\n".to_vec();
    raw.resize(raw.len() + 100 * 1024 * 1024, b'7');
    // Over the default message size: refused before parsing.
    let x = extract(&raw, &Limits::default());
    assert!(reasons(&x).contains("larger than"), "{}", reasons(&x));
    // Raised limit: parsed, one segment, no panic.
    let limits = Limits {
        max_message_bytes: 200 * 1024 * 1024,
        ..Limits::default()
    };
    let x = extract(&raw, &limits);
    assert_eq!(
        x.segments
            .iter()
            .filter(|s| s.location == "body:text/plain")
            .count(),
        1
    );
}

#[test]
fn truncated_base64_and_broken_files() {
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        (
            "word/document.xml",
            b"<w:document><w:p><w:t>241085-1337</w:t>",
        ),
    ]);
    let pdf =
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Kids [3 0 R";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "broken.zip",
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00garbage".to_vec(),
        ),
        (
            "cut.zip",
            zip_of(&[("a.txt", b"241085-1337 and more text")])[..40].to_vec(),
        ),
        ("broken.pdf", pdf.to_vec()),
        ("broken.docx", docx.clone()),
        ("short.docx", docx[..docx.len() / 2].to_vec()),
        ("empty.pdf", b"%PDF-".to_vec()),
        (
            "x.eml",
            b"From: \r\nSubject: =?utf-8?B?***?=\r\n\r\n".to_vec(),
        ),
    ];
    for (name, data) in cases {
        let raw = with_attachment(name, &data);
        let _ = extract(&raw, &Limits::default());
        // Cut the message inside the base64 of the attachment.
        let _ = extract(&raw[..raw.len() * 3 / 4], &Limits::default());
    }
    let x = extract(
        &with_attachment("broken.zip", b"PK\x03\x04junk"),
        &Limits::default(),
    )
    .into_owned();
    assert!(
        reasons(&x).contains("broken ZIP") || reasons(&x).contains("ZIP"),
        "{}",
        reasons(&x)
    );
}

#[test]
fn password_protected_zip_and_office() {
    // A ZIP entry with the "encrypted" flag set (general purpose bit 0).
    let mut z = zip_of(&[("secret.txt", b"241085-1337")]);
    for sig in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        let mut at = 0;
        while let Some(p) = z[at..].windows(4).position(|w| w == sig) {
            let pos = at + p;
            let flag_off = if sig == b"PK\x03\x04" {
                pos + 6
            } else {
                pos + 8
            };
            z[flag_off] |= 1;
            at = pos + 4;
        }
    }
    let x = extract(&with_attachment("secret.zip", &z), &Limits::default()).into_owned();
    assert!(reasons(&x).contains("password"), "{}", reasons(&x));

    // An encrypted OOXML file is an OLE container with an EncryptionInfo stream.
    let mut ole = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    ole.resize(512, 0);
    ole.extend(
        "EncryptionInfo"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    let x = extract(&with_attachment("rapport.docx", &ole), &Limits::default()).into_owned();
    assert!(
        reasons(&x).contains("password-protected Office"),
        "{}",
        reasons(&x)
    );
}

#[test]
fn too_many_zip_entries_and_pdf_pages() {
    let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"hej"[..])).collect();
    let limits = Limits {
        max_zip_entries: 10,
        ..Limits::default()
    };
    let x = extract(&with_attachment("many.zip", &zip_of(&entries)), &limits).into_owned();
    assert!(reasons(&x).contains("entries"), "{}", reasons(&x));

    let fixture = format!(
        "{}/../fixtures/extract/pdf-tj.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let limits = Limits {
        max_pdf_pages: 0,
        ..Limits::default()
    };
    let x = extract(&std::fs::read(fixture).unwrap(), &limits).into_owned();
    assert!(reasons(&x).contains("pages"), "{}", reasons(&x));
}

#[test]
fn deadline_is_checked_between_parts() {
    let mut raw = b"From: a@nyborg.dk\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..20 {
        raw.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(b"--p--\r\n");
    let limits = Limits {
        timeout: std::time::Duration::ZERO,
        ..Limits::default()
    };
    let x = extract(&raw, &limits);
    assert!(reasons(&x).contains("longer than"), "{}", reasons(&x));
    assert!(x.deadline_exceeded);
    assert!(x.into_owned().deadline_exceeded);
    let x = extract(&raw, &Limits::default());
    assert!(!x.deadline_exceeded, "{}", reasons(&x));
}

#[test]
fn extraction_deadline_is_shorter_than_the_scan_timeout() {
    let policy = cpr_milter_core::Policy::default();
    let limits = &policy.limits;
    let outer = policy.scan_timeout();
    assert_eq!(limits.timeout, outer * 4 / 5);
}

fn inspect(raw: &[u8], recipient: &str) -> Verdict {
    let cfg = cpr_milter_core::config::parse(
        "listen: unix:/x\norganisation:\n  domains: [nyborg.dk]\n",
        "t",
    )
    .expect("config");
    let env = Envelope {
        auth_user: Some("jens".into()),
        recipients: vec![recipient.into()],
        ..Envelope::default()
    };
    Inspector::new(cfg, None).inspect_message(&env, raw)
}

#[test]
fn zip_entry_names_are_file_names() {
    let inner = zip_of(&[("Borger 290200-4001.txt", b"hej")]);
    let z = zip_of(&[
        ("2024/", b""),
        ("2024/Borger 241085-1337.txt", b"intet her"),
        ("2024/noter.txt", b"intet her"),
        ("indre.zip", &inner),
    ]);
    let raw = with_attachment("sager.zip", &z);
    let x = extract(&raw, &Limits::default());
    let header = |loc: &str, text: &str| {
        x.segments
            .iter()
            .any(|s| s.kind == SegmentKind::Header && s.location == loc && s.text == text)
    };
    let all: Vec<_> = x.segments.iter().map(|s| (&s.location, &s.text)).collect();
    assert!(
        header(
            "attachment:sager.zip:filename:2024/Borger 241085-1337.txt",
            "Borger 241085-1337.txt"
        ),
        "{all:?}"
    );
    assert!(
        header("attachment:sager.zip:filename:2024", "2024"),
        "{all:?}"
    );
    // The folder is named once, not once per entry.
    assert_eq!(
        x.segments
            .iter()
            .filter(|s| s.location == "attachment:sager.zip:filename:2024")
            .count(),
        1
    );
    // Nested archive: its entries' names too.
    assert!(
        header(
            "attachment:sager.zip:indre.zip:filename:Borger 290200-4001.txt",
            "Borger 290200-4001.txt"
        ),
        "{all:?}"
    );

    // Header rule: rejected even to a colleague in the organisation.
    let v = inspect(&raw, "kollega@nyborg.dk");
    assert_eq!(
        (v.action, v.rule.as_deref()),
        (Action::Reject, Some("cpr.header")),
        "{v:?}"
    );
    // The clean twin (no number in any name) goes to the colleague.
    let clean = zip_of(&[("2024/noter.txt", b"intet her")]);
    let v = inspect(&with_attachment("sager.zip", &clean), "kollega@nyborg.dk");
    assert_eq!(v.action, Action::Accept, "{v:?}");
}

fn single_part(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "From: a@nyborg.dk\r\nTo: b@gmail.com\r\nSubject: Sag\r\nMIME-Version: 1.0\r\n{headers}\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

#[test]
fn encryption_labels_are_checked_against_the_content() {
    // Plain text sent as S/MIME enveloped-data: scanned, rejected.
    let fake = single_part(
        "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n",
        format!("{}\r\n", common::base64(b"Borger 241085-1337\r\n")).as_bytes(),
    );
    let x = extract(&fake, &Limits::default());
    assert!(!x.encrypted);
    assert!(
        x.segments
            .iter()
            .any(|s| s.kind == SegmentKind::Attachment && s.text.contains("241085-1337")),
        "{:?}",
        x.segments
    );
    let v = inspect(&fake, "b@gmail.com");
    assert_eq!(v.action, Action::Reject, "{v:?}");

    // The same as opaque signed-data: scanned too, not waved through as
    // "not unpacked".
    let fake_signed = single_part(
        "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n",
        b"Borger 241085-1337\r\n",
    );
    let x = extract(&fake_signed, &Limits::default());
    assert!(x.segments.iter().any(|s| s.text.contains("241085-1337")));
    assert!(x.unscannable.is_empty(), "{}", reasons(&x));

    // Real DER enveloped-data (BER indefinite length, as OpenSSL writes it)
    // and authEnveloped-data (definite length): encrypted.
    for der in [
        &b"\x30\x80\x06\x09\x2A\x86\x48\x86\xF7\x0D\x01\x07\x03\xA0\x80\x30\x80\x02\x01\x00"[..],
        b"\x30\x81\x90\x06\x0B\x2A\x86\x48\x86\xF7\x0D\x01\x09\x10\x01\x17\xA0\x81\x80",
    ] {
        let real = single_part(
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
Content-Transfer-Encoding: base64\r\n",
            format!("{}\r\n", common::base64(der)).as_bytes(),
        );
        assert!(extract(&real, &Limits::default()).encrypted, "{der:?}");
    }

    // multipart/encrypted whose "ciphertext" is plain text: scanned.
    let fake_pgp = single_part(
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n",
        b"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
--b\r\nContent-Type: application/octet-stream; name=encrypted.asc\r\n\r\nBorger 241085-1337\r\n--b--\r\n",
    );
    let x = extract(&fake_pgp, &Limits::default());
    assert!(!x.encrypted);
    let v = inspect(&fake_pgp, "b@gmail.com");
    assert_eq!(v.action, Action::Reject, "{v:?}");

    // Binary OpenPGP (a new-format PKESK packet) is encrypted.
    let binary_pgp = single_part(
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n",
        format!(
            "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            common::base64(b"\xC1\x4C\x03\x12\x34\x56\x78")
        )
        .as_bytes(),
    );
    assert!(extract(&binary_pgp, &Limits::default()).encrypted);

    // Text under a signature or control label is scanned too.
    for ctype in [
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/pgp-encrypted",
    ] {
        let raw = single_part(
            "Content-Type: multipart/mixed; boundary=m\r\n",
            format!(
                "--m\r\nContent-Type: text/plain\r\n\r\nhej\r\n\
--m\r\nContent-Type: {ctype}\r\n\r\nBorger 241085-1337 og flere sager\r\n--m--\r\n"
            )
            .as_bytes(),
        );
        let v = inspect(&raw, "b@gmail.com");
        assert_eq!(v.action, Action::Reject, "{ctype}: {v:?}");
    }
}

#[test]
fn headers_of_an_oversized_message() {
    let mut raw = b"From: a@nyborg.dk\r\nTo: b@gmail.com\r\nSubject: Borger 241085-1337\r\n\
MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"Sag 290200-4001.bin\"\r\n\r\n"
        .to_vec();
    raw.resize(raw.len() + 3 * 1024 * 1024, b'A');
    let limits = Limits {
        max_message_bytes: 1024 * 1024,
        ..Limits::default()
    };
    // The full extraction refuses it ...
    assert!(reasons(&extract(&raw, &limits)).contains("larger than"));
    // ... the header extraction still sees the Subject and the file name.
    let x = extract_headers(&raw, &limits);
    let subject = x
        .segments
        .iter()
        .find(|s| s.kind == SegmentKind::Subject)
        .expect("subject");
    assert!(subject.text.contains("241085-1337"));
    assert!(x
        .segments
        .iter()
        .any(|s| s.kind == SegmentKind::Header && s.location == "filename:Sag 290200-4001.bin"));
    assert!(x.segments.iter().all(|s| s.text.len() < 1024), "body read");
    assert!(x.unscannable.is_empty(), "{}", reasons(&x));

    // Cut off inside the header section: what is there is still read.
    let cut = b"From: a@nyborg.dk\r\nSubject: Borger 241085-1337\r\nTo: b@gm";
    let x = extract_headers(cut, &limits);
    assert!(x.segments.iter().any(|s| s.text.contains("241085-1337")));
}

// The crafted cases that once walked out under `unscannable: accept`: each
// carries a plaintext CPR number and must come back as unscannable content
// with the right cause (or be read after all), never as a clean extraction.

/// The unscannable entries of `cause`.
fn of_cause(x: &Extracted, cause: Cause) -> Vec<Unscannable> {
    x.unscannable
        .iter()
        .filter(|u| u.cause == cause)
        .cloned()
        .collect()
}

/// Extracts a message carrying `data` as the attachment `name`.
fn attached(name: &str, data: &[u8], limits: &Limits) -> Extracted<'static> {
    extract(&with_attachment(name, data), limits).into_owned()
}

fn found(x: &Extracted, needle: &str) -> bool {
    x.segments.iter().any(|s| s.text.contains(needle))
}

#[test]
fn crafted_more_than_2000_mime_parts_is_a_limit() {
    let mut raw = b"From: a@nyborg.dk\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..2100 {
        raw.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(
        b"--p\r\nContent-Type: text/plain\r\n\r\nBorger 241085-1337\r\n--p--\r\n",
    );
    let x = extract(&raw, &Limits::default());
    assert!(
        !found(&x, "241085-1337"),
        "the part past the limit was read"
    );
    let limit = of_cause(&x, Cause::Limit);
    assert!(
        limit
            .iter()
            .any(|u| u.reason == "more than 2000 MIME parts"),
        "{}",
        reasons(&x)
    );
}

#[test]
fn crafted_docx_over_the_compression_ratio_is_a_limit() {
    let mut xml =
        b"<w:document><w:body><w:p><w:r><w:t>Borger 241085-1337</w:t></w:r></w:p>".to_vec();
    xml.resize(xml.len() + 8 * 1024 * 1024, b' ');
    xml.extend_from_slice(b"</w:body></w:document>");
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", &xml),
    ]);
    let x = attached("sag.docx", &docx, &Limits::default());
    let limit = of_cause(&x, Cause::Limit);
    assert!(
        limit
            .iter()
            .any(|u| u.location == "attachment:sag.docx:word/document.xml"
                && u.reason.contains("compression ratio above 200")),
        "{}",
        reasons(&x)
    );
}

/// `zip` with `copies` more central-directory records, each a copy of the
/// first one (renamed `0.txt`, `1.txt` …) pointing at the same local entry:
/// overlapping entries, the trick of non-recursive zip bombs.
fn overlap(zip: &[u8], copies: usize) -> Vec<u8> {
    let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let eocd = zip.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
    let record = &zip[cd..eocd];
    let name_len = usize::from(u16::from_le_bytes([record[28], record[29]]));
    let mut out = zip[..eocd].to_vec();
    let mut added = 0usize;
    for i in 0..copies {
        let name = format!("{i:0width$}", width = name_len);
        let mut r = record.to_vec();
        r[46..46 + name_len].copy_from_slice(&name.as_bytes()[..name_len]);
        added += r.len();
        out.extend_from_slice(&r);
    }
    let mut tail = zip[eocd..].to_vec();
    let n = u16::from_le_bytes([tail[10], tail[11]]) + copies as u16;
    tail[8..10].copy_from_slice(&n.to_le_bytes());
    tail[10..12].copy_from_slice(&n.to_le_bytes());
    let size = u32::from_le_bytes([tail[12], tail[13], tail[14], tail[15]]) + added as u32;
    tail[12..16].copy_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&tail);
    out
}

#[test]
fn crafted_overlapping_zip_entries_are_read_or_a_limit() {
    // Two names for one entry: both are read, the number is found.
    let z = overlap(&zip_of(&[("sag1.txt", b"Borger 241085-1337")]), 1);
    let x = attached("o.zip", &z, &Limits::default());
    let entries = x
        .segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Attachment && s.text.contains("241085-1337"))
        .count();
    assert_eq!(entries, 2, "{:?}", x.segments);

    // Three hundred names for one 1 MiB entry: the inflated bytes of the
    // message run out, which is a limit, reported.
    let mut kernel = b"Borger 241085-1337\n".to_vec();
    kernel.resize(1024 * 1024, b'0');
    let z = overlap(&zip_of(&[("kernel.txt", &kernel)]), 300);
    let x = attached("bomb.zip", &z, &Limits::default());
    let limit = of_cause(&x, Cause::Limit);
    assert!(
        limit
            .iter()
            .any(|u| u.reason.contains("bytes uncompressed in total")),
        "{}",
        reasons(&x)
    );
    assert!(found(&x, "241085-1337"));
}

#[test]
fn crafted_truncated_base64_is_read_as_far_as_it_goes() {
    // A message cut inside the base64 of its attachment (no closing
    // boundary, a partial quartet): mail-parser gives up on the part.
    let cut = |data: &[u8], keep: usize| {
        let mut raw = with_attachment("sag", data);
        let body = raw.len() - b"--h--\r\n".len();
        let start = raw[..body]
            .windows(4)
            .rposition(|w| w == b"\r\n\r\n")
            .unwrap()
            + 4;
        raw.truncate(start + keep);
        raw
    };
    // Text: what still decodes is read, the number is found.
    let text = b"Borger 241085-1337 og mere tekst her";
    let raw = cut(text, common::base64(text).len() - 3);
    let x = extract(&raw, &Limits::default());
    let seg = x
        .segments
        .iter()
        .find(|s| s.location == "attachment:sag")
        .expect("the recovered attachment");
    assert!(seg.text.contains("241085-1337"), "{seg:?}");

    // A document cut in half: what decodes is a broken ZIP, reported so.
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        (
            "word/document.xml",
            b"<w:document><w:p><w:t>241085-1337</w:t></w:p></w:document>",
        ),
    ]);
    let raw = cut(&docx, common::base64(&docx).len() / 2);
    let x = extract(&raw, &Limits::default()).into_owned();
    assert!(
        of_cause(&x, Cause::Broken)
            .iter()
            .any(|u| u.location == "attachment:sag" && u.reason.contains("ZIP")),
        "{}",
        reasons(&x)
    );
}

/// A zlib stream that inflates to `literal` followed by `repeats` × 258
/// more bytes continuing its last `period` bytes (a fixed-Huffman deflate
/// block of back-references), then `tail`. It costs a few bytes per 258,
/// so tens of MiB of content are cheap to make even in a debug build.
fn zlib_repeating(literal: &[u8], period: u16, repeats: usize, tail: &[u8]) -> Vec<u8> {
    struct Bits {
        out: Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits {
        fn bits(&mut self, value: u32, len: u32) {
            self.acc |= value << self.n;
            self.n += len;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Huffman codes go most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            for i in (0..len).rev() {
                self.bits((code >> i) & 1, 1);
            }
        }
        fn literal(&mut self, b: u8) {
            match b {
                0..=143 => self.code(0x30 + u32::from(b), 8),
                _ => self.code(0x190 + u32::from(b - 144), 9),
            }
        }
    }
    assert!((1..=4).contains(&period) && literal.len() >= usize::from(period));
    let mut w = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    w.bits(1, 1); // final block
    w.bits(1, 2); // fixed Huffman codes
    let mut plain = literal.to_vec();
    for &b in literal {
        w.literal(b);
    }
    let unit = plain[plain.len() - usize::from(period)..].to_vec();
    for _ in 0..repeats {
        w.code(0xC5, 8); // length 258 (code 285)
        w.code(u32::from(period - 1), 5); // distance 1..=4 (codes 0..=3)
    }
    for i in 0..repeats * 258 {
        plain.push(unit[i % unit.len()]);
    }
    for &b in tail {
        w.literal(b);
        plain.push(b);
    }
    w.code(0, 7); // end of block
    if w.n > 0 {
        w.out.push(w.acc as u8);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &plain {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    w.out.extend_from_slice(&(b << 16 | a).to_be_bytes());
    w.out
}

/// A PDF whose page tree is built by `pages` (given the ids of the page
/// tree root and of one page) and whose one page shows `content`
/// (already a zlib stream when `deflated`).
fn pdf_with(
    content: Vec<u8>,
    deflated: bool,
    pages: impl FnOnce(&mut lopdf::Document, lopdf::ObjectId, lopdf::ObjectId),
) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let root = doc.new_object_id();
    let page = doc.new_object_id();
    let mut dict = dictionary! {};
    if deflated {
        dict.set("Filter", "FlateDecode");
    }
    let contents = doc.add_object(Stream::new(dict, content).with_compression(false));
    doc.objects.insert(
        page,
        Object::Dictionary(dictionary! {
            "Type" => "Page",
            "Parent" => root,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => contents,
        }),
    );
    pages(&mut doc, root, page);
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

const SHOW_CPR: &[u8] = b"BT /F1 12 Tf 72 700 Td (Borger 241085-1337) Tj ET\n";

#[test]
fn crafted_pdf_stream_over_64_mib_is_a_limit() {
    // 65 MiB of page content from a stream of a few hundred KiB.
    let content = zlib_repeating(b"q Q\n", 4, 65 * 1024 * 1024 / 258, SHOW_CPR);
    let pdf = pdf_with(content, true, |doc, root, page| {
        doc.objects.insert(
            root,
            lopdf::dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }
                .into(),
        );
    });
    assert!(pdf.len() < 2 * 1024 * 1024);
    let x = attached("plan.pdf", &pdf, &Limits::default());
    let limit = of_cause(&x, Cause::Limit);
    assert!(
        limit
            .iter()
            .any(|u| u.location == "attachment:plan.pdf:page1"
                && u.reason.contains("inflates to more than")),
        "{}",
        reasons(&x)
    );
}

#[test]
fn crafted_huge_content_stream_stops_at_the_operator_budget() {
    // The number first, then 63 MiB of `q Q` (33 million operators): the
    // text before the budget ran out is read, the rest is a limit.
    let mut literal = SHOW_CPR.to_vec();
    literal.extend_from_slice(b"q Q\n");
    let content = zlib_repeating(&literal, 4, 63 * 1024 * 1024 / 258, b"");
    let pdf = pdf_with(content, true, |doc, root, page| {
        doc.objects.insert(
            root,
            lopdf::dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }
                .into(),
        );
    });
    let limits = Limits::default();
    let x = attached("kort.pdf", &pdf, &limits);
    assert!(found(&x, "241085-1337"), "{:?}", x.segments);
    let limit = of_cause(&x, Cause::Limit);
    let expect = format!(
        "PDF has more than {} content operators",
        limits.max_pdf_operators
    );
    assert!(
        limit
            .iter()
            .any(|u| u.location == "attachment:kort.pdf:page1" && u.reason == expect),
        "{}",
        reasons(&x)
    );
    assert!(!x.deadline_exceeded, "stopped by the clock, not the budget");
}

#[test]
fn crafted_looping_page_tree_reads_the_real_page() {
    use lopdf::dictionary;
    // Root → node → [root, page]: a loop back to the root beside the page.
    let pdf = pdf_with(SHOW_CPR.to_vec(), false, |doc, root, page| {
        let node = doc.new_object_id();
        doc.objects.insert(
            node,
            dictionary! { "Type" => "Pages", "Parent" => root,
            "Kids" => vec![root.into(), page.into()], "Count" => 1 }
            .into(),
        );
        doc.objects.insert(
            root,
            dictionary! { "Type" => "Pages", "Kids" => vec![node.into()], "Count" => 1 }.into(),
        );
    });
    let x = attached("loop.pdf", &pdf, &Limits::default());
    let page = x
        .segments
        .iter()
        .find(|s| s.location == "attachment:loop.pdf:page1")
        .expect("the real page");
    assert!(page.text.contains("241085-1337"), "{page:?}");
    assert!(x.unscannable.is_empty(), "{}", reasons(&x));

    // A tree that is only a loop (the page hangs off nothing): the page is
    // still read, and the file is reported broken.
    let pdf = pdf_with(SHOW_CPR.to_vec(), false, |doc, root, _page| {
        doc.objects.insert(
            root,
            dictionary! { "Type" => "Pages", "Kids" => vec![root.into()], "Count" => 1 }.into(),
        );
    });
    let x = attached("loop.pdf", &pdf, &Limits::default());
    assert!(found(&x, "241085-1337"), "{:?}", x.segments);
    assert!(
        of_cause(&x, Cause::Broken)
            .iter()
            .any(|u| u.reason.contains("page tree reaches no page")),
        "{}",
        reasons(&x)
    );
}

#[test]
fn pdf_without_pages_is_broken_not_empty() {
    use lopdf::{dictionary, Document};
    let mut doc = Document::with_version("1.5");
    let root = doc.add_object(dictionary! { "Type" => "Pages", "Kids" => vec![], "Count" => 0 });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();
    let x = attached("tom.pdf", &pdf, &Limits::default());
    assert!(
        of_cause(&x, Cause::Broken)
            .iter()
            .any(|u| u.location == "attachment:tom.pdf" && u.reason == "PDF has no readable pages"),
        "{}",
        reasons(&x)
    );
}

#[test]
fn under_the_default_policy_limits_are_refused_and_encryption_goes() {
    let reply_of = |v: &Verdict| v.reply.as_ref().map(|r| r.to_string()).unwrap_or_default();
    // Thousands of parts, the number beyond the limit: refused, and the
    // reply names what stopped the reader.
    let mut raw = b"From: a@nyborg.dk\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..2100 {
        raw.extend_from_slice(
            format!("--p\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n").as_bytes(),
        );
    }
    raw.extend_from_slice(
        b"--p\r\nContent-Type: text/plain\r\n\r\nBorger 241085-1337\r\n--p--\r\n",
    );
    let v = inspect(&raw, "b@gmail.com");
    assert_eq!(
        (v.action, v.rule.as_deref()),
        (Action::Reject, Some("content.unscannable")),
        "{v:?}"
    );
    assert!(reply_of(&v).contains("more than 2000 MIME parts"), "{v:?}");

    // A DOCX over the compression-ratio limit: refused.
    let mut xml = b"<w:document><w:p><w:t>Borger 241085-1337</w:t></w:p>".to_vec();
    xml.resize(xml.len() + 8 * 1024 * 1024, b' ');
    let docx = zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", &xml),
    ]);
    let v = inspect(&with_attachment("sag.docx", &docx), "b@gmail.com");
    assert_eq!(
        (v.action, v.rule.as_deref()),
        (Action::Reject, Some("content.unscannable")),
        "{v:?}"
    );

    // A password-protected ZIP (encrypted, the sender's right): accepted,
    // with the unscannable finding kept for the audit line.
    let mut z = zip_of(&[("secret.txt", b"hemmeligt")]);
    for sig in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        let pos = z.windows(4).position(|w| w == sig).unwrap();
        let flag = if sig == b"PK\x03\x04" {
            pos + 6
        } else {
            pos + 8
        };
        z[flag] |= 1;
    }
    let v = inspect(&with_attachment("secret.zip", &z), "b@gmail.com");
    assert_eq!(v.action, Action::Accept, "{v:?}");
    assert!(
        v.findings
            .iter()
            .any(|f| f.rule == "content.unscannable" && f.reason.as_str().contains("password")),
        "{v:?}"
    );
}

#[test]
fn text_in_form_xobjects_is_read_and_a_form_drawing_itself_is_read_once() {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let root = doc.new_object_id();
    let form = doc.new_object_id();
    // The form shows the number, then draws itself (a loop) and an inner
    // form with more text.
    let inner = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Form" },
        b"BT (indre 290200-4001) Tj ET".to_vec(),
    ));
    doc.objects.insert(
        form,
        Object::Stream(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "Resources" => dictionary! {
                    "XObject" => dictionary! { "Fm0" => form, "Fm1" => inner },
                },
            },
            b"BT (Borger 241085-1337) Tj ET /Fm0 Do /Fm1 Do".to_vec(),
        )),
    );
    let contents = doc.add_object(Stream::new(
        dictionary! {},
        b"BT (Brevhoved) Tj ET q /Fm0 Do Q /Fm0 Do".to_vec(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => root,
        "Contents" => contents,
        "Resources" => dictionary! { "XObject" => dictionary! { "Fm0" => form } },
    });
    doc.objects.insert(
        root,
        dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }.into(),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => root });
    doc.trailer.set("Root", catalog);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).unwrap();
    let x = attached("brev.pdf", &pdf, &Limits::default());
    let page = x
        .segments
        .iter()
        .find(|s| s.location == "attachment:brev.pdf:page1")
        .expect("page");
    assert_eq!(
        page.text,
        "Brevhoved\nBorger 241085-1337\nindre 290200-4001\n"
    );
    assert!(x.unscannable.is_empty(), "{}", reasons(&x));
}
