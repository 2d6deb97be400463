#!/usr/bin/env bash
# Build the fuzz targets once, then run them one after another to a number of executions
# each, seeded from fuzz/regressions/<target>/, and print libFuzzer's final figures per target.
#   [MAX_TIME=SECS] [NO_BUILD=1] [WORKERS=N] fuzz/run-all.sh [RUNS] [TARGET...]
#   (default: 10000000 runs, every target, no time limit, one process)
# WORKERS=N runs N processes on the target's one corpus, each picking up what the others find
# (libFuzzer's -jobs), RUNS/N executions each; their logs are logs/<target>.<n>.log. For the
# slow targets on a machine with cores to spare. (libFuzzer's -fork mode was measured slower
# here: each of its short jobs starts over from a small sample of the corpus.)
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
  flags=(-artifact_prefix="artifacts/$t/" -max_total_time="${MAX_TIME:-0}" -rss_limit_mb=2048
    -timeout=1 -print_final_stats=1)
  if [ -n "${WORKERS:-}" ]; then
    rm -f fuzz-*.log
    "$bin_dir/$t" "corpus/$t" "${flags[@]}" -runs=$((runs / WORKERS)) -jobs="$WORKERS" \
      -workers="$WORKERS" > "logs/$t.log" 2>&1 || status=$?
    for ((n = 0; n < WORKERS; n++)); do mv "fuzz-$n.log" "logs/$t.$n.log"; done
    logs=(logs/"$t".[0-9]*.log)
  else
    "$bin_dir/$t" "corpus/$t" "${flags[@]}" -runs="$runs" > "logs/$t.log" 2>&1 || status=$?
    logs=("logs/$t.log")
  fi
  wall=$(( $(date +%s) - start ))
  for log in "${logs[@]}"; do
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    rss=$(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}' || true)
    echo "$t ($log): exit $status, ${wall} s, peak RSS ${rss:-?} MB, ${last}"
  done
done
