//! Hostile variants of the Outlook fixtures (derived here from the raw files
//! in fixtures/extract/fmt-raw/): truncated compound files, FAT sector loops,
//! a TNEF attribute claiming 4 GB. Each gives a verdict and an `unscannable`
//! entry saying why, never a panic, a hang or a huge allocation.

use std::time::{Duration, Instant};

use cpr_milter_core::extract::{extract, Limits};

mod common;

fn raw(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../fixtures/extract/fmt-raw/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(o: usize, m: &[u8]) -> usize {
    u32::from_le_bytes(m[o..o + 4].try_into().unwrap()) as usize
}

/// 512 (version 3) or 4096 (version 4) bytes, from the header's sector shift.
fn sector_size(m: &[u8]) -> usize {
    1 << u16::from_le_bytes([m[0x1E], m[0x1F]])
}

fn mail_with(name: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: a@nyborg.dk\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSe vedhæftede.\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename={name}\r\n\
Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        common::base64(data)
    )
    .into_bytes()
}

/// Extracts quickly and reports at least one unscannable reason containing
/// `reason`.
fn assert_unscannable(name: &str, data: &[u8], reason: &str) {
    let started = Instant::now();
    let mail = mail_with(name, data);
    let x = extract(&mail, &Limits::default());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{name}: took {:?}",
        started.elapsed()
    );
    assert!(
        x.unscannable.iter().any(|u| u.reason.contains(reason)),
        "{name}: expected '{reason}' in {:?}",
        x.unscannable
    );
}

#[test]
fn truncated_outlook_items_are_unscannable() {
    let msg = raw("sag.msg");
    for cut in [600, 5000, msg.len() / 2, msg.len() - 5000] {
        let started = Instant::now();
        let mail = mail_with("sag.msg", &msg[..cut]);
        let x = extract(&mail, &Limits::default());
        assert!(started.elapsed() < Duration::from_secs(20));
        assert!(
            !x.unscannable.is_empty(),
            "cut at {cut}: nothing reported: {:?}",
            x.segments
        );
    }
}

#[test]
fn a_fat_sector_loop_is_unscannable() {
    let mut msg = raw("sag.msg");
    // Header: first directory sector at 0x30, the first FAT sector in the
    // DIFAT at 0x4C; sector n starts at (n + 1) sectors.
    let sector = sector_size(&msg);
    let dir = at(0x30, &msg);
    let fat = at(0x4C, &msg);
    let entry = sector * (fat + 1) + 4 * dir;
    msg[entry..entry + 4].copy_from_slice(&(dir as u32).to_le_bytes());
    assert_unscannable("sag.msg", &msg, "OLE");
}

#[test]
fn a_stream_size_past_the_file_is_unscannable() {
    let mut msg = raw("sag.msg");
    // Every directory entry of the first directory sector that is a stream
    // claims 3 GB.
    let sector = sector_size(&msg);
    let start = sector * (at(0x30, &msg) + 1);
    for e in 0..sector / 128 {
        let entry = start + 128 * e;
        if msg[entry + 66] == 2 {
            msg[entry + 120..entry + 124].copy_from_slice(&0xC000_0000u32.to_le_bytes());
        }
    }
    let mail = mail_with("sag.msg", &msg);
    let x = extract(&mail, &Limits::default());
    assert!(!x.unscannable.is_empty(), "{:?}", x.segments);
}

#[test]
fn a_tnef_attribute_claiming_4_gb_is_unscannable() {
    let mut tnef = raw("winmail.dat");
    // The first attribute's length field: signature 4, key 2, level 1, id 4.
    tnef[11..15].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_unscannable("winmail.dat", &tnef, "declares 4294967295 bytes");
}

#[test]
fn truncated_tnef_keeps_what_it_read_and_says_so() {
    let tnef = raw("winmail.dat");
    for cut in [5, 20, tnef.len() / 2, tnef.len() - 1] {
        assert_unscannable("winmail.dat", &tnef[..cut], "only");
    }
}

#[test]
fn truncated_legacy_office_files_are_unscannable() {
    for name in ["notat.doc", "borgere.xls", "oplaeg.ppt"] {
        let file = raw(name);
        for cut in [700, file.len() / 3, file.len() - 600] {
            let mail = mail_with(name, &file[..cut]);
            let started = Instant::now();
            let x = extract(&mail, &Limits::default());
            assert!(started.elapsed() < Duration::from_secs(20), "{name}");
            assert!(
                !x.unscannable.is_empty(),
                "{name} cut at {cut}: nothing reported"
            );
        }
    }
}

#[test]
fn a_forged_word_piece_table_is_bounded() {
    // Every 4-byte word of the file that could be a piece-table length or
    // a character count claims 2^30: reading must stay bounded either way.
    let mut doc = raw("notat.doc");
    let sector = sector_size(&doc);
    let start = sector * (at(0x30, &doc) + 1);
    for o in (start..doc.len().min(start + 4 * sector))
        .step_by(4)
        .skip(1)
        .step_by(7)
    {
        doc[o..o + 4].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    }
    let mail = mail_with("notat.doc", &doc);
    let started = Instant::now();
    let x = extract(&mail, &Limits::default());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!x.unscannable.is_empty(), "{:?}", x.segments);
}
