//! Writes an Outlook item (.msg, MS-OXMSG) for the test fixtures: no tool in
//! Debian writes this format, so it is laid out here with the `cfb` crate's
//! compound-file writer, property by property as Outlook stores them, and
//! checked by an independent reader (Python's extract-msg) in
//! fixtures/gen/make_format_fixtures.py, which calls this:
//!
//!     cargo run -p cpr-milter-core --example make_msg_fixture -- OUT.msg leak|clean
//!
//! The item: a subject, a plain body, one recipient, a CSV attachment and an
//! attached item (a .msg inside the .msg) with its own body.

use std::io::Write;

use cfb::CompoundFile;

type Cf = CompoundFile<std::fs::File>;

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Writes string and binary properties of one storage, and its
/// `__properties_version1.0` stream: `header`, then one entry per property;
/// `fixed` 4-byte properties (tag, value) are stored in the entries.
fn props(
    cf: &mut Cf,
    storage: &str,
    header: &[u8],
    strings: &[(u16, &str)],
    binaries: &[(u16, &[u8])],
    fixed: &[(u32, u32)],
) {
    let mut table = header.to_vec();
    for &(id, s) in strings {
        let data = utf16z(s);
        let tag = (u32::from(id) << 16) | 0x001F;
        let path = format!("{storage}/__substg1.0_{tag:08X}");
        // Outlook stores strings without their terminating NUL.
        cf.create_stream(&path)
            .unwrap()
            .write_all(&data[..data.len() - 2])
            .unwrap();
        for v in [tag, 6, data.len() as u32, 0] {
            table.extend(v.to_le_bytes());
        }
    }
    for &(id, b) in binaries {
        let tag = (u32::from(id) << 16) | 0x0102;
        let path = format!("{storage}/__substg1.0_{tag:08X}");
        cf.create_stream(&path).unwrap().write_all(b).unwrap();
        for v in [tag, 6, b.len() as u32, 0] {
            table.extend(v.to_le_bytes());
        }
    }
    for &(tag, value) in fixed {
        for v in [tag, 6, value, 0] {
            table.extend(v.to_le_bytes());
        }
    }
    cf.create_stream(format!("{storage}/__properties_version1.0"))
        .unwrap()
        .write_all(&table)
        .unwrap();
}

/// Top-level header: reserved, next recipient and attachment ids, counts.
fn top_header(recipients: u32, attachments: u32) -> Vec<u8> {
    let mut h = vec![0u8; 8];
    for v in [recipients, attachments, recipients, attachments] {
        h.extend(v.to_le_bytes());
    }
    h.extend([0u8; 8]);
    h
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (out, leak) = match args.as_slice() {
        [_, out, mode] => (out.clone(), mode == "leak"),
        _ => {
            eprintln!("usage: make_msg_fixture OUT.msg leak|clean");
            std::process::exit(2);
        }
    };
    let (recipient, csv, inner_body) = if leak {
        (
            "Jens Hansen (cpr 241085-1337)",
            "navn;cpr\r\nJens;241085-1337\r\n",
            "Videresendt: borgerens cpr-nummer er 290200-4001.",
        )
    } else {
        (
            "Jens Hansen",
            "navn;telefon\r\nJens;12345678\r\n",
            "Videresendt: ingen personnumre her.",
        )
    };
    let mut cf = cfb::create(&out).unwrap();
    cf.create_storage("/__nameid_version1.0").unwrap();
    for tag in ["00020102", "00030102", "00040102"] {
        cf.create_stream(format!("/__nameid_version1.0/__substg1.0_{tag}"))
            .unwrap();
    }
    props(
        &mut cf,
        "",
        &top_header(1, 2),
        &[
            (0x001A, "IPM.Note"),
            (0x0037, "Sag om borger"),
            (
                0x1000,
                "Hej\r\n\r\nSe vedhæftede liste og den videresendte mail.\r\n",
            ),
            (0x0C1A, "Sagsbehandler"),
            (0x0E04, recipient),
        ],
        &[],
        &[],
    );
    let r = "/__recip_version1.0_#00000000";
    cf.create_storage(r).unwrap();
    props(
        &mut cf,
        r,
        &[0; 8],
        &[
            (0x3001, recipient),
            (0x39FE, "jens@example.com"),
            (0x3003, "jens@example.com"),
            (0x3002, "SMTP"),
        ],
        &[],
        &[(0x0C15_0003, 1)],
    );
    let a = "/__attach_version1.0_#00000000";
    cf.create_storage(a).unwrap();
    props(
        &mut cf,
        a,
        &[0; 8],
        &[
            (0x3707, "liste.csv"),
            (0x3704, "liste.csv"),
            (0x370E, "text/csv"),
        ],
        &[(0x3701, csv.as_bytes())],
        &[(0x3705_0003, 1)],
    );
    let b = "/__attach_version1.0_#00000001";
    cf.create_storage(b).unwrap();
    props(
        &mut cf,
        b,
        &[0; 8],
        &[(0x3001, "Videresendt sag")],
        &[],
        &[(0x3705_0003, 5)],
    );
    let inner = format!("{b}/__substg1.0_3701000D");
    cf.create_storage(&inner).unwrap();
    props(
        &mut cf,
        &inner,
        &[0; 24],
        &[
            (0x001A, "IPM.Note"),
            (0x0037, "Videresendt sag"),
            (0x1000, inner_body),
        ],
        &[],
        &[],
    );
    cf.flush().unwrap();
}
