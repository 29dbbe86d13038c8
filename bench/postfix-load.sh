#!/usr/bin/env bash
# Load through a real Postfix, with and without cpr-milter, side by side in
# one run (SMTP client -> private Postfix on 127.0.0.1 -> smtp-sink), so the
# ratios compare like with like on a shared, noisy machine.
#
# Cases (every one with a freshly started milter, so peak RSS is per case):
#   10k      20 sessions x M clean 10 KB mails
#   mix      20 sessions x M mails, every 5th the 1.2 MB fixture with
#            DOCX, XLSX, PDF and HTML (fixtures/extract/bench-1mb.eml)
#   each without the milter, over a unix socket and over loopback TCP; then
#   1mb-50   50 sessions x 4 of the 1.2 MB mail (unix socket): peak RSS
#   worst    8 clients sending worst-case mails (a small PDF whose page
#            content inflates to 8 MiB of drawing operators) while 20
#            sessions x M clean 10 KB mails go through (unix socket)
# Reported: mails/s, ratio to the milter-less rate, milter CPU per mail,
# milter peak RSS (VmHWM), latency p50/p99 of accepted mails (MAIL FROM to
# the reply after the dot) and what the latency adds to the no-milter case.
#
# Every case runs REPEAT times (default 3), the groups interleaved (none,
# unix, inet, none, unix, ...) so drift on a shared machine hits all alike;
# the table gives the median rate, p50 and p99 over the runs, CPU per mail
# over all of them and the highest peak RSS.
#
# Usage: bench/postfix-load.sh [MAILS_PER_SESSION]   (default 25)
#        REPEAT=5 bench/postfix-load.sh 100
#        CPR_MILTER_BIN=/path/to/cpr-milter bench/postfix-load.sh   another build
#        CASES="worst 1mb-50" bench/postfix-load.sh   only those groups
#        (10k, mix, 1mb-50, worst)
# Needs root and Debian's postfix (scripts/test.sh installs it) and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

M=${1:-25}
REPEAT=${REPEAT:-3}
[ "$(id -u)" -eq 0 ] || { echo "run as root (Postfix needs it)" >&2; exit 1; }
command -v smtp-sink >/dev/null || { echo "smtp-sink missing: apt-get install -y postfix" >&2; exit 1; }

# CPR_MILTER_BIN=path runs another build (an older commit, say) instead.
if [ -n "${CPR_MILTER_BIN:-}" ]; then
    BIN=$CPR_MILTER_BIN
else
    cargo build --release --quiet
    BIN="${CARGO_TARGET_DIR:-target}/release/cpr-milter"
fi

