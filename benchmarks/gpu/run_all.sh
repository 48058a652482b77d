#!/usr/bin/env bash
# One call on the GPU machine (no .NET there; carry the published single-file rlhf in .gpu/rlhf).
# Usage: benchmarks/gpu/run_all.sh [part ...]   (default: every part)
# Parts: selftest bench torch_step attention attention_torch ppo_gae ptxas cmake sft_cuda commands_cuda
# Each part has its own time limit so one hang cannot take the others down, and writes $OUT/<part>.txt.
set -u
OUT=${OUT:-/tmp/rlhf-gpu-out}
mkdir -p "$OUT"
R=.gpu/rlhf/rlhf
export RLHF_CUDA_CACHE=/tmp/rlhf-cuda-cache PYTHONUNBUFFERED=1
parts=${*:-selftest bench torch_step attention attention_torch ppo_gae ptxas cmake sft_cuda}

{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; nvcc --version | tail -2; date -u; } > "$OUT/gpu.txt" 2>&1

run() { local name=$1; shift; ( "$@" ) > "$OUT/$name.txt" 2>&1; echo "exit $?" >> "$OUT/$name.txt"; }
selftest()        { timeout 150 $R selftest --device cuda; }
bench()           { timeout 150 $R bench --device cuda --kernels --config gpt2-124m --batch 8 --seq 1024 --steps 10; }
torch_step()      { timeout 60 python3 benchmarks/gpu/gpt2_step_torch.py 8 1024 20; }
attention()       { cd benchmarks/gpu && nvcc -O2 -arch=sm_90 attention_check.cu -lcuda -o /tmp/attn && timeout 90 /tmp/attn ../../kernels/ptx; }
attention_torch() { timeout 60 python3 benchmarks/gpu/attention_torch.py; }
ppo_gae()         { nvcc -O2 -std=c++17 -o /tmp/ppo benchmarks/gpu/ppo_gae_check.cu -lcuda && timeout 60 /tmp/ppo kernels/ptx; }
ptxas_all()       { for f in kernels/ptx/*.ptx; do for a in sm_80 sm_90; do echo "== $f $a"; ptxas -arch=$a -v "$f" -o /dev/null 2>&1 | tail -n 8; done; done; }
cmake_all()       { cmake -S . -B /tmp/native && cmake --build /tmp/native -j 16 && ctest --test-dir /tmp/native --output-on-failure; }
sft_cuda()        { timeout 120 $R sft --device cuda --steps 300 --out-dir /tmp/sft-cuda --eval-every 100; }
# Every training command on the GPU, small: reward, ppo (gold and reward model), dpo, best-of-n, pipeline.
commands_cuda()   {
  local d=/tmp/cmd-cuda; rm -rf $d
  timeout 60 $R sft --device cuda --steps 200 --out-dir $d/sft | tail -n 2
  timeout 60 $R reward --device cuda --init-from $d/sft/model.safetensors --steps 100 --out-dir $d/reward | tail -n 3
  timeout 60 $R ppo --device cuda --init-from $d/sft/model.safetensors --reward gold --steps 5 --out-dir $d/ppo-gold | tail -n 3
  timeout 60 $R ppo --device cuda --init-from $d/sft/model.safetensors --reward-model $d/reward/model.safetensors --method Grpo --steps 5 --out-dir $d/grpo | tail -n 3
  timeout 60 $R dpo --device cuda --init-from $d/sft/model.safetensors --steps 30 --out-dir $d/dpo | tail -n 3
  timeout 60 $R best-of-n --device cuda --policy $d/sft/model.safetensors --reward-model $d/reward/model.safetensors --n 4 | tail -n 6
  timeout 120 $R pipeline --device cuda --sft-steps 300 --rounds 1 --comparisons-per-round 256 --reward-steps 100 --policy-steps 5 --out-dir $d/pipeline | tail -n 12
}

for p in $parts; do
  case $p in
    ptxas) run ptxas ptxas_all ;;
    cmake) run cmake cmake_all ;;
    *) run "$p" "$p" ;;
  esac
done
for f in "$OUT"/*.txt; do echo "=== $(basename "$f")"; tail -n 30 "$f"; done
