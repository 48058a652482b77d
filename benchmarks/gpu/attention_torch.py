#!/usr/bin/env python3
"""PyTorch SDPA on the attention benchmark shape, for the side-by-side with attention_check.cu.

Times torch.nn.functional.scaled_dot_product_attention(is_causal=True) forward and
forward+backward at B=8, NH=12, T=1024, hs=64 with bf16 and fp32 inputs (CUDA events, median of
50 reps after warm-up) and prints TFLOP/s with the same causal FLOP count as attention_check.cu:
forward 4*B*NH*T^2*hs/2, backward 2.5x forward.
"""
import torch
import torch.nn.functional as F

B, NH, T, HS, REPS = 8, 12, 1024, 64, 50
FWD_FLOPS = 4.0 * B * NH * T * T * HS / 2
BWD_FLOPS = 2.5 * FWD_FLOPS


def median_ms(fn):
    for _ in range(5):
        fn()
    times = []
    for _ in range(REPS):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        fn()
        e1.record()
        torch.cuda.synchronize()
        times.append(e0.elapsed_time(e1))
    times.sort()
    return times[len(times) // 2]


def main():
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    print(f"SDPA B={B} NH={NH} T={T} hs={HS} is_causal=True (median of {REPS})")
    for dtype in (torch.bfloat16, torch.float32):
        g = torch.Generator(device=dev).manual_seed(0)
        q, k, v = (torch.rand(B, NH, T, HS, device=dev, dtype=dtype, generator=g).sub_(0.5).requires_grad_()
                   for _ in range(3))
        dout = torch.rand(B, NH, T, HS, device=dev, dtype=dtype, generator=g)

        def fwd():
            with torch.no_grad():
                F.scaled_dot_product_attention(q, k, v, is_causal=True)

        def fwd_bwd():
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            torch.autograd.grad(o, (q, k, v), dout)

        tf = median_ms(fwd)
        tfb = median_ms(fwd_bwd)
        tb = tfb - tf
        name = str(dtype).replace("torch.", "")
        print(f"  sdpa {name:8s} forward          {tf:8.3f} ms  {FWD_FLOPS / (tf * 1e-3) / 1e12:7.1f} TFLOP/s")
        print(f"  sdpa {name:8s} backward (f+b-f) {tb:8.3f} ms  {BWD_FLOPS / (tb * 1e-3) / 1e12:7.1f} TFLOP/s")
        print(f"  sdpa {name:8s} forward+backward {tfb:8.3f} ms  "
              f"{(FWD_FLOPS + BWD_FLOPS) / (tfb * 1e-3) / 1e12:7.1f} TFLOP/s")


if __name__ == "__main__":
    main()
