//! Detector throughput on generated prose-like Danish text with dates,
//! prices, phone numbers, order numbers and a sprinkling of ten-digit
//! numbers (none of them a reject). Run: `cargo bench -p cpr-milter-core
//! --bench detector`.

use cpr_milter_core::cpr::validate::Date;
use cpr_milter_core::cpr::{Detector, DetectorSettings};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// Small deterministic generator (xorshift64*), so every run scans the same
/// text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "og",
    "i",
    "at",
    "det",
    "er",
    "en",
    "til",
    "på",
    "som",
    "de",
    "med",
    "for",
    "af",
    "ikke",
    "der",
    "var",
    "kommune",
    "borger",
    "ansøgning",
    "sagsbehandler",
    "møde",
    "afgørelse",
    "bevilling",
    "venlig",
    "hilsen",
    "vedrørende",
    "bolig",
    "støtte",
    "børnehave",
    "skole",
    "rådhuset",
    "torsdag",
    "fredag",
    "måned",
    "regarding",
    "meeting",
    "invoice",
    "please",
    "attached",
    "report",
    "Søren",
    "Åse",
    "Østergade",
];

/// About `size` bytes of prose-like text.
pub fn corpus(size: usize, seed: u64) -> String {
    let mut r = Rng(seed | 1);
    let mut s = String::with_capacity(size + 256);
    while s.len() < size {
        match r.below(40) {
            0 => s.push_str(&format!(
                "{:02}.{:02}.{} ",
                1 + r.below(28),
                1 + r.below(12),
                1990 + r.below(40)
            )),
            1 => s.push_str(&format!(
                "{}.{:03},{:02} kr. ",
                r.below(100),
                r.below(1000),
                r.below(100)
            )),
            2 => s.push_str(&format!(
                "tlf. {:02} {:02} {:02} {:02} ",
                r.below(100),
                r.below(100),
                r.below(100),
                r.below(100)
            )),
            3 => s.push_str(&format!(
                "kl. {}.{:02}–{}.{:02} ",
                8 + r.below(4),
                r.below(60),
                12 + r.below(4),
                r.below(60)
            )),
            4 => s.push_str(&format!(
                "ordre {}-{:06} ",
                2020 + r.below(6),
                r.below(1_000_000)
            )),
            5 if r.below(8) == 0 => s.push_str(&format!("nr. {:010} ", r.below(10_000_000_000))),
            6 if r.below(8) == 0 => s.push_str(&format!(
                "ref {:06}-{:04} ",
                r.below(1_000_000),
                r.below(10_000)
            )),
            7 => s.push_str(".\n"),
            _ => {
                s.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
                s.push(' ');
            }
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let detector = Detector::new(DetectorSettings {
        today: Date::new(2026, 11, 23),
        ..Default::default()
    });
    let text = corpus(8 << 20, 42);
    let ascii: String = text.replace(['ø', 'å', 'æ', 'Ø', 'Å', 'Æ', '–'], "o");
    let mut g = c.benchmark_group("detector");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.sample_size(20);
    g.bench_function("scan_prose_8MiB", |b| {
        b.iter(|| black_box(detector.scan(black_box(&text))))
    });
    g.throughput(Throughput::Bytes(ascii.len() as u64));
    g.bench_function("scan_prose_ascii_8MiB", |b| {
        b.iter(|| black_box(detector.scan(black_box(&ascii))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
