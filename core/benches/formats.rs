//! Extraction of each format read since the first fixture set, per
//! attached file: the Outlook item, winmail.dat and the Word, Excel and
//! PowerPoint 97-2003 files of fixtures/extract/fmt-*.eml (made by
//! fixtures/gen/make_format_fixtures.py). Throughput is the size of the
//! attached file; bench/formats.sh runs this and the reference tools
//! (catdoc, xls2csv, catppt, tnef) on the same files.
//!
//! Run: cargo bench -p cpr-milter-core --bench formats

use std::hint::black_box;

use cpr_milter_core::extract::{extract, Limits};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Mail fixture and the attached file it carries (in fmt-raw/).
const CASES: &[(&str, &str)] = &[
    ("fmt-msg.eml", "sag.msg"),
    ("fmt-tnef.eml", "winmail.dat"),
    ("fmt-doc.eml", "notat.doc"),
    ("fmt-xls.eml", "borgere.xls"),
    ("fmt-ppt.eml", "oplaeg.ppt"),
];

fn bench(c: &mut Criterion) {
    let dir = format!("{}/../fixtures/extract", env!("CARGO_MANIFEST_DIR"));
    let limits = Limits::default();
    let mut group = c.benchmark_group("formats");
    group.sample_size(30);
    for (mail, file) in CASES {
        let raw = std::fs::read(format!("{dir}/{mail}")).expect("fixture mail");
        let size = std::fs::metadata(format!("{dir}/fmt-raw/{file}"))
            .expect("raw fixture")
            .len();
        group.throughput(Throughput::Bytes(size));
        group.bench_function(*file, |b| b.iter(|| extract(black_box(&raw), &limits)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
