#!/usr/bin/env bash
# Fuzz one target, or every target in turn, for SECONDS each.
#
#   scripts/fuzz.sh TARGET SECONDS     e.g. scripts/fuzz.sh reader_pdf 600
#   scripts/fuzz.sh all SECONDS        every target, one after the other
#   scripts/fuzz.sh list               the target names
#
# Installs cargo-fuzz when missing and runs it on the stable toolchain
# (RUSTC_BOOTSTRAP=1 unlocks the sanitizer flags it needs). Seeds: the
# committed set in fuzz/seeds/, the fixtures, and the real-mail corpus when
# present (CPR_MILTER_CORPUS, default ../shared/corpus/realmail beside the
# repository), copied into fuzz/corpus/TARGET (not committed). Crashes land
# in fuzz/artifacts/TARGET/; fuzzing goes on past them (-fork=1
# -ignore_crashes=1) so one known crash does not end a long run. A summary
# line per run (target, seconds, executions, crashes) is appended to
# fuzz/logs/runs.tsv. Run it under `nice -n 19` on a shared machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
export RUSTC_BOOTSTRAP=1

targets() {
    sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -v '^cpr-milter-fuzz$'
}

usage() {
    echo "usage: $0 TARGET|all SECONDS   (targets: $(targets | tr '\n' ' '))" >&2
    exit 2
}

install_tools() {
    if ! command -v cargo-fuzz >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo-fuzz" ]; then
        cargo install --locked cargo-fuzz
    fi
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! command -v python3 >/dev/null 2>&1; then
        apt-get update
        apt-get -o DPkg::Lock::Timeout=600 install -y python3
    fi
}

# Seeds for every target, rebuilt from scratch each run (the corpus dirs keep
# what the fuzzer found on top).
seed() {
    local max_bytes=262144 corpus="${CPR_MILTER_CORPUS:-$root/../shared/corpus/realmail}"
    # One staging directory per run, so two runs side by side (one per core)
    # do not remove each other's seeds.
    local staging="$fuzz/corpus/.seeds.$$"
    rm -rf "$staging"
    mkdir -p "$staging"
    cp -r "$fuzz/seeds/." "$staging/"
    local files=("$root"/fixtures/extract/*.eml)
    python3 "$fuzz/seeds.py" "$staging" "$max_bytes" "${files[@]}"
    if [ -d "$corpus" ]; then
        find "$corpus" -type f -size -"$((max_bytes / 1024))"k ! -name '*.md' ! -name '*.tsv' -print0 |
            xargs -0 -r python3 "$fuzz/seeds.py" "$staging" "$max_bytes"
    else
        echo "fuzz.sh: no real-mail corpus at $corpus; seeding from the fixtures only" >&2
    fi
    for t in $(targets); do
        mkdir -p "$fuzz/corpus/$t"
        if [ -d "$staging/$t" ]; then
            cp -n "$staging/$t"/* "$fuzz/corpus/$t/" 2>/dev/null || true
        fi
    done
    rm -rf "$staging"
}

run_one() {
    local target=$1 seconds=$2
    mkdir -p "$fuzz/artifacts/$target" "$fuzz/logs"
    local log="$fuzz/logs/$target.$(date -u +%Y%m%dT%H%M%S).log"
    local before after
    before=$(find "$fuzz/artifacts/$target" -type f | wc -l)
    local started=$SECONDS
    echo "fuzz.sh: $target for $seconds s (log $log)" >&2
    (cd "$fuzz" && cargo fuzz run -O "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -timeout=60 -rss_limit_mb=4096 -max_len=262144 \
        -artifact_prefix="artifacts/$target/") >"$log" 2>&1 || true
    after=$(find "$fuzz/artifacts/$target" -type f | wc -l)
    # Fork mode prints "#N: cov: ... exec/s: ..."; the last one holds the total.
    local execs
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    # The seconds it really ran (an interrupted run is shorter than asked).
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$((SECONDS - started))" "${execs:-0}" \
        "$((after - before))" >>"$fuzz/logs/runs.tsv"
    echo "fuzz.sh: $target: ${execs:-0} executions, $((after - before)) new crash/timeout artifacts" >&2
}

[ $# -ge 1 ] || usage
if [ "$1" = list ]; then
    targets
    exit 0
fi
[ $# -eq 2 ] || usage
case $2 in '' | *[!0-9]*) usage ;; esac
install_tools
seed
if [ "$1" = all ]; then
    for t in $(targets); do run_one "$t" "$2"; done
else
    targets | grep -qx "$1" || usage
    run_one "$1" "$2"
fi
