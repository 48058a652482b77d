#!/usr/bin/env bash
# Every policy-optimization method of `rlhf pipeline`, measured on the arithmetic gold task on equal terms and cheaply.
#
# How: one base run, `rlhf pipeline --rounds 1 --method Rloo --out-dir $OUT/base` (SFT, round 1's comparisons and
# preferences, its reward model, the RLOO policy, evaluation). Every other method starts from a copy of it, so all of
# them share the same SFT policy, the same pairs and the same reward model: the copy drops what depends on the policy
# (round-1/policy/, the stage's model, curve and config; round-1/evaluation.json; round-1/shift.json and
# round-1/reliability-shift.svg, the reward model on the post-RL samples; and the report files at the top, rounds.csv,
# curve.csv, overoptimization.svg, rounds.svg, config.json, which each run rewrites, so a failed run leaves none of the
# base's behind). The pipeline skips a stage whose artifacts exist, so only the policy stage, the shift measurement and
# the evaluation run again. The pipeline keeps no claim on its folder that a copy would trip over (it rewrites
# config.json), so no check needs to be bypassed.
#
# Prints one markdown table (also written to $OUT/methods.md): method, flags, gold accuracy greedy and sampled on the
# fixed evaluation prompts, KL to the SFT policy per sequence on completions the policy samples for 200 evaluation prompts
# (rounds.csv's sampled_kl: the same measure for every method), the RL stage's KL on its last step's rollouts (against
# its reference, which --ref-sync-every moves; "-" for the preference losses, ILQL and rejection sampling, which have no rollouts), and the
# policy stage's wall minutes: from its config.json (written as
# the stage starts) to its curve.json (written as it ends), or from the launch when a stage writes no config.json.
#
# Usage: benchmarks/methods.sh [--quick] [FLAGS...]
#   --quick  tiny settings (a tiny model, a few steps of every stage) that check the script end to end in about a
#            minute; their numbers mean nothing.
#   FLAGS    more `rlhf pipeline` flags given to every run (e.g. --seed 7 --threads 8); they must be the same on a rerun
#            that reuses $OUT/base.
# Env: RLHF, the command that runs the CLI (default: dotnet on this checkout's Release build,
#      src/RlhfCore.Cli/bin/Release/net10.0/rlhf.dll); OUT, the output folder (default /tmp/methods). Each run's log is
#      $OUT/<name>.log. An existing $OUT/base is resumed (reused when finished); every other method's folder is made again.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
read -r -a rlhf <<< "${RLHF:-dotnet $root/src/RlhfCore.Cli/bin/Release/net10.0/rlhf.dll}"
OUT=${OUT:-/tmp/methods}
export NO_COLOR=1

# One reward model from the SFT trunk, rows of 16 tokens, and (below, unless --quick) 2000 reward-model steps: the settings
# the README's table was measured with, the demo's defaults before rejection sampling became its method.
common=(--task arithmetic --rounds 1 --seq-len 16 --reward-ensemble 1 --reward-init Sft)
ref_sync=10
# The policy stage's size: RL and preference methods take --policy-steps, rejection sampling its own flags.
policy=()
rejection=()
if [ "${1:-}" = "--quick" ]; then
  shift
  common+=(--model byte-tiny --sft-steps 30 --batch 8 --comparisons-per-round 24 --annotator-tie-margin 0
    --reward-steps 4 --reward-batch 4 --eval-prompts 8 --shift-eval-prompts 4)
  policy=(--policy-steps 2 --prompts-per-step 4)
  rejection=(--rejection-steps 2 --rejection-prompts 8 --best-of-n 2)
  ref_sync=1
else
  common+=(--reward-steps 2000)
fi
common+=("$@")

