#!/usr/bin/env bash
# `cpr-milter report` over LINES generated audit lines in RFC 3164 syslog
# format (mixed with Postfix lines, 1 in 5), plain and gzipped, in one run.
#
#   bench/report-lines.sh [LINES]            (default 1000000)
#
# BENCH_DIR: where the log is written (default target/bench-report).
# RUNS: runs per command (default 5). Needs hyperfine (bench only).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/cpr-milter"
WORK=${BENCH_DIR:-$TARGET/bench-report}
RUNS=${RUNS:-5}
command -v hyperfine >/dev/null || { echo "bench/report-lines.sh needs hyperfine" >&2; exit 2; }
[ -x "$BIN" ] || cargo build --release --bin cpr-milter
mkdir -p "$WORK"
LOG="$WORK/mail.log"
if [ ! -s "$LOG.$LINES" ]; then
    python3 - "$LOG.$LINES" "$LINES" <<'PY'
import random, sys
path, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
rules = [("reject", "cpr.subject"), ("reject", "cpr.body"), ("would-reject", "cpr.body"),
         ("reject", "recipient.lookalike"), ("tempfail", "internal.timeout"),
         ("accept", "content.unscannable")]
with open(path, "w") as f:
    for i in range(n):
        day = 1 + i * 28 // n
        t = f"Nov {day:2d} {i % 24:02d}:{i % 60:02d}:{i % 59:02d} mx1"
        if i % 5 == 4:
            f.write(f"{t} postfix/smtpd[{100 + i % 900}]: connect from unknown[10.0.{i % 250}.{i % 200}]\n")
            continue
        action, rule = r.choice(rules)
        sender = f"user{r.randrange(500)}@nyborg.dk"
        rcpts = ",".join(f"<x{r.randrange(50)}@d{r.randrange(300)}.dk>" for _ in range(r.randrange(1, 4)))
        fp = "".join(r.choice("0123456789abcdef") for _ in range(16))
        f.write(f"{t} cpr-milter[812]: {i:010X}: action={action} rule={rule} stage=eom reply=\"550 5.7.1\" "
                f"from=<{sender}> rcpt={rcpts} client=host[10.1.2.3] auth=jens where=\"attachment:sag.pdf\" "
                f"cpr=2410XX-XXXX confidence=high fingerprint={fp} reason=mod11+hyphen mode=enforce\n")
PY
    gzip -1 -k -c "$LOG.$LINES" > "$LOG.$LINES.gz"
fi
echo "$(wc -l < "$LOG.$LINES") lines, $(stat -c %s "$LOG.$LINES") bytes; $(nproc) cores" >&2
nice -n 19 hyperfine --style basic --runs "$RUNS" --warmup 1 --export-markdown "$WORK/results.md" \
    -n "report (text)" "$BIN report $LOG.$LINES > /dev/null" \
    -n "report --json" "$BIN report --json $LOG.$LINES > /dev/null" \
    -n "report of the gzipped file" "$BIN report $LOG.$LINES.gz > /dev/null" >&2
cat "$WORK/results.md"