WORK=$(mktemp -d /tmp/cpr-load.XXXXXX)
chmod 755 "$WORK"
PIDS=()
MILTER_PID=
cleanup() {
    postfix -c "$WORK/etc" stop >/dev/null 2>&1 || true
    [ -n "$MILTER_PID" ] && kill "$MILTER_PID" 2>/dev/null || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

SMTP_PORT=$(free_port); SINK_PORT=$(free_port); MILTER_PORT=$(free_port)
mkdir -p "$WORK"/{etc,queue,data,mails}
chown postfix:postfix "$WORK/data"
python3 bench/make_load_mails.py "$WORK/mails" 8
cp fixtures/extract/bench-1mb.eml "$WORK/mails/mix-1mb.eml"

# As root smtp-sink refuses to start without -u; without a sink every mail
# is deferred and Postfix's retries load the machine during the runs.
smtp-sink -u postfix -c 127.0.0.1:"$SINK_PORT" 256 >"$WORK/sink.log" 2>&1 &
PIDS+=($!)
wait_port "$SINK_PORT" || { cat "$WORK/sink.log" >&2; exit 1; }

# Debian's master.cf with smtpd moved to our port and chroot off.
awk -v port="$SMTP_PORT" '
    /^#/ || /^[ \t]/ || NF == 0 { print; next }
    $2 == "inet" { if ($1 == "smtp" && !done) { $1 = "127.0.0.1:" port; $5 = "n"; done = 1; print } ; next }
    { $5 = "n"; print }' /etc/postfix/master.cf > "$WORK/etc/master.cf"

write_main_cf() {
    cat > "$WORK/etc/main.cf" <<CF
compatibility_level = 3.6
myhostname = load.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
queue_directory = $WORK/queue
data_directory = $WORK/data
maillog_file = $WORK/maillog
maillog_file_prefixes = $WORK
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$SINK_PORT
smtp_tls_security_level = none
smtpd_milters = $1
milter_protocol = 6
milter_default_action = tempfail
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_connection_rate_limit = 0
message_size_limit = 67108864
default_process_limit = 150
CF
}

cat > "$WORK/milter-unix.yaml" <<CF
listen: unix:$WORK/milter.sock
organisation:
  domains: [nyborg.dk]
log:
  destination: stderr
CF
sed "s#^listen:.*#listen: inet:127.0.0.1:$MILTER_PORT#" "$WORK/milter-unix.yaml" > "$WORK/milter-inet.yaml"

start_milter() { # unix|inet
    "$BIN" run --config "$WORK/milter-$1.yaml" 2>>"$WORK/milter.log" &
    MILTER_PID=$!
    if [ "$1" = unix ]; then
        for _ in $(seq 200); do [ -S "$WORK/milter.sock" ] && break; sleep 0.1; done
        chmod 666 "$WORK/milter.sock"
    else
        wait_port "$MILTER_PORT"
    fi
}

stop_milter() {
    if [ -n "$MILTER_PID" ]; then
        kill "$MILTER_PID" 2>/dev/null || true
        wait "$MILTER_PID" 2>/dev/null || true
        MILTER_PID=
    fi
}

# Milter CPU seconds (user + system) and peak RSS in KiB.
milter_cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$MILTER_PID/stat"; }
milter_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$MILTER_PID/status"; }

# run_case NAME WORKLOAD MILTER(none|unix|inet) SESSIONS PER_SESSION FILE [EVERY:FILE2]
run_case() {
    local name=$1 workload=$2 via=$3; shift 3
    local milters=""
    case $via in
        unix) start_milter unix; milters="unix:$WORK/milter.sock" ;;
        inet) start_milter inet; milters="inet:127.0.0.1:$MILTER_PORT" ;;
    esac
    write_main_cf "$milters"
    postfix -c "$WORK/etc" start >/dev/null 2>&1
    wait_port "$SMTP_PORT"
    local cpu0=0 cpu1=0 hwm=0 result
    [ "$via" = none ] || cpu0=$(milter_cpu)
    result=$(python3 bench/smtp_load.py "$SMTP_PORT" "$@")
    if [ "$via" != none ]; then cpu1=$(milter_cpu); hwm=$(milter_hwm); fi
    postfix -c "$WORK/etc" stop >/dev/null 2>&1
    stop_milter
    sleep 1
    echo "{\"case\": \"$name\", \"workload\": \"$workload\", \"via\": \"$via\", \"cpu\": $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }'), \"hwm_kib\": $hwm, \"load\": $result}" >>"$WORK/results.jsonl"
    echo "$name: $result" >&2
}

# The worst case: 8 clients with worst-case mail in the background while
# legitimate mail is measured.
run_worst() {
    start_milter unix
    write_main_cf "unix:$WORK/milter.sock"
    postfix -c "$WORK/etc" start >/dev/null 2>&1
    wait_port "$SMTP_PORT"
    local cpu0 cpu1 hwm legit worst
    cpu0=$(milter_cpu)
    python3 bench/smtp_load.py "$SMTP_PORT" 8 "$((M / 2 + 1))" "$WORK/mails/worst.eml" >"$WORK/worst.json" &
    local bg=$!
    sleep 2
    legit=$(python3 bench/smtp_load.py "$SMTP_PORT" 20 "$M" "$WORK/mails/clean-10k.eml")
    wait "$bg"
    worst=$(cat "$WORK/worst.json")
    cpu1=$(milter_cpu); hwm=$(milter_hwm)
    postfix -c "$WORK/etc" stop >/dev/null 2>&1
    stop_milter
    echo "{\"case\": \"worst\", \"workload\": \"10k + 8 worst-case clients\", \"via\": \"unix\", \"cpu\": $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }'), \"hwm_kib\": $hwm, \"load\": $legit, \"worst\": $worst}" >>"$WORK/results.jsonl"
    echo "worst: legit $legit; worst-case clients $worst" >&2
}

