#!/usr/bin/env bash
# `cpr-milter scan` over a large archive built from the real-mail corpus
# repeated to SIZE_MB, as one mbox and as a Maildir (hard links into cur/),
# on one core and on all cores, against ripgrep counting the naive CPR regex
# on the same files, all in one run. Prints a table with medians, MB/s and
# ratios (paste it into BENCHMARKS.md).
#
#   bench/archive-scan.sh [SIZE_MB]          (default 1024)
#
# CPR_MILTER_CORPUS: the corpus directory (default ../shared/corpus/realmail).
# BENCH_DIR: where the archive is built (default target/bench-archive; it is
# reused when already complete). RUNS: runs per command (default 3).
# Needs hyperfine and rg (bench only); builds the release binary if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${1:-1024}
CORPUS=${CPR_MILTER_CORPUS:-../shared/corpus/realmail}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/cpr-milter"
WORK=${BENCH_DIR:-$TARGET/bench-archive}
RUNS=${RUNS:-3}
for tool in hyperfine rg python3; do
    command -v "$tool" >/dev/null || { echo "bench/archive-scan.sh needs $tool" >&2; exit 2; }
done
[ -d "$CORPUS" ] || { echo "no corpus at $CORPUS (set CPR_MILTER_CORPUS)" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release --bin cpr-milter
mkdir -p "$WORK"

python3 - "$CORPUS" "$WORK" "$SIZE_MB" <<'PY'
import os, re, sys
corpus, work, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = size_mb * 1_000_000
done = os.path.join(work, f"built-{size_mb}")
if os.path.exists(done):
    sys.exit(0)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs if f.endswith(".eml"))
quoted = re.compile(rb"^(>*From )", re.M)
mbox_path = os.path.join(work, "archive.mbox")
maildir = os.path.join(work, "Maildir")
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
written, rep = 0, 0
with open(mbox_path, "wb") as mbox:
    while written < want:
        for i, path in enumerate(files):
            data = open(path, "rb").read()
            body = quoted.sub(rb">\1", data)  # mboxrd quoting
            if not body.endswith(b"\n"):
                body += b"\n"
            mbox.write(b"From bench@localhost Tue Dec  1 10:00:00 2026\n" + body + b"\n")
            link = os.path.join(maildir, "cur", f"{rep:04d}.{i:05d}.bench:2,S")
            if not os.path.exists(link):
                os.link(path, link)
            written += len(data)
        rep += 1
open(done, "w").write(f"{rep} repetitions of {len(files)} files\n")
print(f"built {written/1e6:.0f} MB: {rep} x {len(files)} messages", file=sys.stderr)
PY

MBOX="$WORK/archive.mbox"
MAILDIR="$WORK/Maildir"
BYTES=$(stat -c %s "$MBOX")
MESSAGES=$(find "$MAILDIR/cur" -type f | wc -l)
MAILDIR_BYTES=$(find "$MAILDIR/cur" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
REGEX='[0-9]{6}-?[0-9]{4}'
echo "archive: $BYTES bytes as mbox, $MESSAGES messages; $(nproc) cores" >&2
JSON="$WORK/results.json"
# scan exits 1 when it finds mail it would reject; -i keeps hyperfine going.
nice -n 19 hyperfine -i --style basic --runs "$RUNS" --warmup 1 --export-json "$JSON" \
    -n "scan mbox, 1 core" "$BIN scan -q -j 1 $MBOX > /dev/null" \
    -n "scan mbox, all cores" "$BIN scan -q $MBOX > /dev/null" \
    -n "rg -c mbox" "rg -c '$REGEX' $MBOX > /dev/null" \
    -n "scan Maildir, 1 core" "$BIN scan -q -j 1 $MAILDIR > /dev/null" \
    -n "scan Maildir, all cores" "$BIN scan -q $MAILDIR > /dev/null" \
    -n "rg -c Maildir, 1 thread" "rg -j 1 -c '$REGEX' $MAILDIR > /dev/null" \
    -n "rg -c Maildir, all threads" "rg -c '$REGEX' $MAILDIR > /dev/null" >&2

python3 - "$JSON" "$BYTES" "$MAILDIR_BYTES" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
mbox_size, maildir_size = int(sys.argv[2]), int(sys.argv[3])
by = {r["command"]: r["median"] for r in results}
print("| command | median | MB/s | vs rg -c on the same files |")
print("|---|---|---|---|")
for r in results:
    name, med = r["command"], r["median"]
    rg = by["rg -c mbox"] if "mbox" in name else by["rg -c Maildir, all threads"]
    if med >= rg:
        ratio = f"{med / rg:.1f}x the time"
    else:
        ratio = f"{rg / med:.1f}x faster"
    size = mbox_size if "mbox" in name else maildir_size
    print(f"| {name} | {med:.2f} s | {size / med / 1e6:.0f} | {ratio} |")
PY
