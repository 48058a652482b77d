#!/usr/bin/env bash
# Kill soak: trains a tiny SFT run uninterrupted, then the same run killed KILLS times at random moments
# (SIGKILL and SIGTERM in turn, 0-3 s after each start) and resumed after each kill, and checks that the final
# model and AdamW moments match the uninterrupted run's byte for byte and that no temporary file is left.
# The longer version of tests/RlhfCore.Tests/Reliability/KillAndResumeTests (which keeps to a handful of kills).
# Usage: benchmarks/reliability/kill-soak.sh [KILLS (default 50)] [STEPS (default 2000)]
# Env: RLHF (default "dotnet src/RlhfCore.Cli/bin/Release/net10.0/rlhf.dll"), OUT (default /tmp/kill-soak).
set -u
read -ra RLHF <<< "${RLHF:-dotnet src/RlhfCore.Cli/bin/Release/net10.0/rlhf.dll}"
OUT=${OUT:-/tmp/kill-soak}
kills=${1:-50}
steps=${2:-2000}
args=(sft --data builtin:arithmetic --model byte-tiny --steps "$steps" --batch 4 --seq-len 32 --threads 1
      --eval-every 0 --checkpoint-every 25)
rm -rf "$OUT" && mkdir -p "$OUT"

"${RLHF[@]}" "${args[@]}" --out-dir "$OUT/straight" > "$OUT/straight.log" 2>&1 \
  || { echo "the uninterrupted run failed:"; tail -n 5 "$OUT/straight.log"; exit 1; }

resume=()
finished=0
for ((i = 1; i <= kills; i++)); do
  "${RLHF[@]}" "${args[@]}" --out-dir "$OUT/killed" "${resume[@]}" >> "$OUT/killed.log" 2>&1 &
  pid=$!
  # Before the first checkpoint there is nothing to resume, so the first kill waits for one.
  if ((${#resume[@]} == 0)); then
    while [ ! -f "$OUT/killed/checkpoint/latest" ] && kill -0 "$pid" 2> /dev/null; do sleep 0.05; done
  fi
  sleep "$(printf '%d.%03d' $((RANDOM % 3)) $((RANDOM % 1000)))"
  if ((i % 2)); then sig=KILL expected=137; else sig=TERM expected=143; fi
  kill -"$sig" "$pid" 2> /dev/null
  wait "$pid"
  code=$?
  echo "kill $i: SIG$sig -> exit $code, latest $(cat "$OUT/killed/checkpoint/latest" 2> /dev/null)"
  resume=(--resume)
  if ((code == 0)); then finished=1; break; fi
  ((code == expected)) || { echo "unexpected exit $code (expected $expected):"; tail -n 5 "$OUT/killed.log"; exit 1; }
done
if ((!finished)); then
  "${RLHF[@]}" "${args[@]}" --out-dir "$OUT/killed" --resume >> "$OUT/killed.log" 2>&1 \
    || { echo "the final resume failed:"; tail -n 5 "$OUT/killed.log"; exit 1; }
fi

last=$(printf 'checkpoint/step-%06d' "$steps")
status=0
for f in model.safetensors "$last/optimizer.safetensors"; do
  if cmp -s "$OUT/straight/$f" "$OUT/killed/$f"; then echo "$f: identical"; else echo "$f: DIFFERS"; status=1; fi
done
left=$(find "$OUT/killed" -name '*.tmp' -o -name '*.replaced')
if [ -n "$left" ]; then echo "left behind: $left"; status=1; fi
exit $status
