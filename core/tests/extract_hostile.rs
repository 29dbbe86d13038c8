//! Hostile inputs, all generated here: each returns within the limits with
//! an `unscannable` reason where a limit was hit, and never panics. Memory is
//! bounded by the limits (small ones are used so the tests stay cheap).

use std::io::{Cursor, Write};

mod common;

use cpr_milter_core::extract::{extract, extract_headers, Extracted, Limits, SegmentKind};
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

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
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
