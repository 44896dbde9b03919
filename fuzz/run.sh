#!/bin/sh
# Runs one fuzz target for SECONDS (default 1800) at the lowest CPU priority, one fuzzing
# process (plus libFuzzer's idle fork-mode supervisor, which keeps going past a crash and
# saves every crash, timeout and OOM in fuzz/artifacts/TARGET/).
# Usage: fuzz/run.sh TARGET [SECONDS]   (from the repository root)
set -eu
target=$1
seconds=${2:-1800}
mkdir -p "fuzz/corpus/$target" "fuzz/logs"
RUSTC_BOOTSTRAP=1 exec nice -n 19 cargo fuzz run -s address -a "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
