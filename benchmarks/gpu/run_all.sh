#!/usr/bin/env bash
# One call on the GPU machine (no .NET there; carry the published single-file rlhf in .gpu/rlhf):
# self-test of every CUDA kernel against the CPU backend, kernel and training-step benchmarks, the PyTorch
# comparators, the standalone PTX harnesses, and the CMake/ptxas build. Each part has its own time limit
# so one hang cannot take the others down; every part writes one file under $OUT.
set -u
OUT=${OUT:-/tmp/rlhf-gpu-out}
mkdir -p "$OUT"
R=.gpu/rlhf/rlhf
export RLHF_CUDA_CACHE=/tmp/rlhf-cuda-cache PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; nvcc --version | tail -2;
  ldconfig -p | grep -E "nvrtc|cublasLt|libcuda\.so" ; git rev-parse HEAD 2>/dev/null; date -u; } > "$OUT/gpu.txt" 2>&1
timeout 150 $R selftest --device cuda > "$OUT/selftest.txt" 2>&1; echo "exit $?" >> "$OUT/selftest.txt"
timeout 120 $R bench --device cuda --kernels --config gpt2-124m --batch 8 --seq 1024 --steps 10 > "$OUT/bench.txt" 2>&1; echo "exit $?" >> "$OUT/bench.txt"
timeout 60 python3 benchmarks/gpu/gpt2_step_torch.py 8 1024 20 > "$OUT/torch_step.txt" 2>&1
( cd benchmarks/gpu && nvcc -O2 -arch=sm_90 attention_check.cu -lcuda -o /tmp/attn && timeout 90 /tmp/attn ../../kernels/ptx ) > "$OUT/attention.txt" 2>&1; echo "exit $?" >> "$OUT/attention.txt"
timeout 60 python3 benchmarks/gpu/attention_torch.py > "$OUT/attention_torch.txt" 2>&1
( nvcc -O2 -std=c++17 -o /tmp/ppo benchmarks/gpu/ppo_gae_check.cu -lcuda && timeout 60 /tmp/ppo kernels/ptx ) > "$OUT/ppo_gae.txt" 2>&1; echo "exit $?" >> "$OUT/ppo_gae.txt"
( cmake -S . -B /tmp/native && cmake --build /tmp/native -j 16 && ctest --test-dir /tmp/native ) > "$OUT/cmake.txt" 2>&1; echo "exit $?" >> "$OUT/cmake.txt"
for f in "$OUT"/*.txt; do echo "=== $(basename "$f")"; tail -n 25 "$f"; done
