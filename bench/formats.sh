#!/bin/sh
# Extraction speed of the Outlook and legacy Office readers against the
# reference tools on the same files (fixtures/extract/fmt-raw/):
#   cargo bench (criterion, in process) for cpr-milter's readers, and
#   hyperfine for catdoc, xls2csv, catppt and tnef, and for
#   `cpr-milter scan` on the mail carrying each file (process start
#   included, like the tools).
# Run from the repository root; figures go in BENCHMARKS.md.
set -eu
raw=fixtures/extract/fmt-raw
nice -n 19 cargo bench -p cpr-milter-core --bench formats
cargo build --release -q
bin=target/release/cpr-milter
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
nice -n 19 hyperfine -N -i --warmup 3 --runs 30 --export-markdown "$out/ref.md" \
    "catdoc $raw/notat.doc" \
    "xls2csv $raw/borgere.xls" \
    "catppt $raw/oplaeg.ppt" \
    "tnef -t $raw/winmail.dat" \
    "$bin scan fixtures/extract/fmt-doc.eml" \
    "$bin scan fixtures/extract/fmt-xls.eml" \
    "$bin scan fixtures/extract/fmt-ppt.eml" \
    "$bin scan fixtures/extract/fmt-tnef.eml" \
    "$bin scan fixtures/extract/fmt-msg.eml"
cat "$out/ref.md"
ls -l "$raw"
