#!/bin/sh
# OCR cost: Tesseract on one scanned page (images per second = 1 / median)
# and `cpr-milter scan` latency on a mail with three scanned pages, as PNG
# attachments and as one scanned PDF, with OCR on and off
# (bench/make_ocr_mail.py writes the inputs). The daemon spends what scan
# spends minus process start (the OCR-off run). Needs scripts/install-ocr.sh
# and hyperfine. BIN overrides the binary (default: the release build).
# BENCH_NICE=19 runs it under nice.
# Run from the repository root; figures go in BENCHMARKS.md.
set -eu
cargo build --release -q
bin=${BIN:-target/release/cpr-milter}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 bench/make_ocr_mail.py "$out"
printf 'listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\nocr:\n  enabled: true\n' >"$out/on.yaml"
printf 'listen: inet:127.0.0.1:8899\norganisation:\n  domains: [nyborg.dk]\n' >"$out/off.yaml"
# scan exits 1 on a rejection: -i keeps hyperfine going.
nice -n "${BENCH_NICE:-0}" hyperfine -N -i --warmup 2 --runs 15 --export-json "$out/ocr.json" \
    "env OMP_THREAD_LIMIT=1 tesseract $out/page-3.png stdout -l dan+eng" \
    "$bin scan -c $out/on.yaml $out/scan3.eml" \
    "$bin scan -c $out/off.yaml $out/scan3.eml" \
    "$bin scan -c $out/on.yaml $out/scanpdf3.eml" \
    "$bin scan -c $out/off.yaml $out/scanpdf3.eml"
# Medians (hyperfine's summary shows means).
python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%8.1f ms  median  %s" % (r["median"] * 1000, r["command"].replace(sys.argv[2] + "/", "")))' "$out/ocr.json" "$out"
