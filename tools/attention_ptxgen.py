#!/usr/bin/env python3
"""Writes kernels/ptx/attention_forward.ptx and attention_backward.ptx.

The PTX is written by hand, phase by phase, in the string templates below; this script only
unrolls the repetitive parts (8 n-tiles x 4 k-steps of mma.sync, 16 softmax lanes, 8 tile rows),
which PTX cannot express without a preprocessor the driver JIT may not run. The generated .ptx
files are committed and are what the backend embeds; rerun after editing:

    python3 tools/attention_ptxgen.py                 # writes kernels/ptx/
    python3 tools/attention_ptxgen.py --out DIR       # writes DIR/ (the regeneration test uses this)

Design notes, layouts and ptxas budgets: docs/attention-ptx.md.
"""
import os
import sys

KERNELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels", "ptx")

NEG_INF = "0fFF800000"
POS_INF = "0f7F800000"
LOG2E = "0f3FB8AA3B"     # 1.4426950408889634
LN2 = "0f3F317218"       # 0.6931471805599453
ZERO = "0f00000000"

ROW_BYTES = 144           # one bf16 tile row: 64 values (128 B) + 16 B pad: ldmatrix conflict-free
TILE_BYTES = 64 * ROW_BYTES


class Ptx:
    def __init__(self):
        self.lines = []

    def __call__(self, s=""):
        self.lines.append(s)

    def c(self, s):
        self.lines.append(f"\t// {s}")

    def i(self, s):
        self.lines.append(f"\t{s};")

    def label(self, s):
        self.lines.append(f"{s}:")

    def text(self):
        return "\n".join(self.lines) + "\n"


# ---------------------------------------------------------------------------------------------
# register-name helpers (fragments are named groups: %s<32> is the S accumulator, etc.)

def acc(name, jn):
    """The 4 fp32 accumulator registers of n-tile jn (m16n8): c0,c1 row g, c2,c3 row g+8."""
    return [f"%{name}{jn * 4 + e}" for e in range(4)]


def frag(name, kk):
    """The 4 .b32 registers (8 bf16) of an m16k16 A fragment for k-step kk."""
    return [f"%{name}{kk * 4 + e}" for e in range(4)]


def mma(p, d, a, b, c):
    p.i(f"mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {{{','.join(d)}}}, "
        f"{{{','.join(a)}}}, {{{','.join(b)}}}, {{{','.join(c)}}}")


def zero_acc(p, name, n=32):
    for r in range(n):
        p.i(f"mov.f32 %{name}{r}, {ZERO}")


def ldsm(p, dst, addr, imm, trans=False):
    t = ".trans" if trans else ""
    p.i(f"ldmatrix.sync.aligned.m8n8.x4{t}.shared.b16 {{{','.join(dst)}}}, [{addr}+{imm}]")


def gemm_abT(p, d, afrag, bbase, bname="%bf"):
    """d[16 x 64] += A[16 x 64] . B^T where B is a bf16 tile stored row-major [n][k] (non-trans
    ldmatrix, lane pattern Y). afrag: A fragment register group name, kk = 0..3."""
    for kk in range(4):
        for np_ in range(4):
            b = [f"{bname}{e}" for e in range(4)]
            ldsm(p, b, bbase, np_ * 16 * ROW_BYTES + kk * 32)
            for h in range(2):
                jn = 2 * np_ + h
                mma(p, acc(d, jn), frag(afrag, kk), b[2 * h:2 * h + 2], acc(d, jn))


def gemm_ab(p, d, afrag, bbase, bname="%bf"):
    """d[16 x 64] += A[16 x 64] . B where B is a bf16 tile stored row-major [k][n] (trans ldmatrix,
    lane pattern X). afrag: A fragment register group name (k-steps kk = 0..3)."""
    for kk in range(4):
        for dp in range(4):
            b = [f"{bname}{e}" for e in range(4)]
            ldsm(p, b, bbase, kk * 16 * ROW_BYTES + dp * 32, trans=True)
            for h in range(2):
                jn = 2 * dp + h
                mma(p, acc(d, jn), frag(afrag, kk), [b[2 * h], b[2 * h + 1]], acc(d, jn))


def load_afrags(p, name, base, rowoff_imm):
    """A fragments of 16 rows x 64 columns of a bf16 tile (lane pattern X + warp row offset)."""
    for kk in range(4):
        ldsm(p, frag(name, kk), base, rowoff_imm + kk * 32)


def acc_to_afrags(p, dst, src):
    """fp32 accumulator [16 x 64] (8 n-tiles) -> bf16 A fragments over k = 64 (4 k-steps).
    The m16n8 C layout of n-tiles 2kk, 2kk+1 is exactly the m16k16 A layout of k-step kk."""
    for kk in range(4):
        lo, hi = acc(src, 2 * kk), acc(src, 2 * kk + 1)
        d = frag(dst, kk)
        p.i(f"cvt.rn.bf16x2.f32 {d[0]}, {lo[1]}, {lo[0]}")
        p.i(f"cvt.rn.bf16x2.f32 {d[1]}, {lo[3]}, {lo[2]}")
        p.i(f"cvt.rn.bf16x2.f32 {d[2]}, {hi[1]}, {hi[0]}")
        p.i(f"cvt.rn.bf16x2.f32 {d[3]}, {hi[3]}, {hi[2]}")


def tile_load(p, dst, addr, step, rem):
    """Issue the global loads of one 64 x 64 fp32 tile: this thread's 8 rows (tr + 8i) x 4 columns.
    Rows at or past the sequence end (rem <= 8i) read as zero. Leaves %ga advanced (scratch)."""
    p.i(f"mov.u64 %ga, {addr}")
    for i in range(8):
        r = [f"%{dst}{4 * i + e}" for e in range(4)]
        p.i(f"setp.gt.s32 %pl, {rem}, {8 * i}")
        for x in r:
            p.i(f"mov.f32 {x}, {ZERO}")
        p.i(f"@%pl ld.global.nc.v4.f32 {{{','.join(r)}}}, [%ga]")
        if i < 7:
            p.i(f"add.s64 %ga, %ga, {step}")


def tile_store(p, src, sbase):
    """Convert the 32 staged fp32 values to bf16 and store them to this thread's tile slots."""
    for i in range(8):
        r = [f"%{src}{4 * i + e}" for e in range(4)]
        p.i(f"cvt.rn.bf16x2.f32 %hx0, {r[1]}, {r[0]}")
        p.i(f"cvt.rn.bf16x2.f32 %hx1, {r[3]}, {r[2]}")
        p.i(f"st.shared.v2.b32 [{sbase}+{i * 8 * ROW_BYTES}], {{%hx0,%hx1}}")


def mask_scores(p, s, wlo, whi, lim_a, lim_b):
    """S[row, c] = -inf unless key bit c is set and c <= lim (causal), for both of this thread's
    rows (a: c0/c1, b: c2/c3). Column c = 8*jn + 2*(lane%4) + e; wlo/whi are the 64-bit tile key mask
    already shifted right by 2*(lane%4), lim_* = (row - key0) - 2*(lane%4)."""
    for jn in range(8):
        w = wlo if jn < 4 else whi
        for e in range(2):
            bit = 8 * (jn % 4) + e
            cimm = 8 * jn + e
            a, bb = acc(s, jn)[e], acc(s, jn)[2 + e]
            p.i(f"and.b32 %mt, {w}, {1 << bit}")
            p.i(f"setp.ne.b32 %pk, %mt, 0")
            p.i(f"setp.ge.and.s32 %pv, {lim_a}, {cimm}, %pk")
            p.i(f"selp.f32 {a}, {a}, {NEG_INF}, %pv")
            p.i(f"setp.ge.and.s32 %pv, {lim_b}, {cimm}, %pk")
            p.i(f"selp.f32 {bb}, {bb}, {NEG_INF}, %pv")