CASES=${CASES:-10k mix 1mb-50 worst}
want() { [[ " $CASES " == *" $1 "* ]]; }

echo "load: M=$M mails per session, $REPEAT runs per case; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for _ in $(seq "$REPEAT"); do
    if want 10k || want worst; then
        for via in none unix inet; do
            { want 10k || [ "$via" = none ]; } || continue
            run_case "10k/$via" "20 x $M x 10 KB" "$via" 20 "$M" "$WORK/mails/clean-10k.eml"
        done
    fi
    if want mix; then
        for via in none unix inet; do
            run_case "mix/$via" "20 x $M, every 5th 1.2 MB Office/PDF" "$via" 20 "$M" "$WORK/mails/clean-10k.eml" "5:$WORK/mails/mix-1mb.eml"
        done
    fi
    want 1mb-50 && run_case "1mb-50/unix" "50 x 4 x 1.2 MB Office/PDF" unix 50 4 "$WORK/mails/mix-1mb.eml"
    want worst && run_worst
done

python3 - "$WORK/results.jsonl" "$REPEAT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"(medians of {sys.argv[2]} runs per case)")
def done(l):
    return l["accepted"] + l["tempfailed"] + l["rejected"]
def rate(l):
    return done(l) / l["seconds"] if l["seconds"] else 0
def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
# One summary per case name, in the order the cases first ran.
cases = {}
for r in rows:
    cases.setdefault(r["case"], []).append(r)
def summary(runs, key="load"):
    loads = [r[key] for r in runs]
    return {
        "rate": med([rate(l) for l in loads]),
        "p50": med([l["p50_ms"] for l in loads]),
        "p99": med([l["p99_ms"] for l in loads]),
        "done": sum(done(l) for l in loads),
        "counts": [sum(l[k] for l in loads) for k in ("accepted", "tempfailed", "rejected", "errors")],
    }
base = {runs[0]["workload"]: summary(runs) for name, runs in cases.items() if runs[0]["via"] == "none"}
def fmt(v, unit=""):
    return "–" if v is None else f"{v:.1f}{unit}"
print("| case | workload | milter | mails/s | ratio | milter CPU/mail | milter peak RSS | p50 | p99 | added p50 / p99 | 250 / 4xx / 5xx / err |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for name, runs in cases.items():
    first = runs[0]
    s = summary(runs)
    b = base.get(first["workload"])
    if name == "worst":
        b = base.get(next((r["workload"] for r in rows if r["case"] == "10k/none"), None))
    ratio = added = "–"
    if b and first["via"] != "none":
        ratio = f"{s['rate'] / b['rate']:.2f}"
        if s["p50"] is not None and b["p50"] is not None:
            added = f"{s['p50'] - b['p50']:+.1f} / {s['p99'] - b['p99']:+.1f} ms"
    cpu_total = sum(r["cpu"] for r in runs)
    cpu = "–" if first["via"] == "none" or not s["done"] else f"{cpu_total / s['done'] * 1000:.2f} ms"
    rss = "–" if first["via"] == "none" else f"{max(r['hwm_kib'] for r in runs) / 1024:.1f} MB"
    counts = " / ".join(str(c) for c in s["counts"])
    print(f"| {name} | {first['workload']} | {first['via']} | {s['rate']:.1f} | {ratio} | {cpu} | {rss} | {fmt(s['p50'], ' ms')} | {fmt(s['p99'], ' ms')} | {added} | {counts} |")
    if "worst" in first:
        w = summary(runs, "worst")
        counts = " / ".join(str(c) for c in w["counts"])
        print(f"| worst (the 8 clients) | worst-case PDF mails | unix | – | – | – | – | {fmt(w['p50'], ' ms')} | {fmt(w['p99'], ' ms')} | – | {counts} |")
PY
