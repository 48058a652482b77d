#!/usr/bin/env bash
# Runs several `rlhf demo` configurations side by side on the CPU (seeds, hyperparameters), each with
# its own threads, and prints every run's rounds.csv. For a many-core machine (the GPU host's CPUs):
# the 2-core dev box runs one demo at a time.
# Usage: benchmarks/demo/sweep.sh THREADS_PER_RUN "name|flags" ...
#   e.g. benchmarks/demo/sweep.sh 3 "seed1337|--seed 1337" "seed7|--seed 7"
# Env: RLHF (default .gpu/rlhf/rlhf, the published single file), OUT (default /tmp/demo-sweep).
set -u
RLHF=${RLHF:-.gpu/rlhf/rlhf}
OUT=${OUT:-/tmp/demo-sweep}
threads=$1; shift
mkdir -p "$OUT"
for spec in "$@"; do
  name=${spec%%|*}; flags=${spec#*|}
  # shellcheck disable=SC2086  # flags are meant to split
  ( start=$SECONDS; "$RLHF" demo --threads "$threads" --out-dir "$OUT/$name" $flags > "$OUT/$name.log" 2>&1
    echo "exit $?, wall $((SECONDS - start)) s" >> "$OUT/$name.log" ) &
done
wait
for spec in "$@"; do
  name=${spec%%|*}
  echo "== $name (${spec#*|}): $(tail -n 1 "$OUT/$name.log")"
  cat "$OUT/$name/rounds.csv" 2>/dev/null || tail -n 5 "$OUT/$name.log"
done