def quad_reduce(p, reg, op):
    for x in (1, 2):
        p.i(f"shfl.sync.bfly.b32 %sh, {reg}, {x}, 31, -1")
        p.i(f"{op}.f32 {reg}, {reg}, %sh")


def key_mask_ballot(p, mv0, mv1, mlo, mhi):
    p.i(f"setp.ne.s32 %pk, {mv0}, 0")
    p.i(f"vote.sync.ballot.b32 {mlo}, %pk, -1")
    p.i(f"setp.ne.s32 %pk, {mv1}, 0")
    p.i(f"vote.sync.ballot.b32 {mhi}, %pk, -1")


def key_mask_load(p, mv0, mv1, key0):
    """mv0/mv1 = visibility (0/1) of keys key0+lane and key0+32+lane: in range and keyMask != 0
    (no mask buffer: every in-range key). %mrow = &keyMask[b, 0] (0 when absent)."""
    p.i(f"add.s32 %mk, {key0}, %lane")
    for reg, off in ((mv0, 0), (mv1, 32)):
        if off:
            p.i("add.s32 %mk, %mk, 32")
        p.i("setp.lt.s32 %pl, %mk, %T")
        p.i(f"selp.u32 {reg}, 1, 0, %pl")
        p.i("setp.ne.and.b64 %pk, %mrow, 0, %pl")
        p.i("mul.wide.s32 %ma, %mk, 4")
        p.i("add.s64 %ma, %mrow, %ma")
        p.i(f"@%pk ld.global.nc.u32 {reg}, [%ma]")


COMMON_REGS = """\
	.reg .pred %pl, %pk, %pv, %pn, %pd, %pa, %pb;
	.reg .b32 %thr, %warp, %lane, %tr, %cb, %bidx, %head, %T, %C, %NH, %C3, %sh, %mt, %mk, %hx<2>;
	.reg .b64 %ga, %ma, %mrow;
	.reg .b32 %bf<4>;"""


# =============================================================================================
# forward

FWD_HEADER = f"""\
// Generated by tools/attention_ptxgen.py from hand-written templates (unrolling only); do not edit.
//
// attention_forward.ptx -- fused causal multi-head attention, forward (FlashAttention-2 style)
// =============================================================================================
//
// Computes, for every batch b, head h and query t (hs = C/NH = 64, scale = 1/sqrt(64)):
//     s_ts  = scale * q_t . k_s                     for keys s <= t with keyMask[b,s] != 0
//     out_t = sum_s softmax_s(s_ts) v_s              (0 when query t sees no key)
//     lse_t = ln sum_s exp(s_ts)                     (-inf when query t sees no key)
// with q|k|v interleaved in qkv[B,T,3C] (head h = columns h*64..h*64+63 of each third) and
// out[B,T,C] in the same head layout. No T x T matrix is written: scores live in registers.
//
// Saved for backward (the `att` argument of IBackend.AttentionForward): on the CUDA backend that
// [B,NH,T,T] buffer is scratch owned by these kernels. This kernel writes the per-row log-sum-exp
// LSE [B,NH,T] (natural log, of the *scaled* scores) at its start; attention_backward.ptx
// recomputes P = exp(scale*QK^T - LSE) tile by tile from Q, K and LSE instead of reading P.
// The launcher (Cuda/Attention.cs) also keeps there a copy of keyMask and, when it fits, of out,
// because IBackend.AttentionBackward receives neither (layout in docs/attention-ptx.md).
//
// Precision: fp32 inputs are rounded to bf16 when staged into shared memory; Q.K^T and P.V run on
// tensor cores (mma.sync m16n8k16 bf16 x bf16 -> fp32); softmax statistics (running max m,
// running sum l) and the output accumulator stay fp32. bf16 has an 8-bit significand, so expect
// relative errors ~1e-3..1e-2 against an fp32/fp64 reference (tests use 2e-2 of max |ref|).
// bf16 rather than fp16: same speed, fp32's exponent range (no overflow/underflow of activations
// or, in backward, of small gradients); rather than tf32 (m16n8k8): half the mma count and half
// the shared-memory bytes per tile.
//
// Launch:   grid  = (ceil(T/64), NH, B), block = (128,1,1), no dynamic shared memory.
//           CTA x handles query tile (gridDim.x-1-x): longest causal rows are scheduled first.
//           Warp w owns query rows 16w..16w+15 of the tile (one m16 row block).
// Shared:   Q, K, V tiles, bf16, 64 rows x 144 B (128 B data + 16 B pad so ldmatrix's 8 rows hit
//           8 distinct 16-byte bank groups): 3 x 9216 = 27648 B static.
// Registers (per thread): Q A-fragments 16, O accumulator 32, S/P 32 (+16 bf16 P fragments),
//           register prefetch of the next K and V tile 64 (fp32), softmax state 4, addressing ~20.
//           ptxas 11.8 -v: 202 (sm_80) / 206 (sm_90), no spills -> 2 CTAs (8 warps) per SM.
// Pipeline: while tile j is multiplied, the global loads of tile j+1 (K, V and the key-mask
//           words) are in flight into registers; after the P.V product the CTA converts them to
//           bf16 and overwrites the single K/V buffer (cp.async cannot convert fp32 -> bf16).
// Masks:    key tiles above the diagonal are skipped; the diagonal tile and tiles whose 64 key
//           mask bits (vote.ballot) are not all set go through a masked path that sets S=-inf
//           before the row max. Rows past T and keys past T are zero-filled / masked.
//
// Parameters: one 56-byte struct (mirrored by AttentionForwardParams in Cuda/Attention.cs)
//   +0  u64 qkv        f32 [B,T,3C]
//   +8  u64 out        f32 [B,T,C]
//   +16 u64 out2       f32 [B,T,C]  second copy of out for backward, 0 = none
//   +24 u64 lse        f32 [B,NH,T] natural-log LSE of the scaled scores, -inf for empty rows
//   +32 u64 mask       i32 [B,T]    key padding mask, 0 = every key visible
//   +40 s32 T
//   +44 s32 C          (C = 64*NH)
//   +48 s32 NH
//   +52 f32 scaleLog2  (1/sqrt(64)) * log2(e)
//
.version 7.8
.target sm_80
.address_size 64
"""


def thread_setup(p, prm_T, prm_C, prm_NH, tile_from_end=True):
    p.c("---- thread and tile indices ----")
    p.i("mov.u32 %thr, %tid.x")
    p.i("shr.u32 %warp, %thr, 5")
    p.i("and.b32 %lane, %thr, 31")
    p.i("shr.u32 %tr, %thr, 4")                 # tile-load row 0..7
    p.i("and.b32 %cb, %lane, 3")
    p.i("shl.b32 %cb, %cb, 1")                  # 2*(lane%4): first fragment column
    p.i("mov.u32 %head, %ctaid.y")
    p.i("mov.u32 %bidx, %ctaid.z")
    p.i(f"ld.param.u32 %T, [prm+{prm_T}]")
    p.i(f"ld.param.u32 %C, [prm+{prm_C}]")
    p.i(f"ld.param.u32 %NH, [prm+{prm_NH}]")
    p.i("mul.lo.s32 %C3, %C, 3")


