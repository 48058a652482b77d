#!/usr/bin/python3
"""Runs gae_scan + gae_moments (kernels/ptx/gae.ptx) in the CPU emulator (ptx_emulator.py, SIMT mode)
on small random problems with left, right, mid-row and random masks, and compares advantages, returns,
the per-CTA partials and the moments with a float64 reference of Cpu/Gae.cs's semantics. A check of the
PTX text on machines without a GPU; benchmarks/gpu/ppo_gae_check.cu is the real check on the device.

    /usr/bin/python3 kernels/ptx/gae_emulate.py            # needs numpy
    /usr/bin/python3 kernels/ptx/gae_emulate.py --ptx OTHER.ptx   # e.g. an older gae.ptx
Covers both paths of gae_scan: the 4-positions-per-lane vector path (T % 4 == 0, 16-byte aligned
bases) and the scalar path (other T, or a base offset by 4 bytes), and grid-stride over rows.
"""
import os
import struct
import sys
import numpy as np
from ptx_emulator import Kernel, Memory, launch

HERE = os.path.dirname(os.path.abspath(__file__))
GAMMA, LAMBDA = np.float32(0.99), np.float32(0.95)


def make_mask(B, T, rng):
    mk = np.zeros((B, T), np.float32)
    for b in range(B):
        lo = int(rng.integers(0, T + 1))
        hi = lo + int(rng.integers(0, T - lo + 1))
        kind = b % 6
        t = np.arange(T)
        mk[b] = {0: np.ones(T, bool), 1: t >= lo, 2: t < hi, 3: (t < lo) | (t >= hi),
                 4: rng.random(T) < 0.67, 5: np.zeros(T, bool)}[kind]
    return mk


def reference(r, v, mk):
    B, T = r.shape
    g, gl = float(GAMMA), float(GAMMA) * float(LAMBDA)
    A = np.zeros((B, T))
    for b in range(B):
        nv = na = 0.0
        for t in range(T - 1, -1, -1):
            if mk[b, t] == 0:
                continue
            na = float(r[b, t]) + g * nv - float(v[b, t]) + gl * na
            nv = float(v[b, t])
            A[b, t] = na
    R = np.where(mk != 0, A + v, 0.0)
    return A, R


def run_case(ks, B, T, rng, grid=None, misalign=False):
    r = rng.uniform(-1, 1, (B, T)).astype(np.float32)
    v = rng.uniform(-1, 1, (B, T)).astype(np.float32)
    mk = make_mask(B, T, rng)
    n = B * T
    grid = grid or min(1024, (B + 7) // 8)
    mem = Memory(1 << 24)
    sh = 4 if misalign else 0
    bufs = {k: mem.alloc(4 * n + 16) + sh for k in ("adv", "ret", "rew", "val", "mask")}
    part = mem.alloc(24 * grid)
    mom = mem.alloc(16)
    for k, x in (("rew", r), ("val", v), ("mask", mk)):
        mem.view(bufs[k], n, np.float32)[:] = x.ravel()
    for k in ("adv", "ret"):
        mem.view(bufs[k], n, np.float32)[:] = np.nan
    mem.view(mom, 3, np.float32)[:] = np.nan
    prm = struct.pack("<QQQQQQiiff", bufs["adv"], bufs["ret"], bufs["rew"], bufs["val"], bufs["mask"], part,
                      B, T, float(GAMMA), float(LAMBDA))
    assert len(prm) == 64
    launch(ks["gae_scan"], mem, prm, (grid, 1, 1), 256, simt=True)
    launch(ks["gae_moments"], mem, struct.pack("<QQii", mom, part, grid, 0), (1, 1, 1), 32, simt=True)

    A = mem.view(bufs["adv"], n, np.float32).reshape(B, T).astype(np.float64)
    R = mem.view(bufs["ret"], n, np.float32).reshape(B, T).astype(np.float64)
    P = mem.view(part, 3 * grid, np.float64).reshape(grid, 3)
    M = mem.view(mom, 3, np.float32).astype(np.float64)
    rA, rR = reference(r, v, mk)
    rm = np.array([mk.sum(dtype=np.float64), (mk * rA).sum(), (mk * rA * rA).sum()])
    # partials: CTA c holds rows c*8 + w + k*8*grid
    rP = np.zeros((grid, 3))
    for b in range(B):
        c = (b // 8) % grid
        rP[c] += [mk[b].sum(dtype=np.float64), (mk[b] * rA[b]).sum(), (mk[b] * rA[b] ** 2).sum()]

    def err(a, b):
        return float(np.max(np.abs(a - b) / (1e-5 + 1e-5 * np.abs(b)))) if a.size else 0.0

    e = max(err(A, rA), err(R, rR))
    scale = 1 + np.abs(rA).sum() + rm[2]
    em = float(np.max(np.abs(M - rm))) / (1e-5 * scale)
    ep = float(np.max(np.abs(P - rP))) / (1e-5 * scale)
    exact0 = bool(np.all(A[mk == 0] == 0) and np.all(R[mk == 0] == 0))
    ok = np.isfinite(A).all() and np.isfinite(R).all() and e <= 1 and em <= 1 and ep <= 1 and exact0
    path = "scalar" if (T % 4 or misalign) else "vector"
    print(f"  B={B:3d} T={T:4d} grid={grid:2d} {path:6s}{' +4B' if misalign else '    '}  "
          f"max|A,R err|/tol {e:.3f}  moments {em:.2e}  partials {ep:.2e}  masked==0 {exact0}  "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def main():
    path = os.path.join(HERE, "gae.ptx")
    if "--ptx" in sys.argv:
        path = sys.argv[sys.argv.index("--ptx") + 1]
    text = open(path).read()
    assert all(ord(c) < 128 for c in text), "non-ASCII byte in the PTX"
    ks = {"gae_scan": Kernel(text, "gae_scan")}
    # gae_moments from the same file, else from gae.ptx (benchmarks/gpu/gae_scan_v1.ptx has only gae_scan)
    ks["gae_moments"] = Kernel(text if ".entry gae_moments" in text else open(os.path.join(HERE, "gae.ptx")).read(),
                               "gae_moments")
    rng = np.random.default_rng(7)
    print(f"gae_scan + gae_moments from {path} in the emulator vs float64 reference (tol 1e-5 abs + 1e-5 rel)")
    bad = 0
    for B in (1, 3, 7):
        for T in (1, 7, 33, 97, 128):
            bad += not run_case(ks, B, T, rng)
    for B, T, kw in ((6, 132, {}), (12, 256, {}), (12, 100, {"grid": 1}), (13, 260, {"grid": 1}),
                     (7, 128, {"misalign": True}), (9, 4, {}), (6, 0, {})):
        bad += not run_case(ks, B, T, rng, **kw)
    print("all cases passed" if not bad else f"FAILED: {bad} cases")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
