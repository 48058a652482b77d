#!/usr/bin/python3
"""Runs the attention PTX kernels in the CPU emulator (ptx_emulator.py) on small random problems
with padding masks and compares them with a float64 reference. A check of the PTX text on machines
without a GPU; benchmarks/gpu/attention_check.cu is the real check on the device.

    /usr/bin/python3 kernels/ptx/attention_emulate.py          # needs numpy
"""
import os
import struct
import sys
import numpy as np
from ptx_emulator import Kernel, Memory, launch

HERE = os.path.dirname(os.path.abspath(__file__))
HS = 64


def reference(qkv, mask, B, T, NH, dout=None):
    C = NH * HS
    q = qkv[:, :, :C].reshape(B, T, NH, HS).transpose(0, 2, 1, 3).astype(np.float64)
    k = qkv[:, :, C:2 * C].reshape(B, T, NH, HS).transpose(0, 2, 1, 3).astype(np.float64)
    v = qkv[:, :, 2 * C:].reshape(B, T, NH, HS).transpose(0, 2, 1, 3).astype(np.float64)
    scale = 1.0 / np.sqrt(HS)
    s = np.einsum("bhtd,bhsd->bhts", q, k) * scale
    vis = np.tril(np.ones((T, T), bool))[None, None] & (mask[:, None, None, :] != 0)
    s = np.where(vis, s, -np.inf)
    mx = s.max(-1, keepdims=True)
    mxs = np.where(np.isfinite(mx), mx, 0)
    e = np.where(vis, np.exp(s - mxs), 0)
    l = e.sum(-1, keepdims=True)
    P = np.where(l > 0, e / np.where(l > 0, l, 1), 0)
    o = np.einsum("bhts,bhsd->bhtd", P, v)
    lse = np.where(l[..., 0] > 0, np.log(np.where(l[..., 0] > 0, l[..., 0], 1)) + mxs[..., 0], -np.inf)
    out = o.transpose(0, 2, 1, 3).reshape(B, T, C)
    if dout is None:
        return out, lse, None
    do = dout.reshape(B, T, NH, HS).transpose(0, 2, 1, 3).astype(np.float64)
    dv = np.einsum("bhts,bhtd->bhsd", P, do)
    dP = np.einsum("bhtd,bhsd->bhts", do, v)
    D = (do * o).sum(-1, keepdims=True)
    dz = P * (dP - D)
    dq = np.einsum("bhts,bhsd->bhtd", dz, k) * scale
    dk = np.einsum("bhts,bhtd->bhsd", dz, q) * scale
    dqkv = np.concatenate([x.transpose(0, 2, 1, 3).reshape(B, T, C) for x in (dq, dk, dv)], -1)
    return out, lse, dqkv


