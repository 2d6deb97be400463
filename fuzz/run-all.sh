#!/usr/bin/env bash
# Run fuzz targets one after another to a number of executions each, seeded from
# fuzz/regressions/<target>/, and print libFuzzer's final figures per target.
#   [MAX_TIME=SECS] fuzz/run-all.sh [RUNS] [TARGET...]   (default: 10000000 runs, every target,
#   no time limit)
# Needs the nightly toolchain and cargo-fuzz; build first with `cargo +nightly fuzz build -O`.
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-10000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
mkdir -p logs
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  cp -n "regressions/$t"/* "corpus/$t/" 2>/dev/null || true
  start=$(date +%s)
  status=0
  cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
    -runs="$runs" -max_total_time="${MAX_TIME:-0}" -rss_limit_mb=2048 -timeout=1 -print_final_stats=1 \
    > "logs/$t.log" 2>&1 || status=$?
  wall=$(( $(date +%s) - start ))
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
  peak=$(grep -oE 'rss: [0-9]+Mb' "logs/$t.log" | tail -1 || true)
  echo "$t: exit $status, ${wall} s, ${last}, ${peak}"
done