def lane_patterns(p):
    p.c("ldmatrix lane address patterns (bytes within a tile)")
    p.c("  X: row ((lane>>3)&1)*8 + (lane&7), col (lane>>4)*8   -> A fragments, trans B fragments")
    p.c("  Y: row (lane>>4)*8 + (lane&7),      col ((lane>>3)&1)*8 -> non-trans B fragments")
    p.i("and.b32 %lx, %lane, 7")
    p.i("bfe.u32 %ly, %lane, 3, 1")
    p.i("shr.u32 %lz, %lane, 4")
    p.i(f"mad.lo.u32 %patX, %ly, 8, %lx")
    p.i(f"mul.lo.u32 %patX, %patX, {ROW_BYTES}")
    p.i("mad.lo.u32 %patX, %lz, 16, %patX")
    p.i(f"mad.lo.u32 %patY, %lz, 8, %lx")
    p.i(f"mul.lo.u32 %patY, %patY, {ROW_BYTES}")
    p.i("mad.lo.u32 %patY, %ly, 16, %patY")
    p.c("tile staging slot of this thread: row tr (+8i), columns 4*(tid%16)..+3")
    p.i("and.b32 %lx, %thr, 15")
    p.i(f"mul.lo.u32 %stg, %tr, {ROW_BYTES}")
    p.i("mad.lo.u32 %stg, %lx, 8, %stg")


PATTERN_REGS = "\t.reg .b32 %lx, %ly, %lz, %patX, %patY, %stg;"


def row_base(p, dst, base, stride_reg, coloff_reg):
    """dst = base + ((b*T + tr) * stride + coloff + 4*(tid%16)) * 4   (thread's row tr of token 0)"""
    p.i("mad.lo.s32 %mk, %bidx, %T, %tr")
    p.i(f"mul.lo.s32 %mk, %mk, {stride_reg}")
    p.i(f"add.s32 %mk, %mk, {coloff_reg}")
    p.i("and.b32 %mt, %thr, 15")
    p.i("mad.lo.s32 %mk, %mt, 4, %mk")
    p.i("mul.wide.s32 %ma, %mk, 4")
    p.i(f"add.s64 {dst}, {base}, %ma")


def softmax_tile(p, s, o, m, l, sl2):
    """Online softmax update of rows a (S c0,c1) and b (S c2,c3): S -> P = 2^(S*sl2 - m_new),
    l = l*alpha + rowsum(P) (per-thread partial; reduced over the quad at the end),
    O *= alpha with alpha = 2^(m_old - m_new). m is kept in the log2-scaled domain."""
    for row, idx, mr, lr in (("a", (0, 1), m[0], l[0]), ("b", (2, 3), m[1], l[1])):
        vals = [acc(s, jn)[e] for jn in range(8) for e in idx]
        p.c(f"row {row}: tile max, new running max, rescale factor")
        p.i(f"max.f32 %mx, {vals[0]}, {vals[1]}")
        for v in vals[2:]:
            p.i(f"max.f32 %mx, %mx, {v}")
        quad_reduce(p, "%mx", "max")
        p.i(f"mul.f32 %mx, %mx, {sl2}")
        p.i(f"max.f32 %mx, %mx, {mr}")
        p.i(f"setp.eq.f32 %pn, %mx, {NEG_INF}")
        p.i(f"selp.f32 %mb, {ZERO}, %mx, %pn")     # all -inf so far: subtract 0, not -inf
        p.i(f"sub.f32 %al, {mr}, %mb")
        p.i("ex2.approx.ftz.f32 %al, %al")
        p.i(f"mov.f32 {mr}, %mx")
        p.i("neg.f32 %mb, %mb")
        p.c(f"row {row}: P = 2^(S*scaleLog2 - m), partial row sum")
        p.i(f"mov.f32 %rs, {ZERO}")
        for v in vals:
            p.i(f"fma.rn.f32 {v}, {v}, {sl2}, %mb")
            p.i(f"ex2.approx.ftz.f32 {v}, {v}")
            p.i(f"add.f32 %rs, %rs, {v}")
        p.i(f"fma.rn.f32 {lr}, {lr}, %al, %rs")
        for jn in range(8):
            for e in idx:
                r = acc(o, jn)[e]
                p.i(f"mul.f32 {r}, {r}, %al")