def make_mask(B, T, rng):
    mask = np.ones((B, T), np.int32)
    for b in range(B):
        kind = b % 3
        if kind == 1 and T > 2:        # right padding
            mask[b, T - max(1, T // 4):] = 0
        elif kind == 2 and T > 2:      # left padding: first rows see no key
            mask[b, :max(1, T // 5)] = 0
            holes = rng.random(T) < 0.1
            mask[b, holes] = 0
    return mask


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def rel_floor(a, b, whole):
    """max |a-b| over max |b|, the denominator floored at 10% of max |whole| (parts of a gradient
    can be ~0 by cancellation: with T=1, dq = dk = 0 exactly)."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 0.1 * np.max(np.abs(whole)), 1e-30))


def main():
    fwd_text = open(os.path.join(HERE, "attention_forward.ptx")).read()
    kf = Kernel(fwd_text, "attention_forward")
    bwd_path = os.path.join(HERE, "attention_backward.ptx")
    kb = None
    if os.path.exists(bwd_path):
        t = open(bwd_path).read()
        kb = {n: Kernel(t, n) for n in ("attention_backward_dot", "attention_backward_dkdv", "attention_backward_dq")}
    rng = np.random.default_rng(1)
    shapes = [(1, 1, 2), (2, 7, 2), (3, 97, 2), (1, 130, 3)] if "--quick" not in sys.argv else [(1, 1, 2), (2, 7, 2)] + ([(1, 257, 2)] if "--long" in sys.argv else [])
    ok = True
    for (B, T, NH) in shapes:
        C = NH * HS
        qkv = rng.uniform(-1.5, 1.5, (B, T, 3 * C)).astype(np.float32)
        dout = rng.uniform(-1, 1, (B, T, C)).astype(np.float32)
        mask = make_mask(B, T, rng)
        ref_out, ref_lse, ref_dqkv = reference(qkv, mask, B, T, NH, dout)
        mem = Memory()
        a_qkv = mem.alloc(qkv.nbytes)
        mem.view(a_qkv, qkv.size, np.float32)[:] = qkv.ravel()
        a_mask = mem.alloc(mask.nbytes)
        mem.view(a_mask, mask.size, np.int32)[:] = mask.ravel()
        a_out = mem.alloc(B * T * C * 4)
        a_out2 = mem.alloc(B * T * C * 4)
        a_lse = mem.alloc(B * NH * T * 4)
        scale = 1.0 / np.sqrt(HS)
        prm = struct.pack("<QQQQQiiif", a_qkv, a_out, a_out2, a_lse, a_mask, T, C, NH, scale * 1.4426950408889634)
        assert len(prm) == 56
        grid = ((T + 63) // 64, NH, B)
        launch(kf, mem, prm, grid, 128)
        out = mem.view(a_out, B * T * C, np.float32).reshape(B, T, C).copy()
        out2 = mem.view(a_out2, B * T * C, np.float32).reshape(B, T, C)
        lse = mem.view(a_lse, B * NH * T, np.float32).reshape(B, NH, T).copy()
        e_out = rel(out, ref_out)
        fin = np.isfinite(ref_lse)
        lse_ok = np.array_equal(fin, np.isfinite(lse)) and (np.isneginf(lse) == ~fin).all()
        e_lse = float(np.max(np.abs(lse[fin] - ref_lse[fin]))) if fin.any() else 0.0
        good = e_out < 2e-2 and lse_ok and e_lse < 2e-2 and np.array_equal(out, out2)
        ok &= good
        print(f"forward  B={B} T={T:3d} NH={NH}: out rel {e_out:.2e}  lse abs {e_lse:.2e}  "
              f"empty rows {int((~fin).sum())}  {'ok' if good else 'FAIL'}")
        if kb is None:
            continue
        a_dout = mem.alloc(dout.nbytes)
        mem.view(a_dout, dout.size, np.float32)[:] = dout.ravel()
        a_d = mem.alloc(B * NH * T * 4)
        a_dqkv = mem.alloc(B * T * 3 * C * 4)
        mem.view(a_dqkv, B * T * 3 * C, np.float32)[:] = np.nan
        dprm = struct.pack("<QQQiiiii", a_out, a_dout, a_d, T, C, NH, C, B * T) + b"\0" * 4
        launch(kb["attention_backward_dot"], mem, dprm, ((B * T * NH + 7) // 8, 1, 1), 256)
        bprm = struct.pack("<QQQQQQiiiff", a_qkv, a_dout, a_dqkv, a_lse, a_d, a_mask, T, C, NH,
                           scale * 1.4426950408889634, scale) + b"\0" * 4
        assert len(bprm) == 72
        launch(kb["attention_backward_dkdv"], mem, bprm, grid, 128)
        launch(kb["attention_backward_dq"], mem, bprm, grid, 128)
        dqkv = mem.view(a_dqkv, B * T * 3 * C, np.float32).reshape(B, T, 3 * C)
        errs = [rel_floor(dqkv[..., i * C:(i + 1) * C], ref_dqkv[..., i * C:(i + 1) * C], ref_dqkv) for i in range(3)]
        good = all(e < 3e-2 for e in errs) and np.isfinite(dqkv).all()
        ok &= good
        print(f"backward B={B} T={T:3d} NH={NH}: dq {errs[0]:.2e} dk {errs[1]:.2e} dv {errs[2]:.2e}  "
              f"{'ok' if good else 'FAIL'}")
    print("emulated attention kernels:", "all ok" if ok else "FAILURES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
