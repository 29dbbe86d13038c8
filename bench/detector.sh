#!/usr/bin/env bash
# Times `cpr-milter scan` of a mail whose body is a 64 MiB prose-like corpus
# against ripgrep's bare regex count on the same text, in the same run, and
# prints the ratio. Deterministic corpus (seed 42): Danish/English prose with
# dates, prices, times, phone numbers, order numbers and a sprinkling of
# ten-digit numbers. (At 64 MiB the random `ref DDDDDD-DDDD` numbers include
# dozens that pass date and mod-11 checks by chance, so the verdict is a
# reject by the two-distinct-MEDIUM rule; the timing is what matters here.)
#
#   bench/detector.sh [SIZE_MIB]        (default 64)
#
# Honours CARGO_TARGET_DIR (default: target). Builds the release binary if
# it is missing. Uses hyperfine when installed, else repeated runs + median.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-64}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/cpr-milter"
WORK=${BENCH_DIR:-$(mktemp -d)}
RUNS=${RUNS:-7}
mkdir -p "$WORK"
[ -x "$BIN" ] || cargo build --release --bin cpr-milter

python3 - "$WORK" "$SIZE_MIB" <<'PY'
import random, sys
work, size = sys.argv[1], int(sys.argv[2]) << 20
r = random.Random(42)
words = ("og i at det er en til på som de med for af ikke der var kommune borger ansøgning "
         "sagsbehandler møde afgørelse bevilling venlig hilsen vedrørende bolig støtte børnehave "
         "skole rådhuset torsdag fredag måned regarding meeting invoice please attached report "
         "Søren Åse Østergade").split()
out, n = [], 0
while n < size:
    k = r.randrange(40)
    if k == 0:   t = "%02d.%02d.%d " % (1 + r.randrange(28), 1 + r.randrange(12), 1990 + r.randrange(40))
    elif k == 1: t = "%d.%03d,%02d kr. " % (r.randrange(100), r.randrange(1000), r.randrange(100))
    elif k == 2: t = "tlf. %02d %02d %02d %02d " % tuple(r.randrange(100) for _ in range(4))
    elif k == 3: t = "kl. %d.%02d–%d.%02d " % (8 + r.randrange(4), r.randrange(60), 12 + r.randrange(4), r.randrange(60))
    elif k == 4: t = "ordre %d-%06d " % (2020 + r.randrange(6), r.randrange(1000000))
    elif k == 5 and r.randrange(8) == 0: t = "nr. %010d " % r.randrange(10**10)
    elif k == 6 and r.randrange(8) == 0: t = "ref %06d-%04d " % (r.randrange(10**6), r.randrange(10**4))
    elif k == 7: t = ".\n"
    else: t = r.choice(words) + " "
    out.append(t)
    n += len(t.encode())
body = "".join(out)
open(work + "/corpus.txt", "w", encoding="utf-8").write(body)
hdr = ("From: sagsbehandler@nyborg.dk\r\nTo: modtager@example.org\r\nSubject: Rapport\r\n"
       "Message-ID: <bench@nyborg.dk>\r\nDate: Mon, 24 Nov 2025 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
open(work + "/mail.eml", "w", encoding="utf-8", newline="").write(hdr + body.replace("\n", "\r\n"))
PY

# The mail is a little over the default 64 MiB max_message_bytes: raise it so
# the message is really inspected (not reported unscannable).
cat > "$WORK/bench.yaml" <<'YAML'
listen: inet:127.0.0.1:8899
organisation:
  domains: [nyborg.dk]
limits:
  max_message_bytes: 268435456
  max_uncompressed_bytes: 536870912
YAML

BYTES=$(stat -c %s "$WORK/corpus.txt")
echo "corpus: $WORK/corpus.txt ($BYTES bytes), mail: $WORK/mail.eml"
echo "scan verdict: $("$BIN" scan -c "$WORK/bench.yaml" "$WORK/mail.eml" 2>&1 | head -n 3 || true)"
echo "rg count:     $(rg -c '(?-u:\b)\d{6}[- ]?\d{4}(?-u:\b)' "$WORK/corpus.txt" || true)"

SCAN_CMD="$BIN scan -c $WORK/bench.yaml $WORK/mail.eml"
RG_CMD="rg -c '(?-u:\\b)\\d{6}[- ]?\\d{4}(?-u:\\b)' $WORK/corpus.txt"

if command -v hyperfine >/dev/null; then
    hyperfine -N -i --warmup 2 --runs "$RUNS" --export-json "$WORK/hyperfine.json" \
        -n "cpr-milter scan" "$SCAN_CMD" -n "rg -c" "$RG_CMD"
    python3 - "$WORK/hyperfine.json" "$BYTES" <<'PY'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
b = int(sys.argv[2]); s, g = res["cpr-milter scan"], res["rg -c"]
print(f"median: scan {s*1e3:.1f} ms ({b/s/1e9:.2f} GB/s), rg {g*1e3:.1f} ms ({b/g/1e9:.2f} GB/s)")
print(f"ratio scan/rg = {s/g:.2f} ({'scan faster' if s < g else 'rg faster'})")
PY
else
    python3 - "$BIN" "$WORK" "$BYTES" "$RUNS" <<'PY'
import subprocess, sys, time, statistics
bin_, work, b, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cmds = {"cpr-milter scan": [bin_, "scan", "-c", work + "/bench.yaml", work + "/mail.eml"],
        "rg -c": ["rg", "-c", r"(?-u:\b)\d{6}[- ]?\d{4}(?-u:\b)", work + "/corpus.txt"]}
med = {}
for name, cmd in cmds.items():
    ts = []
    for i in range(runs + 1):
        t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); ts.append(time.perf_counter() - t)
    med[name] = statistics.median(ts[1:])
s, g = med["cpr-milter scan"], med["rg -c"]
print(f"median of {runs}: scan {s*1e3:.1f} ms ({b/s/1e9:.2f} GB/s), rg {g*1e3:.1f} ms ({b/g/1e9:.2f} GB/s)")
print(f"ratio scan/rg = {s/g:.2f} ({'scan faster' if s < g else 'rg faster'})")
PY
fi