def gen_forward():
    p = Ptx()
    p(FWD_HEADER)
    p(".visible .entry attention_forward(.param .align 8 .b8 prm[56])")
    p("{")
    p(COMMON_REGS)
    p(PATTERN_REGS)
    p("\t.reg .b64 %qkv, %out, %out2, %lse, %rowq, %rowk, %rowv, %step, %gk;")
    p("\t.reg .b32 %qt, %nqt, %q0, %j, %k0, %rem, %r0, %lima, %limb, %mv<2>, %mn<2>, %mlo, %mhi, %wlo, %whi;")
    p("\t.reg .b32 %sq, %sk, %sv;")
    p("\t.reg .f32 %sl2, %mx, %mb, %al, %rs, %inv;")
    p("\t.reg .b32 %qf<16>;      // Q A-fragments (bf16x2), 4 k-steps")
    p("\t.reg .b32 %pf<16>;      // P A-fragments (bf16x2), 4 k-steps over the key tile")
    p("\t.reg .f32 %s<32>;       // S / P accumulator, 8 n-tiles of 8 keys")
    p("\t.reg .f32 %o<32>;       // O accumulator, 8 n-tiles of 8 head dims")
    p("\t.reg .f32 %kx<32>, %vx<32>;   // next K / V tile in flight (fp32)")
    p("\t.reg .f32 %rm<2>, %rl<2>;     // running max (log2 domain) and partial sum, rows a,b")
    p(f"\t.shared .align 16 .b8 smq[{TILE_BYTES}];")
    p(f"\t.shared .align 16 .b8 smk[{TILE_BYTES}];")
    p(f"\t.shared .align 16 .b8 smv[{TILE_BYTES}];")
    p()
    thread_setup(p, 40, 44, 48)
    p.i("mov.u32 %nqt, %nctaid.x")
    p.i("mov.u32 %qt, %ctaid.x")
    p.i("sub.u32 %qt, %nqt, %qt")
    p.i("sub.u32 %qt, %qt, 1")
    p.i("shl.b32 %q0, %qt, 6")
    p.i("ld.param.f32 %sl2, [prm+52]")
    p.i("ld.param.u64 %qkv, [prm+0]")
    p.i("cvta.to.global.u64 %qkv, %qkv")
    p.i("ld.param.u64 %mrow, [prm+32]")
    p.i("setp.ne.b64 %pk, %mrow, 0")
    p.i("cvta.to.global.u64 %ga, %mrow")
    p.i("mul.wide.s32 %ma, %bidx, %T")
    p.i("shl.b64 %ma, %ma, 2")
    p.i("add.s64 %ga, %ga, %ma")
    p.i("selp.b64 %mrow, %ga, 0, %pk")
    lane_patterns(p)
    p.i("mov.u32 %sq, smq")
    p.i("mov.u32 %sk, smk")
    p.i("mov.u32 %sv, smv")
    p.c("global row bases: thread row tr of token 0 for the q, k and v thirds of head h")
    p.i("shl.b32 %mt, %head, 6")
    row_base(p, "%rowq", "%qkv", "%C3", "%mt")
    p.i("mul.wide.s32 %ma, %C, 4")
    p.i("add.s64 %rowk, %rowq, %ma")
    p.i("add.s64 %rowv, %rowk, %ma")
    p.i("mul.wide.s32 %step, %C3, 32")            # 8 rows of qkv, bytes
    p()
    p.c("---- Q tile: global fp32 -> bf16 shared -> A fragments (kept in registers) ----")
    p.i("mul.wide.s32 %ma, %q0, %C3")
    p.i("shl.b64 %ma, %ma, 2")
    p.i("add.s64 %ga, %rowq, %ma")
    p.i("sub.s32 %rem, %T, %q0")
    p.i("sub.s32 %rem, %rem, %tr")
    tile_load(p, "kx", "%ga", "%step", "%rem")
    p.i("add.u32 %mk, %sq, %stg")
    tile_store(p, "kx", "%mk")
    p.c("---- K/V tile 0 ----")
    p.i("mov.u32 %j, 0")
    p.i("sub.s32 %rem, %T, %tr")
    tile_load(p, "kx", "%rowk", "%step", "%rem")
    tile_load(p, "vx", "%rowv", "%step", "%rem")
    key_mask_load(p, "%mv0", "%mv1", "%j")
    p.i("add.u32 %mk, %sk, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sv, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("mad.lo.u32 %mk, %warp, 2304, %patX")
    p.i("add.u32 %mk, %mk, %sq")
    load_afrags(p, "qf", "%mk", 0)
    p.c("---- softmax state and output accumulator ----")
    zero_acc(p, "o")
    for r in range(2):
        p.i(f"mov.f32 %rm{r}, {NEG_INF}")
        p.i(f"mov.f32 %rl{r}, {ZERO}")
    p.i("shr.u32 %r0, %lane, 2")
    p.i("mad.lo.u32 %r0, %warp, 16, %r0")
    p.i("add.u32 %r0, %r0, %q0")                    # this thread's row a (row b = r0 + 8)
    p.i("add.u32 %patY, %patY, %sk")                # Y pattern only reads K here
    p.i("add.u32 %patX, %patX, %sv")                # X pattern (trans) only reads V here
    p()
    p.label("KV_LOOP")
    p.c("==== key tile j: keys 64j .. 64j+63 ====")
    p.i("setp.lt.u32 %pd, %j, %qt")                 # another tile follows (uniform)
    p.i("@!%pd bra.uni NO_PREFETCH")
    p.c("prefetch tile j+1 into registers (consumed after P.V)")
    p.i("add.u32 %k0, %j, 1")
    p.i("shl.b32 %k0, %k0, 6")
    p.i("mul.wide.s32 %ma, %k0, %C3")
    p.i("shl.b64 %ma, %ma, 2")
    p.i("sub.s32 %rem, %T, %k0")
    p.i("sub.s32 %rem, %rem, %tr")
    p.i("add.s64 %gk, %rowk, %ma")
    tile_load(p, "kx", "%gk", "%step", "%rem")
    p.i("add.s64 %gk, %rowv, %ma")
    tile_load(p, "vx", "%gk", "%step", "%rem")
    key_mask_load(p, "%mn0", "%mn1", "%k0")
    p.label("NO_PREFETCH")
    p.c("S = Q K^T (16 x 64 per warp): 4 k-steps x 8 n-tiles of mma.m16n8k16")
    zero_acc(p, "s")
    gemm_abT(p, "s", "qf", "%patY")
    p.c("key-mask bits of tile j; masked path on the diagonal tile or when a key is masked")
    key_mask_ballot(p, "%mv0", "%mv1", "%mlo", "%mhi")
    p.i("and.b32 %mt, %mlo, %mhi")
    p.i("setp.ne.b32 %pk, %mt, -1")
    p.i("setp.eq.or.u32 %pk, %j, %qt, %pk")
    p.i("@!%pk bra.uni MASK_DONE")
    p.i("shr.b32 %wlo, %mlo, %cb")
    p.i("shr.b32 %whi, %mhi, %cb")
    p.i("shl.b32 %k0, %j, 6")
    p.i("sub.s32 %lima, %r0, %k0")
    p.i("sub.s32 %lima, %lima, %cb")
    p.i("add.s32 %limb, %lima, 8")
    mask_scores(p, "s", "%wlo", "%whi", "%lima", "%limb")
    p.label("MASK_DONE")
    p.c("online softmax (fp32)")
    softmax_tile(p, "s", "o", ["%rm0", "%rm1"], ["%rl0", "%rl1"], "%sl2")
    p.c("O += P V: P to bf16 A fragments in registers, V via ldmatrix.trans")
    acc_to_afrags(p, "pf", "s")
    gemm_ab(p, "o", "pf", "%patX")
    p.i("@!%pd bra.uni KV_DONE")
    p.c("swap in the prefetched tile")
    p.i("mov.b32 %mv0, %mn0")
    p.i("mov.b32 %mv1, %mn1")
    p.i("bar.sync 0")
    p.i("add.u32 %mk, %sk, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sv, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("add.u32 %j, %j, 1")
    p.i("bra.uni KV_LOOP")
    p.label("KV_DONE")
    p()
    p.c("---- epilogue: l over the quad, O /= l (0 for empty rows), LSE ----")
    p.i("ld.param.u64 %out, [prm+8]")
    p.i("ld.param.u64 %out2, [prm+16]")
    p.i("ld.param.u64 %lse, [prm+24]")
    p.i("cvta.to.global.u64 %lse, %lse")
    p.i("setp.ne.b64 %pd, %out2, 0")
    p.i("cvta.to.global.u64 %out, %out")
    p.i("cvta.to.global.u64 %out2, %out2")
    p.i("mad.lo.s32 %mk, %bidx, %NH, %head")
    p.i("mul.lo.s32 %mk, %mk, %T")                  # (b*NH + h) * T
    for r in range(2):
        row = "%r0" if r == 0 else "%limb"
        if r == 1:
            p.i("add.u32 %limb, %r0, 8")
        p.c(f"row {'ab'[r]}")
        quad_reduce(p, f"%rl{r}", "add")
        p.i(f"setp.gt.f32 %pn, %rl{r}, {ZERO}")
        p.i(f"rcp.approx.ftz.f32 %inv, %rl{r}")
        p.i(f"selp.f32 %inv, %inv, {ZERO}, %pn")
        p.i(f"lg2.approx.ftz.f32 %rs, %rl{r}")
        p.i(f"add.f32 %rs, %rs, %rm{r}")
        p.i(f"mul.f32 %rs, %rs, {LN2}")
        p.i(f"selp.f32 %rs, %rs, {NEG_INF}, %pn")
        p.i(f"setp.lt.s32 %pa, {row}, %T")
        p.i("setp.eq.and.u32 %pb, %cb, 0, %pa")
        p.i(f"add.s32 %mt, %mk, {row}")
        p.i("mul.wide.s32 %ma, %mt, 4")
        p.i("add.s64 %ga, %lse, %ma")
        p.i("@%pb st.global.f32 [%ga], %rs")
        p.c("out[b, row, h*64 + 8jn + cb .. +1]")
        p.i(f"mad.lo.s32 %mt, %bidx, %T, {row}")
        p.i("mul.lo.s32 %mt, %mt, %C")
        p.i("shl.b32 %sh, %head, 6")
        p.i("add.s32 %mt, %mt, %sh")
        p.i("add.s32 %mt, %mt, %cb")
        p.i("mul.wide.s32 %ma, %mt, 4")
        p.i("add.s64 %ga, %out, %ma")
        p.i("add.s64 %ma, %out2, %ma")
        p.i("and.pred %pb, %pa, %pd")
        for jn in range(8):
            a = acc("o", jn)
            e0, e1 = a[2 * r], a[2 * r + 1]
            p.i(f"mul.f32 {e0}, {e0}, %inv")
            p.i(f"mul.f32 {e1}, {e1}, %inv")
            p.i(f"@%pa st.global.v2.f32 [%ga+{jn * 32}], {{{e0},{e1}}}")
            p.i(f"@%pb st.global.v2.f32 [%ma+{jn * 32}], {{{e0},{e1}}}")
    p.i("ret")
    p("}")
    return p.text()


# =============================================================================================
# backward

BWD_HEADER = f"""\
// Generated by tools/attention_ptxgen.py from hand-written templates (unrolling only); do not edit.
//
// attention_backward.ptx -- fused causal multi-head attention, backward (FlashAttention-2 style)
// =============================================================================================
//
// Gradient of attention_forward.ptx (see there for the forward and its layouts). Nothing of size
// T x T is read or written: P is recomputed tile by tile as P = exp(scale*Q.K^T - LSE) from the
// per-row log-sum-exp saved by the forward (rows whose LSE is -inf saw no key: P = 0).
//
//   D_t   = sum_d dO_td O_td                      (attention_backward_dot)
//   dP    = dO V^T,  dZ = P o (dP - D)            (dZ: gradient of the scaled scores)
//   dV    = P^T dO,  dK = scale * dZ^T Q,  dQ = scale * dZ K
//
// Three kernels, launched in this order on one stream:
//   attention_backward_dot   D [B,NH,T] from O and dO; one warp per (token, head).
//                            grid = (ceil(B*T*NH/8),1,1), block = 256. Params (48 B):
//                            +0 u64 O f32 rows of ldo floats (head h at column h*64), +8 u64 dout
//                            f32 [B,T,C], +16 u64 D f32 [B,NH,T], +24 s32 T, +28 s32 C, +32 s32 NH,
//                            +36 s32 ldo, +40 s32 B*T.
//   attention_backward_dkdv  dK, dV: one CTA per (key tile of 64, head, batch), 4 warps, warp w owns
//                            keys 16w..16w+15 (K and V A-fragments stay in registers); loops over
//                            query tiles from the diagonal to the end. Per query tile: S^T = K Q^T,
//                            P^T, dV += P^T dO, dP^T = V dO^T, dZ^T, dK += dZ^T Q (4 mma products).
//   attention_backward_dq    dQ: one CTA per (query tile of 64, head, batch), 4 warps of 16 query
//                            rows (Q and dO A-fragments in registers); loops over key tiles up to
//                            the diagonal with the next K/V tile prefetched into registers, as in
//                            the forward. Per key tile: S, P, dP = dO V^T, dZ, dQ += dZ K (3 products).
// Launch:  _dkdv and _dq: grid = (ceil(T/64), NH, B), block = (128,1,1), static shared memory only.
// Shared:  _dkdv: Q and dO tiles (bf16, 64 x 144 B) 2 x 9216 + log2-LSE and D of the tile 512 = 18944 B
//          (K and V pass through the same buffers once, into registers). _dq: K and V tiles 18432 B.
// Registers (ptxas 11.8 -v, no spills): _dkdv 182 (sm_80) / 179 (sm_90): K,V fragments 32, dK,dV 64,
//          S/P/dZ 32, dP 32, bf16 fragments 16, fp32 tile staging (not live across the products).
//          _dq 240 / 240: Q,dO fragments 32, dQ 32, S 32, dP 32, fragments 16, K/V prefetch 64.
//          _dot 17 / 16. Occupancy: 2 CTAs (8 warps) per SM for _dkdv and _dq.
// dQ is computed by its own kernel rather than with fp32 atomics from the dK/dV kernel (FA-2's
// choice): the result is deterministic (principle 8: same inputs, same bits) at the price of
// recomputing S and dP once more (7 tensor-core products per tile pair instead of 5).
// Every element of dqkv[B,T,3C] is overwritten (dq by _dq, dk and dv by _dkdv).
//
// Masks: causal on the diagonal tile; the key padding mask is applied per element in _dq (as in the
// forward) and, in _dkdv, by zeroing the dK/dV rows of masked keys (a masked key has P = 0 in every
// row). Query rows past T carry LSE = +inf (P = 0) and D = 0.
// Precision as the forward: bf16 tensor-core operands (Q, K, V, dO, P, dZ), fp32 accumulation and
// softmax recomputation; expect ~1e-2 of max |grad| against an fp64 reference.
//
// Parameters of _dkdv and _dq: one 72-byte struct (AttentionBackwardParams in Cuda/Attention.cs)
//   +0  u64 qkv     f32 [B,T,3C]        +8  u64 dout   f32 [B,T,C]
//   +16 u64 dqkv    f32 [B,T,3C] (out)   +24 u64 lse    f32 [B,NH,T] (from the forward)
//   +32 u64 D       f32 [B,NH,T]         +40 u64 mask   i32 [B,T], 0 = every key visible
//   +48 s32 T   +52 s32 C   +56 s32 NH   +60 f32 scaleLog2   +64 f32 scale   (+68 pad)
// Budgets (ptxas -v, sm_80/sm_90) are listed in docs/attention-ptx.md.
//
.version 7.8
.target sm_80
.address_size 64
"""


def gen_dot(p):
    p(".visible .entry attention_backward_dot(.param .align 8 .b8 prm[48])")
    p("{")
    p("\t.reg .pred %pv, %p0;")
    p("\t.reg .b32 %thr, %lane, %gw, %row, %h, %b, %t, %T, %C, %NH, %ldo, %BT, %x;")
    p("\t.reg .b64 %po, %pdo, %pd, %a;")
    p("\t.reg .f32 %o<2>, %g<2>, %acc, %sh;")
    p.c("warp gw handles token row = gw / NH (= b*T + t) and head h = gw % NH")
    p.i("ld.param.u64 %po, [prm+0]")
    p.i("ld.param.u64 %pdo, [prm+8]")
    p.i("ld.param.u64 %pd, [prm+16]")
    p.i("cvta.to.global.u64 %po, %po")
    p.i("cvta.to.global.u64 %pdo, %pdo")
    p.i("cvta.to.global.u64 %pd, %pd")
    p.i("ld.param.u32 %T, [prm+24]")
    p.i("ld.param.u32 %C, [prm+28]")
    p.i("ld.param.u32 %NH, [prm+32]")
    p.i("ld.param.u32 %ldo, [prm+36]")
    p.i("ld.param.u32 %BT, [prm+40]")
    p.i("mov.u32 %thr, %tid.x")
    p.i("and.b32 %lane, %thr, 31")
    p.i("shr.u32 %gw, %thr, 5")
    p.i("mov.u32 %x, %ctaid.x")
    p.i("mad.lo.u32 %gw, %x, 8, %gw")
    p.i("mul.lo.u32 %x, %BT, %NH")
    p.i("setp.lt.u32 %pv, %gw, %x")
    p.i("selp.u32 %gw, %gw, 0, %pv")               # out-of-range warps read row 0, store nothing
    p.i("div.u32 %row, %gw, %NH")
    p.i("rem.u32 %h, %gw, %NH")
    p.c("lane holds head dims 2*lane, 2*lane+1")
    p.i("shl.b32 %x, %h, 6")
    p.i("mad.lo.u32 %x, %lane, 2, %x")
    p.i("mad.lo.u32 %t, %row, %ldo, %x")
    p.i("mul.wide.u32 %a, %t, 4")
    p.i("add.s64 %a, %po, %a")
    p.i("ld.global.nc.v2.f32 {%o0,%o1}, [%a]")
    p.i("mad.lo.u32 %t, %row, %C, %x")
    p.i("mul.wide.u32 %a, %t, 4")
    p.i("add.s64 %a, %pdo, %a")
    p.i("ld.global.nc.v2.f32 {%g0,%g1}, [%a]")
    p.i("mul.f32 %acc, %o0, %g0")
    p.i("fma.rn.f32 %acc, %o1, %g1, %acc")
    for x in (16, 8, 4, 2, 1):
        p.i(f"shfl.sync.bfly.b32 %sh, %acc, {x}, 31, -1")
        p.i("add.f32 %acc, %acc, %sh")
    p.c("D[(b*NH + h)*T + t]")
    p.i("div.u32 %b, %row, %T")
    p.i("rem.u32 %t, %row, %T")
    p.i("mad.lo.u32 %x, %b, %NH, %h")
    p.i("mad.lo.u32 %x, %x, %T, %t")
    p.i("mul.wide.u32 %a, %x, 4")
    p.i("add.s64 %a, %pd, %a")
    p.i("setp.eq.and.u32 %p0, %lane, 0, %pv")
    p.i("@%p0 st.global.f32 [%a], %acc")
    p.i("ret")
    p("}")
    p()


def bwd_setup(p):
    """Shared prologue of _dkdv and _dq: params, indices, lane patterns, global row bases."""
    p.i("ld.param.f32 %sl2, [prm+60]")
    p.i("ld.param.f32 %scl, [prm+64]")
    p.i("ld.param.u64 %qkv, [prm+0]")
    p.i("cvta.to.global.u64 %qkv, %qkv")
    p.i("ld.param.u64 %dout, [prm+8]")
    p.i("cvta.to.global.u64 %dout, %dout")
    p.i("ld.param.u64 %dqkv, [prm+16]")
    p.i("cvta.to.global.u64 %dqkv, %dqkv")
    p.i("ld.param.u64 %lse, [prm+24]")
    p.i("cvta.to.global.u64 %lse, %lse")
    p.i("ld.param.u64 %dvec, [prm+32]")
    p.i("cvta.to.global.u64 %dvec, %dvec")
    p.i("ld.param.u64 %mrow, [prm+40]")
    p.i("setp.ne.b64 %pk, %mrow, 0")
    p.i("cvta.to.global.u64 %ga, %mrow")
    p.i("mul.wide.s32 %ma, %bidx, %T")
    p.i("shl.b64 %ma, %ma, 2")
    p.i("add.s64 %ga, %ga, %ma")
    p.i("selp.b64 %mrow, %ga, 0, %pk")
    p.c("row statistics base: (b*NH + h) * T")
    p.i("mad.lo.s32 %bh, %bidx, %NH, %head")
    p.i("mul.lo.s32 %bh, %bh, %T")
    lane_patterns(p)
    p.c("global row bases: thread row tr of token 0 for q, k, v (qkv) and for dout")
    p.i("shl.b32 %mt, %head, 6")
    row_base(p, "%rowq", "%qkv", "%C3", "%mt")
    p.i("mul.wide.s32 %ma, %C, 4")
    p.i("add.s64 %rowk, %rowq, %ma")
    p.i("add.s64 %rowv, %rowk, %ma")
    p.i("shl.b32 %mt, %head, 6")
    row_base(p, "%rowo", "%dout", "%C", "%mt")
    p.i("mul.wide.s32 %step, %C3, 32")            # 8 rows of qkv, bytes
    p.i("mul.wide.s32 %stepo, %C, 32")            # 8 rows of dout, bytes


BWD_REGS = """\
	.reg .b64 %qkv, %dout, %dqkv, %lse, %dvec, %rowq, %rowk, %rowv, %rowo, %step, %stepo, %gk;
	.reg .b32 %bh, %nt, %it, %i0, %j, %k0, %rem, %r0, %lima, %limb, %sa, %sb;
	.reg .f32 %sl2, %scl, %x, %y, %la, %lb, %da, %db;
	.reg .f32 %s<32>;       // S / P / dZ, 8 n-tiles of 8 columns
	.reg .f32 %dp<32>;      // dP
	.reg .b32 %pf<16>;      // bf16 A-fragments of P or dZ
	.reg .f32 %kx<32>, %vx<32>;   // fp32 tile staging (and prefetch in _dq)"""


def lse_to_log2(p, dst, valid):
    """dst (f32, natural LSE) -> log2-domain LSE; -inf (row saw no key) or !valid -> +inf, so that
    P = 2^(S*scaleLog2 - lse2) = 0."""
    p.i(f"setp.eq.f32 %pn, {dst}, {NEG_INF}")
    p.i(f"mul.f32 {dst}, {dst}, {LOG2E}")
    p.i(f"selp.f32 {dst}, {POS_INF}, {dst}, %pn")
    p.i(f"selp.f32 {dst}, {dst}, {POS_INF}, {valid}")


def store_rows(p, accname, base, col_third, scale_reg, keep_a, keep_b, rowa):
    """Write a 16 x 64 accumulator (rows rowa, rowa+8) into dqkv[b, row, col_third*C + h*64 + ...],
    optionally scaled, with rows past T skipped and rows whose keep predicate is false written 0."""
    for r, keep in ((0, keep_a), (1, keep_b)):
        row = rowa if r == 0 else "%sb"
        if r == 1:
            p.i(f"add.u32 %sb, {rowa}, 8")
        p.i(f"setp.lt.s32 %pa, {row}, %T")
        p.i(f"mad.lo.s32 %mt, %bidx, %T, {row}")
        p.i("mul.lo.s32 %mt, %mt, %C3")
        if col_third:
            p.i(f"mad.lo.s32 %mt, %C, {col_third}, %mt")
        p.i("shl.b32 %sh, %head, 6")
        p.i("add.s32 %mt, %mt, %sh")
        p.i("add.s32 %mt, %mt, %cb")
        p.i("mul.wide.s32 %ma, %mt, 4")
        p.i(f"add.s64 %ga, {base}, %ma")
        for jn in range(8):
            a = acc(accname, jn)
            e0, e1 = a[2 * r], a[2 * r + 1]
            if scale_reg:
                p.i(f"mul.f32 {e0}, {e0}, {scale_reg}")
                p.i(f"mul.f32 {e1}, {e1}, {scale_reg}")
            if keep:
                p.i(f"selp.f32 {e0}, {e0}, {ZERO}, {keep}")
                p.i(f"selp.f32 {e1}, {e1}, {ZERO}, {keep}")
            p.i(f"@%pa st.global.v2.f32 [%ga+{jn * 32}], {{{e0},{e1}}}")


def tile_offset(p, dst_reg, base, tile0, stride_reg):
    """dst = base + tile0 * stride * 4 (64-bit): first row of a tile for this thread."""
    p.i(f"mul.wide.s32 %ma, {tile0}, {stride_reg}")
    p.i("shl.b64 %ma, %ma, 2")
    p.i(f"add.s64 {dst_reg}, {base}, %ma")


def gen_dkdv(p):
    p(".visible .entry attention_backward_dkdv(.param .align 8 .b8 prm[72])")
    p("{")
    p(COMMON_REGS)
    p(PATTERN_REGS)
    p(BWD_REGS)
    p("\t.reg .b32 %kf<16>, %vf<16>;   // K and V A-fragments of this warp's 16 keys")
    p("\t.reg .f32 %dk<32>, %dv<32>;   // dK and dV accumulators")
    p("\t.reg .b32 %sq, %sd, %sl;")
    p("\t.reg .pred %kva, %kvb;")
    p(f"\t.shared .align 16 .b8 smq[{TILE_BYTES}];    // Q tile (K tile while loading fragments)")
    p(f"\t.shared .align 16 .b8 smd[{TILE_BYTES}];    // dO tile (V tile while loading fragments)")
    p("\t.shared .align 16 .b8 sml[512];      // log2 LSE [64] then D [64] of the query tile")
    p()
    thread_setup(p, 48, 52, 56)
    p.i("mov.u32 %nt, %nctaid.x")
    p.i("mov.u32 %it, %ctaid.x")                   # key tile; tile 0 has the most work
    p.i("shl.b32 %k0, %it, 6")
    bwd_setup(p)
    p.i("mov.u32 %sq, smq")
    p.i("mov.u32 %sd, smd")
    p.i("mov.u32 %sl, sml")
    p()
    p.c("---- K, V tile of this CTA -> bf16 shared -> A fragments of the warp's 16 keys ----")
    p.i("sub.s32 %rem, %T, %k0")
    p.i("sub.s32 %rem, %rem, %tr")
    tile_offset(p, "%gk", "%rowk", "%k0", "%C3")
    tile_load(p, "kx", "%gk", "%step", "%rem")
    tile_offset(p, "%gk", "%rowv", "%k0", "%C3")
    tile_load(p, "vx", "%gk", "%step", "%rem")
    p.i("add.u32 %mk, %sq, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sd, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("mad.lo.u32 %mk, %warp, 2304, %patX")
    p.i("add.u32 %sa, %mk, %sq")
    load_afrags(p, "kf", "%sa", 0)
    p.i("add.u32 %sa, %mk, %sd")
    load_afrags(p, "vf", "%sa", 0)
    p.c("key rows of this thread: r0 (row a), r0+8 (row b); visible = in range and keyMask != 0")
    p.i("shr.u32 %r0, %lane, 2")
    p.i("mad.lo.u32 %r0, %warp, 16, %r0")         # row within the tile
    p.i("add.u32 %sa, %r0, %k0")
    key_vis = [("%kva", "%sa"), ("%kvb", "%sb")]
    p.i("add.u32 %sb, %sa, 8")
    for pred, reg in key_vis:
        p.i(f"setp.lt.s32 %pl, {reg}, %T")
        p.i("setp.ne.and.b64 %pk, %mrow, 0, %pl")
        p.i(f"mul.wide.s32 %ma, {reg}, 4")
        p.i("add.s64 %ma, %mrow, %ma")
        p.i("mov.u32 %mt, 1")
        p.i("@%pk ld.global.nc.u32 %mt, [%ma]")
        p.i(f"setp.ne.and.s32 {pred}, %mt, 0, %pl")
    p.c("causal limits on the diagonal tile: key row r0 sees query column c iff c >= r0")
    p.i("sub.s32 %lima, %r0, %cb")
    p.i("add.s32 %limb, %lima, 8")
    zero_acc(p, "dk")
    zero_acc(p, "dv")
    p.i("add.u32 %patX, %patX, %sq")               # trans reads: Q (dK) and dO (dV)
    p.i("add.u32 %patY, %patY, %sq")               # non-trans reads: Q (S^T) and dO (dP^T)
    p.i("sub.u32 %sa, %sd, %sq")                   # dO tile = Q tile + %sa
    p.i("mov.u32 %j, %it")
    p.i("bar.sync 0")
    p()
    p.label("Q_LOOP")
    p.c("==== query tile j: queries 64j .. 64j+63 ====")
    p.i("shl.b32 %i0, %j, 6")
    p.i("sub.s32 %rem, %T, %i0")
    p.i("sub.s32 %rem, %rem, %tr")
    tile_offset(p, "%gk", "%rowq", "%i0", "%C3")
    tile_load(p, "kx", "%gk", "%step", "%rem")
    tile_offset(p, "%gk", "%rowo", "%i0", "%C")
    tile_load(p, "vx", "%gk", "%stepo", "%rem")
    p.c("threads 0..63: log2 LSE of query i0+thr; threads 64..127: D of query i0+thr-64")
    p.i("and.b32 %mt, %thr, 63")
    p.i("add.s32 %mt, %mt, %i0")
    p.i("setp.lt.s32 %pa, %mt, %T")
    p.i("add.s32 %mt, %mt, %bh")
    p.i("mul.wide.s32 %ma, %mt, 4")
    p.i("setp.lt.u32 %pb, %thr, 64")
    p.i("selp.b64 %ga, %lse, %dvec, %pb")
    p.i("add.s64 %ga, %ga, %ma")
    p.i(f"mov.f32 %x, {ZERO}")
    p.i("@%pa ld.global.nc.f32 %x, [%ga]")
    p.i("mov.f32 %y, %x")
    lse_to_log2(p, "%y", "%pa")
    p.i("selp.f32 %x, %y, %x, %pb")
    p.i("mad.lo.u32 %mt, %thr, 4, %sl")
    p.i("st.shared.f32 [%mt], %x")
    p.i("add.u32 %mk, %sq, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sd, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.c("S^T = K Q^T (16 keys x 64 queries per warp)")
    zero_acc(p, "s")
    gemm_abT(p, "s", "kf", "%patY")
    p.i("setp.ne.u32 %pd, %j, %it")
    p.i("@%pd bra.uni DIAG_DONE")
    p.c("diagonal tile: query column c < key row -> -inf")
    for jn in range(8):
        for e in range(2):
            cimm = 8 * jn + e
            a, bb = acc("s", jn)[e], acc("s", jn)[2 + e]
            p.i(f"setp.le.s32 %pv, %lima, {cimm}")
            p.i(f"selp.f32 {a}, {a}, {NEG_INF}, %pv")
            p.i(f"setp.le.s32 %pv, %limb, {cimm}")
            p.i(f"selp.f32 {bb}, {bb}, {NEG_INF}, %pv")
    p.label("DIAG_DONE")
    p.c("P^T = 2^(S^T*scaleLog2 - lse2[column])")
    p.i("mad.lo.u32 %mk, %cb, 4, %sl")
    for jn in range(8):
        a = acc("s", jn)
        p.i(f"ld.shared.v2.f32 {{%la,%lb}}, [%mk+{jn * 32}]")
        p.i("neg.f32 %la, %la")
        p.i("neg.f32 %lb, %lb")
        for e, l in ((0, "%la"), (1, "%lb"), (2, "%la"), (3, "%lb")):
            p.i(f"fma.rn.f32 {a[e]}, {a[e]}, %sl2, {l}")
            p.i(f"ex2.approx.ftz.f32 {a[e]}, {a[e]}")
    p.c("dV += P^T dO")
    acc_to_afrags(p, "pf", "s")
    p.i("add.u32 %sb, %patX, %sa")
    gemm_ab(p, "dv", "pf", "%sb")
    p.c("dP^T = V dO^T")
    zero_acc(p, "dp")
    p.i("add.u32 %sb, %patY, %sa")
    gemm_abT(p, "dp", "vf", "%sb")
    p.c("dZ^T = P^T o (dP^T - D[column])")
    for jn in range(8):
        a, d = acc("s", jn), acc("dp", jn)
        p.i(f"ld.shared.v2.f32 {{%da,%db}}, [%mk+{256 + jn * 32}]")
        for e, dd in ((0, "%da"), (1, "%db"), (2, "%da"), (3, "%db")):
            p.i(f"sub.f32 {d[e]}, {d[e]}, {dd}")
            p.i(f"mul.f32 {a[e]}, {a[e]}, {d[e]}")
    p.c("dK += dZ^T Q (scaled at the end)")
    acc_to_afrags(p, "pf", "s")
    gemm_ab(p, "dk", "pf", "%patX")
    p.i("bar.sync 0")
    p.i("add.u32 %j, %j, 1")
    p.i("setp.lt.u32 %pd, %j, %nt")
    p.i("@%pd bra.uni Q_LOOP")
    p()
    p.c("---- epilogue: dk, dv rows of keys k0+r0, k0+r0+8; masked keys get 0 ----")
    p.i("add.u32 %r0, %r0, %k0")
    store_rows(p, "dk", "%dqkv", 1, "%scl", "%kva", "%kvb", "%r0")
    store_rows(p, "dv", "%dqkv", 2, None, "%kva", "%kvb", "%r0")
    p.i("ret")
    p("}")
    p()


def gen_dq(p):
    p(".visible .entry attention_backward_dq(.param .align 8 .b8 prm[72])")
    p("{")
    p(COMMON_REGS)
    p(PATTERN_REGS)
    p(BWD_REGS)
    p("\t.reg .b32 %qf<16>, %of<16>;   // Q and dO A-fragments of this warp's 16 query rows")
    p("\t.reg .f32 %dq<32>;            // dQ accumulator")
    p("\t.reg .b32 %sk, %sv, %mv<2>, %mn<2>, %mlo, %mhi, %wlo, %whi;")
    p(f"\t.shared .align 16 .b8 smk[{TILE_BYTES}];    // K tile (Q tile while loading fragments)")
    p(f"\t.shared .align 16 .b8 smv[{TILE_BYTES}];    // V tile (dO tile while loading fragments)")
    p()
    thread_setup(p, 48, 52, 56)
    p.i("mov.u32 %nt, %nctaid.x")
    p.i("mov.u32 %it, %ctaid.x")
    p.i("sub.u32 %it, %nt, %it")
    p.i("sub.u32 %it, %it, 1")                     # query tile, last (longest) first
    p.i("shl.b32 %i0, %it, 6")
    bwd_setup(p)
    p.i("mov.u32 %sk, smk")
    p.i("mov.u32 %sv, smv")
    p()
    p.c("---- Q, dO tile -> bf16 shared -> A fragments of the warp's 16 query rows ----")
    p.i("sub.s32 %rem, %T, %i0")
    p.i("sub.s32 %rem, %rem, %tr")
    tile_offset(p, "%gk", "%rowq", "%i0", "%C3")
    tile_load(p, "kx", "%gk", "%step", "%rem")
    tile_offset(p, "%gk", "%rowo", "%i0", "%C")
    tile_load(p, "vx", "%gk", "%stepo", "%rem")
    p.i("add.u32 %mk, %sk, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sv, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("mad.lo.u32 %mk, %warp, 2304, %patX")
    p.i("add.u32 %sa, %mk, %sk")
    load_afrags(p, "qf", "%sa", 0)
    p.i("add.u32 %sa, %mk, %sv")
    load_afrags(p, "of", "%sa", 0)
    p.c("row statistics: log2 LSE (+inf: no key / past T) and D of rows r0, r0+8")
    p.i("shr.u32 %r0, %lane, 2")
    p.i("mad.lo.u32 %r0, %warp, 16, %r0")
    p.i("add.u32 %r0, %r0, %i0")
    for row, lreg, dreg in (("%r0", "%la", "%da"), ("%sb", "%lb", "%db")):
        if row == "%sb":
            p.i("add.u32 %sb, %r0, 8")
        p.i(f"setp.lt.s32 %pa, {row}, %T")
        p.i(f"add.s32 %mt, %bh, {row}")
        p.i("mul.wide.s32 %ma, %mt, 4")
        p.i("add.s64 %ga, %lse, %ma")
        p.i(f"mov.f32 {lreg}, {ZERO}")
        p.i(f"@%pa ld.global.nc.f32 {lreg}, [%ga]")
        lse_to_log2(p, lreg, "%pa")
        p.i(f"neg.f32 {lreg}, {lreg}")
        p.i("add.s64 %ga, %dvec, %ma")
        p.i(f"mov.f32 {dreg}, {ZERO}")
        p.i(f"@%pa ld.global.nc.f32 {dreg}, [%ga]")
    zero_acc(p, "dq")
    p.i("bar.sync 0")
    p.c("---- K/V tile 0 ----")
    p.i("mov.u32 %j, 0")
    p.i("sub.s32 %rem, %T, %tr")
    tile_load(p, "kx", "%rowk", "%step", "%rem")
    tile_load(p, "vx", "%rowv", "%step", "%rem")
    key_mask_load(p, "%mv0", "%mv1", "%j")
    p.i("add.u32 %mk, %sk, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sv, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("add.u32 %sa, %patY, %sk")                 # S = Q K^T: non-trans K
    p.i("add.u32 %sb, %patY, %sv")                 # dP = dO V^T: non-trans V
    p.i("add.u32 %patX, %patX, %sk")               # dQ += dZ K: trans K
    p()
    p.label("KV_LOOP")
    p.c("==== key tile j ====")
    p.i("setp.lt.u32 %pd, %j, %it")
    p.i("@!%pd bra.uni NO_PREFETCH")
    p.c("prefetch tile j+1 into registers")
    p.i("add.u32 %k0, %j, 1")
    p.i("shl.b32 %k0, %k0, 6")
    p.i("sub.s32 %rem, %T, %k0")
    p.i("sub.s32 %rem, %rem, %tr")
    tile_offset(p, "%gk", "%rowk", "%k0", "%C3")
    tile_load(p, "kx", "%gk", "%step", "%rem")
    tile_offset(p, "%gk", "%rowv", "%k0", "%C3")
    tile_load(p, "vx", "%gk", "%step", "%rem")
    key_mask_load(p, "%mn0", "%mn1", "%k0")
    p.label("NO_PREFETCH")
    p.c("S = Q K^T")
    zero_acc(p, "s")
    gemm_abT(p, "s", "qf", "%sa")
    key_mask_ballot(p, "%mv0", "%mv1", "%mlo", "%mhi")
    p.i("and.b32 %mt, %mlo, %mhi")
    p.i("setp.ne.b32 %pk, %mt, -1")
    p.i("setp.eq.or.u32 %pk, %j, %it, %pk")
    p.i("@!%pk bra.uni MASK_DONE")
    p.i("shr.b32 %wlo, %mlo, %cb")
    p.i("shr.b32 %whi, %mhi, %cb")
    p.i("shl.b32 %k0, %j, 6")
    p.i("sub.s32 %lima, %r0, %k0")
    p.i("sub.s32 %lima, %lima, %cb")
    p.i("add.s32 %limb, %lima, 8")
    mask_scores(p, "s", "%wlo", "%whi", "%lima", "%limb")
    p.label("MASK_DONE")
    p.c("P = 2^(S*scaleLog2 - lse2[row])   (%la, %lb hold -lse2)")
    for jn in range(8):
        a = acc("s", jn)
        for e, l in ((0, "%la"), (1, "%la"), (2, "%lb"), (3, "%lb")):
            p.i(f"fma.rn.f32 {a[e]}, {a[e]}, %sl2, {l}")
            p.i(f"ex2.approx.ftz.f32 {a[e]}, {a[e]}")
    p.c("dP = dO V^T")
    zero_acc(p, "dp")
    gemm_abT(p, "dp", "of", "%sb")
    p.c("dZ = P o (dP - D[row])")
    for jn in range(8):
        a, d = acc("s", jn), acc("dp", jn)
        for e, dd in ((0, "%da"), (1, "%da"), (2, "%db"), (3, "%db")):
            p.i(f"sub.f32 {d[e]}, {d[e]}, {dd}")
            p.i(f"mul.f32 {a[e]}, {a[e]}, {d[e]}")
    p.c("dQ += dZ K")
    acc_to_afrags(p, "pf", "s")
    gemm_ab(p, "dq", "pf", "%patX")
    p.i("@!%pd bra.uni KV_DONE")
    p.c("swap in the prefetched tile")
    p.i("mov.b32 %mv0, %mn0")
    p.i("mov.b32 %mv1, %mn1")
    p.i("bar.sync 0")
    p.i("add.u32 %mk, %sk, %stg")
    tile_store(p, "kx", "%mk")
    p.i("add.u32 %mk, %sv, %stg")
    tile_store(p, "vx", "%mk")
    p.i("bar.sync 0")
    p.i("add.u32 %j, %j, 1")
    p.i("bra.uni KV_LOOP")
    p.label("KV_DONE")
    p()
    p.c("---- epilogue: dq = scale * dQ for rows r0, r0+8 ----")
    store_rows(p, "dq", "%dqkv", 0, "%scl", None, None, "%r0")
    p.i("ret")
    p("}")


def gen_backward():
    p = Ptx()
    p(BWD_HEADER)
    gen_dot(p)
    gen_dkdv(p)
    gen_dq(p)
    return p.text()


if __name__ == "__main__":
    if len(sys.argv) not in (1, 3) or (len(sys.argv) == 3 and sys.argv[1] != "--out"):
        sys.exit("usage: attention_ptxgen.py [--out DIR]")
    out = sys.argv[2] if len(sys.argv) == 3 else KERNELS
    # newline="\n": the committed files have LF line ends on every platform (the test compares bytes)
    with open(os.path.join(out, "attention_forward.ptx"), "w", newline="\n") as f:
        f.write(gen_forward())
    with open(os.path.join(out, "attention_backward.ptx"), "w", newline="\n") as f:
        f.write(gen_backward())