# name|display name|flags (Rloo is the base run itself).
methods=(
  "ppo|Ppo|--method Ppo"
  "a2c|A2c|--method A2c"
  "reinforce|Reinforce|--method Reinforce"
  "base|Rloo|--method Rloo"
  "grpo|Grpo|--method Grpo"
  "reinforce-pp|ReinforcePlusPlus|--method ReinforcePlusPlus"
  # DAPO: clip-higher, dynamic sampling, token-level loss, soft overlong shaping over the last token of the task's limit.
  "dapo|DAPO|--method Grpo --clip-low 0.2 --clip-high 0.28 --dynamic-sampling --loss-aggregation token-mean --overlong-buffer 1 --overlong-penalty-factor 1"
  "dr-grpo|Dr. GRPO|--method Grpo --scale-rewards none --loss-aggregation seq-mean-token-sum-norm"
  "gspo|GSPO|--method Grpo --importance-level Sequence"
  "dual-clip-ppo|dual-clip PPO|--method Ppo --dual-clip 3"
  "rloo-ref-sync|RLOO + TR-DPO-style ref sync|--method Rloo --ref-sync-every $ref_sync --ref-mix 0.6"
  "dpo|Dpo|--method Dpo"
  "kto|Kto|--method Dpo --dpo-loss Kto"
  "orpo|Orpo|--method Dpo --dpo-loss Orpo"
  # SimPO's β is --kl-coef here; the paper's β is 2 to 2.5 (with γ 0.5, --simpo-gamma's default).
  "simpo|Simpo|--method Dpo --dpo-loss Simpo --kl-coef 2"
  "tr-dpo|TR-DPO|--method Dpo --ref-sync-every $ref_sync --ref-mix 0.6"
  "ilql|Ilql|--method Ilql"
  "rejection-sampling|RejectionSampling|--method RejectionSampling"
)

mkdir -p "$OUT"

# Seconds since the epoch, with fractions, of a file's last change.
mtime() { date -r "$1" +%s.%N; }

# Runs the pipeline for NAME with FLAGS...; prints the table row's measurements, or why there are none.
run_method() {
  local name=$1; shift
  local dir=$OUT/$name start rc
  if [ "$name" != base ]; then
    rm -rf "$dir"
    cp -a "$OUT/base" "$dir"
    rm -rf "$dir/round-1/policy" "$dir/round-1/evaluation.json" "$dir/round-1/shift.json" "$dir/round-1/reliability-shift.svg" \
      "$dir/rounds.csv" "$dir/curve.csv" "$dir/overoptimization.svg" "$dir/rounds.svg" "$dir/config.json"
  fi
  local size=("${policy[@]}")
  if [ "$name" = rejection-sampling ]; then size=("${rejection[@]}"); fi
  start=$(date +%s.%N)
  "${rlhf[@]}" pipeline "${common[@]}" "${size[@]}" "$@" --out-dir "$dir" > "$OUT/$name.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || [ ! -f "$dir/rounds.csv" ] || [ ! -f "$dir/round-1/policy/curve.json" ]; then
    echo "failed (exit $rc; see $OUT/$name.log)||||"
    return
  fi
  if [ -f "$dir/round-1/policy/config.json" ]; then start=$(mtime "$dir/round-1/policy/config.json"); fi
  awk -F, -v start="$start" -v end="$(mtime "$dir/round-1/policy/curve.json")" '
    function pct(x) { return x == "NaN" || x == "" ? "-" : sprintf("%.1f%%", 100 * x) }
    function kl(x) { return x == "NaN" || x == "" ? "-" : sprintf("%.3f", x) }
    $1 == 1 { printf "%s|%s|%s|%s|%.2f\n", pct($2), pct($3), kl($11), kl($6), (end - start) / 60 }' "$dir/rounds.csv"
}

table="| method | flags | gold greedy | gold sampled | KL to SFT (evaluation samples) | KL (last rollouts) | policy stage (min, wall) |
|---|---|---|---|---|---|---|"
# The base first: every other method starts from it.
for spec in "base|Rloo|--method Rloo" "${methods[@]}"; do
  IFS='|' read -r name display flags <<< "$spec"
  if [ "$name" = base ] && [ -n "${base_row:-}" ]; then
    row=$base_row
  else
    echo "methods.sh: $display ($flags)" >&2
    # shellcheck disable=SC2086  # flags are meant to split
    row=$(run_method "$name" $flags)
    if [ "$name" = base ]; then
      base_row=$row
      case $row in failed*) echo "methods.sh: the base run failed, see $OUT/base.log" >&2; exit 1 ;; esac
      continue
    fi
  fi
  IFS='|' read -r greedy sampled sampled_kl rollout_kl minutes <<< "$row"
  table+="
| $display | \`$flags\` | ${greedy:--} | ${sampled:--} | ${sampled_kl:--} | ${rollout_kl:--} | ${minutes:--} |"
done
echo "$table" | tee "$OUT/methods.md"
