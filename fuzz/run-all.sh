#!/usr/bin/env bash
# Build the fuzz targets once, then run them one after another to a number of executions
# each, seeded from fuzz/regressions/<target>/, and print libFuzzer's final figures per target.
#   [MAX_TIME=SECS] [NO_BUILD=1] fuzz/run-all.sh [RUNS] [TARGET...]
#   (default: 10000000 runs, every target, no time limit)
# Needs the nightly toolchain and cargo-fuzz. The targets run as built: editing the sources
# during a run does not change what is being fuzzed.
set -euo pipefail
cd "$(dirname "$0")"
runs=${1:-10000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo +nightly fuzz build -O
fi
bin_dir=$(dirname "$(ls target/*/release/"${targets[0]}" | head -1)")
mkdir -p logs artifacts
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  cp -n "regressions/$t"/* "corpus/$t/" 2>/dev/null || true
  start=$(date +%s)
  status=0
  "$bin_dir/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
    -runs="$runs" -max_total_time="${MAX_TIME:-0}" -rss_limit_mb=2048 -timeout=1 \
    -print_final_stats=1 > "logs/$t.log" 2>&1 || status=$?
  wall=$(( $(date +%s) - start ))
  last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
  echo "$t: exit $status, ${wall} s, ${last}"
done
