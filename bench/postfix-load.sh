#!/usr/bin/env bash
# Messages per second through a real Postfix, with and without cpr-milter:
#   smtp-source -> Postfix (private instance on 127.0.0.1) -> smtp-sink
# Three runs in one go, so the ratios compare like with like on a shared,
# noisy machine: no milter, milter on a unix socket, milter on loopback TCP.
#
# Usage: bench/postfix-load.sh [MESSAGES] [SESSIONS] [SIZE_BYTES]
# Needs root and Debian's postfix (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MESSAGES=${1:-2000}
SESSIONS=${2:-8}
SIZE=${3:-4096}
[ "$(id -u)" -eq 0 ] || { echo "run as root (Postfix needs it)" >&2; exit 1; }
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install -y postfix" >&2; exit 1; }

TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
BIN="$TARGET/release/cpr-milter"

WORK=$(mktemp -d /tmp/cpr-load.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    postfix -c "$WORK/etc" stop >/dev/null 2>&1 || true
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; return 1; }

SMTP_PORT=$(free_port); SINK_PORT=$(free_port); MILTER_PORT=$(free_port)
mkdir -p "$WORK"/{etc,queue,data}
chown postfix:postfix "$WORK/data"

smtp-sink -c 127.0.0.1:"$SINK_PORT" 256 >/dev/null 2>&1 &
PIDS+=($!)

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
default_process_limit = 100
CF
}

cat > "$WORK/milter.yaml" <<CF
listen: unix:$WORK/milter.sock
organisation:
  domains: [nyborg.dk]
log:
  destination: stderr
CF
sed "s#^listen:.*#listen: inet:127.0.0.1:$MILTER_PORT#" "$WORK/milter.yaml" > "$WORK/milter-inet.yaml"

run_case() { # name smtpd_milters
    write_main_cf "$2"
    postfix -c "$WORK/etc" start >/dev/null 2>&1
    wait_port "$SMTP_PORT"
    local start end
    start=$(date +%s.%N)
    smtp-source -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f jens@nyborg.dk -t sag@partner.example 127.0.0.1:"$SMTP_PORT"
    end=$(date +%s.%N)
    postfix -c "$WORK/etc" stop >/dev/null 2>&1
    sleep 1
    local rejected
    rejected=$(grep -c 'milter-reject' "$WORK/maillog" 2>/dev/null || true)
    python3 - "$1" "$start" "$end" "$MESSAGES" "$rejected" <<'PY'
import sys
name, s, e, n, rej = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"{name:<22} {n} messages in {e-s:6.2f} s = {n/(e-s):8.1f} msg/s   ({(e-s)/n*1000:.2f} ms/msg; milter rejects so far: {rej})")
PY
}

echo "smtp-source: $MESSAGES messages of $SIZE bytes over $SESSIONS parallel sessions"
run_case "no milter" ""

"$BIN" run --config "$WORK/milter.yaml" 2>"$WORK/milter.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$WORK/milter.sock" ] && break; sleep 0.1; done
chmod 666 "$WORK/milter.sock"
run_case "milter (unix socket)" "unix:$WORK/milter.sock"

"$BIN" run --config "$WORK/milter-inet.yaml" 2>"$WORK/milter-inet.log" &
PIDS+=($!)
wait_port "$MILTER_PORT"
run_case "milter (inet loopback)" "inet:127.0.0.1:$MILTER_PORT"
