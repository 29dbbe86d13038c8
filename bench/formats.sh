#!/bin/sh
# Extraction speed of the Outlook and legacy Office readers against the
# reference tools on the same files (fixtures/extract/fmt-raw/):
#   cargo bench (criterion, in process) for cpr-milter's readers, and
#   hyperfine for catdoc, xls2csv, catppt, tnef and pdftotext, and for
#   `cpr-milter scan` on the mail carrying each file (process start
#   included, like the tools). The PDF is the 20-page one of the 1.2 MB
#   bench mail, taken out of it into a mail of its own.
# BENCH_NICE=19 runs everything under nice (default 0: run it on a quiet
# machine, or beside only niced work).
# Run from the repository root; figures go in BENCHMARKS.md.
set -eu
raw=fixtures/extract/fmt-raw
n=${BENCH_NICE:-0}
nice -n "$n" cargo bench -p cpr-milter-core --bench formats
cargo build --release -q
bin=target/release/cpr-milter
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - fixtures/extract/bench-1mb.eml "$out" <<'PY'
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for part in msg.iter_attachments():
    if part.get_content_type() == "application/pdf":
        pdf = part.get_content()
        open(f"{sys.argv[2]}/bench.pdf", "wb").write(pdf)
        single = email.message.EmailMessage()
        single["From"] = "a@nyborg.dk"
        single["To"] = "b@example.com"
        single["Subject"] = "pdf"
        single.add_attachment(pdf, maintype="application", subtype="pdf", filename="bench.pdf")
        open(f"{sys.argv[2]}/pdf.eml", "wb").write(single.as_bytes())
PY
nice -n "$n" hyperfine -N -i --warmup 3 --runs 30 --export-markdown "$out/ref.md" \
    "catdoc $raw/notat.doc" \
    "xls2csv $raw/borgere.xls" \
    "catppt $raw/oplaeg.ppt" \
    "tnef -t $raw/winmail.dat" \
    "pdftotext $out/bench.pdf $out/bench.txt" \
    "$bin scan fixtures/extract/fmt-doc.eml" \
    "$bin scan fixtures/extract/fmt-xls.eml" \
    "$bin scan fixtures/extract/fmt-ppt.eml" \
    "$bin scan fixtures/extract/fmt-tnef.eml" \
    "$bin scan fixtures/extract/fmt-msg.eml" \
    "$bin scan $out/pdf.eml"
cat "$out/ref.md"
ls -l "$raw" "$out/bench.pdf"
