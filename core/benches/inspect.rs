//! Whole-message inspection (extraction + detection + policy) of a realistic
//! ~1.2 MB mail: text and HTML bodies, DOCX, XLSX and PDF attachments
//! (fixtures/extract/bench-1mb.eml, made by fixtures/gen/make_fixtures.py).
//!
//! Run: cargo bench -p cpr-milter-core --bench inspect

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use cpr_milter_core::extract::{extract, Limits};
use cpr_milter_core::{Envelope, Inspector};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let path = format!(
        "{}/../fixtures/extract/bench-1mb.eml",
        env!("CARGO_MANIFEST_DIR")
    );
    let raw = std::fs::read(&path).expect("benchmark mail");
    let yaml = "listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n";
    let inspector = Inspector::new(cpr_milter_core::config::parse(yaml, "bench").unwrap(), None);
    let env = Envelope {
        client_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        sender: "sagsbehandler@nyborg.dk".into(),
        recipients: vec!["modtager@example.com".into()],
        ..Envelope::default()
    };
    let mut group = c.benchmark_group("whole-message");
    group.throughput(Throughput::Bytes(raw.len() as u64));
    group.sample_size(20);
    group.bench_function("inspect_message 1.2 MB mail", |b| {
        b.iter(|| inspector.inspect_message(black_box(&env), black_box(&raw)))
    });
    let limits = Limits::default();
    group.bench_function("extract only 1.2 MB mail", |b| {
        b.iter(|| extract(black_box(&raw), &limits))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
