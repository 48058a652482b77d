#!/usr/bin/python3
"""A small functional emulator for the subset of PTX used by the attention kernels.

It runs one CTA at a time with all threads in lockstep (the attention kernels branch only on
CTA-uniform conditions; the emulator asserts that), with numpy vectors of per-thread register
bits. mma.sync, ldmatrix, shfl and vote are emulated with the fragment layouts of the PTX ISA, and
cvt.rn.bf16x2.f32 rounds exactly as the hardware does, so the results carry bf16 operand error.
It exists because the machines that write these kernels have no GPU: it is a check of the PTX
text (addresses, fragment layouts, masks, control flow), not of timing. Used by
kernels/ptx/attention_emulate.py.

SimtCta (launch(..., simt=True)) drops the CTA-uniform restriction: every thread has its own pc and
each step runs the instruction at the lowest pc among the live threads for the threads there
(min-pc scheduling, which reconverges structured branches). shfl and vote assert that each warp they
touch is complete at that instruction, bar.sync that every live thread is at it. It also runs f64
arithmetic, 8-byte memory, shfl idx/up/down with the in-range predicate, brev/bfind/not and
pred logic (used by kernels/ptx/gae_emulate.py).
"""
import re
import numpy as np

U32 = np.uint32
MASK32 = np.uint64(0xFFFFFFFF)


def f2b(x):
    return np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)


def b2f(x):
    return (np.asarray(x, dtype=np.uint64) & MASK32).astype(np.uint32).view(np.float32)


def bf16_round_bits(f):
    """float32 array -> bf16 bits (round to nearest even)."""
    b = np.asarray(f, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(f, dtype=np.float32))
    r = np.where(nan, 0x7FC0, r)
    return (r & 0xFFFF).astype(np.uint64)


def bf16_to_f32(h):
    return (np.asarray(h, dtype=np.uint64).astype(np.uint32) << 16).view(np.float32)


class Memory:
    """Flat global memory: allocations live at increasing fake addresses in one byte array."""

    def __init__(self, size=1 << 26):
        self.buf = np.zeros(size, dtype=np.uint8)
        self.base = 0x10000
        self.top = self.base

    def alloc(self, nbytes):
        a = (self.top + 255) // 256 * 256
        self.top = a + nbytes
        assert self.top - self.base <= len(self.buf)
        return a

    def view(self, addr, n, dtype):
        off = addr - self.base
        return self.buf[off:off + n * np.dtype(dtype).itemsize].view(dtype)


def fma64(a, b, c):
    """fused a*b + c in double, rounded once (exact through Python fractions)."""
    from fractions import Fraction
    out = np.empty(len(a), np.float64)
    for i, (x, y, z) in enumerate(zip(a, b, c)):
        if not (np.isfinite(x) and np.isfinite(y) and np.isfinite(z)):
            out[i] = x * y + z
        else:
            out[i] = float(Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)))
    return out


def stmt_of(op, ops):
    return ".".join(op) + " " + ", ".join(ops)


def split_ops(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Kernel:
    def __init__(self, text, entry):
        m = re.search(r"\.entry\s+" + entry + r"\s*\((.*?)\)[^{;]*\{", text, re.S)
        assert m, entry
        body, depth, i = [], 1, m.end()
        while depth:
            ch = text[i]
            depth += ch == "{"
            depth -= ch == "}"
            i += 1
        body = text[m.end():i - 1]
        body = re.sub(r"//[^\n]*", "", body)
        self.shared = {}
        soff = 0
        # module-scope shared arrays (declared outside any entry; each CTA has its own copy)
        for sm in re.finditer(r"^\.shared\s+\.align\s+(\d+)\s+\.b8\s+(\w+)\[(\d+)\]\s*;", re.sub(r"//[^\n]*", "", text), re.M):
            al, name, n = int(sm.group(1)), sm.group(2), int(sm.group(3))
            soff = (soff + al - 1) // al * al
            self.shared[name] = soff
            soff += n
        self.code, self.labels = [], {}
        for stmt in body.replace("\n", " ").split(";"):
            stmt = stmt.strip()
            while True:
                lm = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", stmt)
                if not lm:
                    break
                self.labels[lm.group(1)] = len(self.code)
                stmt = lm.group(2).strip()
            if not stmt or stmt.startswith(".reg"):
                continue
            sm = re.match(r"\.shared\s+\.align\s+(\d+)\s+\.b8\s+(\w+)\[(\d+)\]", stmt)
            if sm:
                al, name, n = int(sm.group(1)), sm.group(2), int(sm.group(3))
                soff = (soff + al - 1) // al * al
                self.shared[name] = soff
                soff += n
                continue
            guard = None
            gm = re.match(r"^@(!?)(%\w+)\s+(.*)$", stmt)
            if gm:
                guard = (gm.group(1) == "!", gm.group(2))
                stmt = gm.group(3)
            op, _, rest = stmt.partition(" ")
            self.code.append((guard, op.split("."), split_ops(rest), stmt))
        self.smem_size = soff


class Cta:
    def __init__(self, kernel, mem, params, nthreads, ctaid, nctaid):
        self.k, self.mem, self.params = kernel, mem, params
        self.n = nthreads
        self.ctaid, self.nctaid = ctaid, nctaid
        self.regs = {}
        self.smem = np.zeros(max(kernel.smem_size, 16), dtype=np.uint8)
        self.tid = np.arange(nthreads, dtype=np.uint64)

    # ---- operand access
    def val(self, o, bits=32):
        if o in self.regs:
            return self.regs[o]
        if o.startswith("%"):
            sp = {"%tid.x": self.tid, "%ctaid.x": self.ctaid[0], "%ctaid.y": self.ctaid[1],
                  "%ctaid.z": self.ctaid[2], "%nctaid.x": self.nctaid[0], "%nctaid.y": self.nctaid[1],
                  "%nctaid.z": self.nctaid[2]}
            if o in sp:
                return np.broadcast_to(np.uint64(sp[o]) if np.isscalar(sp[o]) else sp[o], (self.n,)).astype(np.uint64)
            raise KeyError(f"register {o} read before written")
        if o in self.k.shared:
            return np.full(self.n, self.k.shared[o], dtype=np.uint64)
        if re.match(r"^0[fF][0-9a-fA-F]{8}$", o):
            return np.full(self.n, int(o[2:], 16), dtype=np.uint64)
        if re.match(r"^0[dD][0-9a-fA-F]{16}$", o):
            return np.full(self.n, int(o[2:], 16), dtype=np.uint64)
        v = int(o, 0)
        if v < 0:
            v &= (1 << bits) - 1
        return np.full(self.n, v, dtype=np.uint64)

    def set(self, o, v, mask):
        v = np.asarray(v)
        if v.dtype == np.float32:
            v = f2b(v)
        elif v.dtype == np.float64:
            v = v.view(np.uint64)
        v = np.broadcast_to(v.astype(np.uint64), (self.n,))
        if o in self.regs and mask is not None:
            self.regs[o] = np.where(mask, v, self.regs[o])
        else:
            self.regs[o] = v.copy()

    def addr(self, o):
        m = re.match(r"^\[([^\]+]+)(?:\+(-?\d+))?\]$", o)
        base, off = m.group(1), int(m.group(2) or 0)
        if base in ("prm", "params"):
            return off
        return (self.val(base, 64).astype(np.int64) + off)

    def warp_sync_check(self, mask, stmt):
        pass

    # ---- typed helpers
    @staticmethod
    def s32(x):
        return (x & MASK32).astype(np.uint32).view(np.int32).astype(np.int64)

    @staticmethod
    def u32(x):
        return (x & MASK32).astype(np.int64)

    def run(self):
        pc, code, steps = 0, self.k.code, 0
        while pc < len(code):
            guard, op, ops, stmt = code[pc]
            pc += 1
            steps += 1
            mask = None
            if guard is not None:
                p = self.regs[guard[1]].astype(bool)
                mask = ~p if guard[0] else p
            name = op[0]
            if name == "bra":
                take = np.ones(self.n, bool) if mask is None else mask
                if take.all():
                    pc = self.k.labels[ops[0]]
                else:
                    assert not take.any(), f"divergent branch: {stmt}"
                continue
            if name == "ret":
                return steps
            if name == "bar":
                continue
            try:
                self.exec(op, ops, mask, stmt)
            except Exception as e:
                raise RuntimeError(f"at '{stmt}': {e}") from e
        return steps

    def exec(self, op, ops, mask, stmt):
        name, t = op[0], op[-1]
        V = self.val
        if name == "mov" and (ops[0].startswith("{") or ops[1].startswith("{")):
            if ops[0].startswith("{"):     # unpack b64 -> {lo, hi}
                lo, hi = split_ops(ops[0][1:-1])
                x = V(ops[1], 64)
                self.set(lo, x & MASK32, mask)
                self.set(hi, x >> np.uint64(32), mask)
            else:
                lo, hi = split_ops(ops[1][1:-1])
                self.set(ops[0], (V(lo) & MASK32) | ((V(hi) & MASK32) << np.uint64(32)), mask)
        elif name == "mov":
            if t == "f32" and ops[1].startswith("0f"):
                self.set(ops[0], V(ops[1]), mask)
            else:
                self.set(ops[0], V(ops[1], 64 if t in ("u64", "b64") else 32), mask)
        elif name in ("add", "sub", "mul", "mad", "max", "min", "neg", "fma", "shl", "shr", "and", "or", "xor",
                      "ex2", "lg2", "rcp", "bfe", "cvta", "div", "rem", "not"):
            self.alu(op, ops, mask)
        elif name == "brev":
            x = V(ops[1]) & MASK32
            r = np.zeros(self.n, np.uint64)
            for k in range(32):
                r |= ((x >> np.uint64(k)) & np.uint64(1)) << np.uint64(31 - k)
            self.set(ops[0], r, mask)
        elif name == "bfind":
            assert op[1:] == ["shiftamt", "u32"], stmt
            x = (V(ops[1]) & MASK32).astype(np.int64)
            msb = np.array([int(v).bit_length() - 1 if v else -1 for v in x], np.int64)
            r = np.where(msb < 0, 0xFFFFFFFF, 31 - msb)
            self.set(ops[0], r.astype(np.uint64), mask)
        elif name == "cvt" and op[-2:] in (["f64", "f32"], ["f32", "f64"], ["u32", "u64"], ["u64", "u32"]):
            if op[-2:] == ["f64", "f32"]:
                self.set(ops[0], b2f(V(ops[1])).astype(np.float64), mask)
            elif op[-2:] == ["f32", "f64"]:
                assert "rn" in op, stmt
                self.set(ops[0], V(ops[1], 64).view(np.float64).astype(np.float32), mask)
            elif op[-2:] == ["u32", "u64"]:
                self.set(ops[0], V(ops[1], 64) & MASK32, mask)
            else:
                self.set(ops[0], V(ops[1]) & MASK32, mask)
        elif name == "setp":
            self.setp(op, ops, mask)
        elif name == "selp":
            p = V(ops[3]).astype(bool)
            bits = 64 if t in ("b64", "u64") else 32
            self.set(ops[0], np.where(p, V(ops[1], bits), V(ops[2], bits)), mask)
        elif name == "cvt" and op[1:] == ["rn", "bf16x2", "f32"]:
            hi = bf16_round_bits(b2f(V(ops[1])))
            lo = bf16_round_bits(b2f(V(ops[2])))
            self.set(ops[0], (hi << 16) | lo, mask)
        elif name == "ld":
            self.load(op, ops, mask)
        elif name == "st":
            self.store(op, ops, mask)
        elif name == "ldmatrix":
            self.ldmatrix(op, ops, mask)
        elif name == "mma":
            self.mma(ops, mask)
        elif name == "shfl":
            mode = op[2] if op[1] == "sync" else op[1]
            dst, pdst = (ops[0].split("|") + [None])[:2]
            a, b = V(ops[1]), (V(ops[2]) & MASK32).astype(np.int64)
            assert int(ops[3], 0) == 0x1f and (len(ops) < 5 or int(ops[4], 0) & 0xffffffff == 0xffffffff), f"shfl form: {stmt}"
            lane = (self.tid & np.uint64(31)).astype(np.int64)
            base = self.tid.astype(np.int64) - lane
            src = {"bfly": lane ^ b, "idx": b & 31, "down": lane + b, "up": lane - b}[mode]
            ok = (src >= 0) & (src <= 31)
            src = np.where(ok, src, lane) + base
            self.warp_sync_check(mask, stmt)
            self.set(dst.strip(), a[src], mask)
            if pdst:
                self.set(pdst.strip(), ok.astype(np.uint64), mask)
        elif name == "vote":
            self.warp_sync_check(mask, stmt)
            p = V(ops[1]).astype(bool)
            out = np.zeros(self.n, np.uint64)
            for w in range(self.n // 32):
                bits = sum(int(p[w * 32 + l]) << l for l in range(32))
                out[w * 32:(w + 1) * 32] = bits
            self.set(ops[0], out, mask)
        else:
            raise NotImplementedError(stmt)

    def alu(self, op, ops, mask):
        name, t = op[0], op[-1]
        V = self.val
        if t == "f64":
            f = [V(o, 64).view(np.float64) for o in ops[1:]]
            with np.errstate(all="ignore"):
                r = {"add": lambda: f[0] + f[1], "sub": lambda: f[0] - f[1], "mul": lambda: f[0] * f[1],
                     "neg": lambda: -f[0], "fma": lambda: fma64(f[0], f[1], f[2])}[name]()
            self.set(ops[0], np.asarray(r, np.float64), mask)
            return
        if t == "f32":
            f = [b2f(V(o)) for o in ops[1:]]
            with np.errstate(all="ignore"):
                r = {"add": lambda: f[0] + f[1], "sub": lambda: f[0] - f[1], "mul": lambda: f[0] * f[1],
                     "max": lambda: np.fmax(f[0], f[1]), "neg": lambda: -f[0],
                     "fma": lambda: (f[0].astype(np.float64) * f[1] + f[2]).astype(np.float32),
                     "ex2": lambda: np.exp2(f[0]), "lg2": lambda: np.log2(f[0]),
                     "rcp": lambda: np.float32(1) / f[0]}[name]()
            self.set(ops[0], r.astype(np.float32), mask)
            return
        if name == "cvta":
            self.set(ops[0], V(ops[1], 64), mask)
            return
        if t == "pred":
            a = V(ops[1]).astype(bool)
            if name == "not":
                self.set(ops[0], ~a, mask)
                return
            b = V(ops[2]).astype(bool)
            self.set(ops[0], {"and": a & b, "or": a | b, "xor": a ^ b}[name], mask)
            return
        bits = 64 if t in ("s64", "u64", "b64") else 32
        if name == "mul" and op[1] == "wide":
            a, b = (self.s32(V(ops[1])), self.s32(V(ops[2]))) if t == "s32" else (self.u32(V(ops[1])), self.u32(V(ops[2])))
            self.set(ops[0], (a * b).astype(np.uint64), mask)
            return
        if bits == 64:
            a = [V(o, 64).astype(np.int64) for o in ops[1:]]
        else:
            conv = self.s32 if t == "s32" else self.u32
            a = [conv(V(o, 32)) for o in ops[1:]]
        if name == "add":
            r = a[0] + a[1]
        elif name == "sub":
            r = a[0] - a[1]
        elif name == "mul":
            r = a[0] * a[1]
        elif name == "mad":
            r = a[0] * a[1] + a[2]
        elif name == "shl":
            r = a[0] << a[1]
        elif name == "shr":
            r = (a[0] & ((1 << bits) - 1)) >> a[1] if t != "s32" else a[0] >> a[1]
        elif name == "and":
            r = a[0] & a[1]
        elif name == "or":
            r = a[0] | a[1]
        elif name == "xor":
            r = a[0] ^ a[1]
        elif name == "not":
            r = ~a[0]
        elif name == "div":
            r = a[0] // a[1]
        elif name == "rem":
            r = a[0] % a[1]
        elif name == "bfe":
            r = (a[0] >> a[1]) & ((1 << a[2]) - 1)
        elif name in ("max", "min"):
            r = np.maximum(a[0], a[1]) if name == "max" else np.minimum(a[0], a[1])
        else:
            raise NotImplementedError(op)
        r = r & ((1 << bits) - 1) if bits == 32 else r
        self.set(ops[0], r.astype(np.int64).astype(np.uint64) if bits == 64 else (r & 0xFFFFFFFF).astype(np.uint64), mask)

    def setp(self, op, ops, mask):
        cmp, t = op[1], op[-1]
        comb = op[2] if len(op) == 4 else None
        V = self.val
        if t == "f32":
            a, b = b2f(V(ops[1])), b2f(V(ops[2]))
        elif t in ("b64", "u64", "s64"):
            a, b = V(ops[1], 64).astype(np.int64), V(ops[2], 64).astype(np.int64)
        elif t == "s32":
            a, b = self.s32(V(ops[1])), self.s32(V(ops[2]))
        else:
            a, b = self.u32(V(ops[1])), self.u32(V(ops[2], 32))
        r = {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[cmp]
        if comb:
            c = V(ops[3]).astype(bool)
            r = (r & c) if comb == "and" else (r | c)
        self.set(ops[0], r.astype(np.uint64), mask)

    def _gmem(self, a, i, dtype, active):
        """per-thread element reads from global memory (absolute address vector)"""
        out = np.zeros(self.n, dtype=np.uint64)
        for th in np.nonzero(active)[0]:
            out[th] = self.mem.view(int(a[th]), 1, dtype).view(np.uint32)[0] if dtype != np.uint64 else 0
        return out

    def load(self, op, ops, mask):
        space = op[1]
        active = np.ones(self.n, bool) if mask is None else mask
        if space == "param":
            off = self.addr(ops[1])
            if op[-1] == "u64":
                v = int(np.frombuffer(self.params[off:off + 8], np.uint64)[0])
            else:
                v = int(np.frombuffer(self.params[off:off + 4], np.uint32)[0])
            self.set(ops[0], np.full(self.n, v, np.uint64), mask)
            return
        a = self.addr(ops[1])
        dsts = split_ops(ops[0][1:-1]) if ops[0].startswith("{") else [ops[0]]
        if op[-1] in ("f64", "u64", "b64", "s64"):
            assert len(dsts) == 1 and space in ("global", "shared"), stmt_of(op, ops)
            out = np.zeros(self.n, np.uint64)
            ii = np.nonzero(active)[0]
            if len(ii):
                if space == "shared":
                    idx = a[ii]
                    assert (idx >= 0).all() and (idx + 8 <= len(self.smem)).all() and (idx % 8 == 0).all(), "shared load"
                    out[ii] = self.smem.view(np.uint64)[(idx // 8).astype(np.int64)]
                else:
                    offs = a[ii] - self.mem.base
                    assert (offs >= 0).all() and (offs + 8 <= self.mem.top - self.mem.base).all() and (offs % 8 == 0).all(), "global load"
                    out[ii] = self.mem.buf.view(np.uint64)[(offs // 8).astype(np.int64)]
            self.set(dsts[0], out, mask)
            return
        if len(dsts) > 1:
            assert (a[active] % (4 * len(dsts)) == 0).all(), "misaligned vector load"
        for e, d in enumerate(dsts):
            if space == "shared":
                out = np.zeros(self.n, np.uint64)
                idx = a[active] + 4 * e
                assert (idx >= 0).all() and (idx + 4 <= len(self.smem)).all(), "shared load out of bounds"
                w = self.smem.view(np.uint32)
                out[active] = w[(idx // 4).astype(np.int64)]
            else:
                out = np.zeros(self.n, np.uint64)
                ii = np.nonzero(active)[0]
                if len(ii):
                    offs = a[ii] + 4 * e - self.mem.base
                    assert (offs >= 0).all() and (offs + 4 <= self.mem.top - self.mem.base).all(), f"global load OOB"
                    assert (offs % 4 == 0).all()
                    out[ii] = self.mem.buf.view(np.uint32)[(offs // 4).astype(np.int64)]
            self.set(d, out, mask)

    def store(self, op, ops, mask):
        space = op[1]
        active = np.ones(self.n, bool) if mask is None else mask
        a = self.addr(ops[0])
        srcs = split_ops(ops[1][1:-1]) if ops[1].startswith("{") else [ops[1]]
        if op[-1] in ("f64", "u64", "b64", "s64"):
            assert len(srcs) == 1
            v = self.val(srcs[0], 64)
            ii = np.nonzero(active)[0]
            if space == "shared":
                idx = a[ii]
                assert (idx >= 0).all() and (idx + 8 <= len(self.smem)).all() and (idx % 8 == 0).all(), "shared store"
                self.smem.view(np.uint64)[(idx // 8).astype(np.int64)] = v[ii]
            else:
                offs = a[ii] - self.mem.base
                assert (offs >= 0).all() and (offs + 8 <= self.mem.top - self.mem.base).all() and (offs % 8 == 0).all(), "global store"
                self.mem.buf.view(np.uint64)[(offs // 8).astype(np.int64)] = v[ii]
            return
        vec = len(srcs)
        if vec > 1:
            assert (a[active] % (4 * vec) == 0).all(), "misaligned vector store"
        for e, s in enumerate(srcs):
            v = (self.val(s) & MASK32).astype(np.uint32)
            ii = np.nonzero(active)[0]
            if space == "shared":
                idx = a[ii] + 4 * e
                assert (idx >= 0).all() and (idx + 4 <= len(self.smem)).all(), "shared store OOB"
                self.smem.view(np.uint32)[(idx // 4).astype(np.int64)] = v[ii]
            else:
                offs = a[ii] + 4 * e - self.mem.base
                assert (offs >= 0).all() and (offs + 4 <= self.mem.top - self.mem.base).all(), "global store OOB"
                self.mem.buf.view(np.uint32)[(offs // 4).astype(np.int64)] = v[ii]

    def ldmatrix(self, op, ops, mask):
        trans = "trans" in op
        dsts = split_ops(ops[0][1:-1])
        a = self.addr(ops[1])
        h = self.smem.view(np.uint16)
        outs = [np.zeros(self.n, np.uint64) for _ in dsts]
        lanes = np.arange(32)
        g, c = lanes >> 2, (lanes & 3) * 2
        for w in range(self.n // 32):
            for m in range(len(dsts)):
                ad = a[w * 32 + m * 8: w * 32 + m * 8 + 8].astype(np.int64)
                assert (ad % 16 == 0).all() and (ad >= 0).all() and (ad + 16 <= len(self.smem)).all(), "ldmatrix address"
                M = h[(ad // 2)[:, None] + np.arange(8)[None, :]].astype(np.uint64)   # [8 rows][8 cols]
                if trans:
                    M = M.T
                outs[m][w * 32:(w + 1) * 32] = M[g, c] | (M[g, c + 1] << np.uint64(16))
        for d, o in zip(dsts, outs):
            self.set(d, o, mask)

    def mma(self, ops, mask):
        assert mask is None
        d = split_ops(ops[0][1:-1])
        a = split_ops(ops[1][1:-1])
        b = split_ops(ops[2][1:-1])
        c = split_ops(ops[3][1:-1])
        A = [self.val(x) for x in a]
        B = [self.val(x) for x in b]
        C = [b2f(self.val(x)) for x in c]
        lanes = np.arange(32)
        g, q = lanes >> 2, (lanes & 3) * 2
        res = [np.zeros(self.n, np.float32) for _ in range(4)]
        for w in range(self.n // 32):
            sl = slice(w * 32, w * 32 + 32)
            Am = np.zeros((16, 16), np.float32)
            Bm = np.zeros((16, 8), np.float32)
            Cm = np.zeros((16, 8), np.float32)
            for i, (ro, ko) in enumerate(((0, 0), (8, 0), (0, 8), (8, 8))):
                v = A[i][sl]
                Am[g + ro, q + ko] = bf16_to_f32(v & 0xFFFF)
                Am[g + ro, q + ko + 1] = bf16_to_f32(v >> 16)
            for i, ko in enumerate((0, 8)):
                v = B[i][sl]
                Bm[q + ko, g] = bf16_to_f32(v & 0xFFFF)
                Bm[q + ko + 1, g] = bf16_to_f32(v >> 16)
            Cm[g, q], Cm[g, q + 1], Cm[g + 8, q], Cm[g + 8, q + 1] = C[0][sl], C[1][sl], C[2][sl], C[3][sl]
            with np.errstate(all="ignore"):
                D = (Am.astype(np.float64) @ Bm.astype(np.float64) + Cm).astype(np.float32)
            res[0][sl], res[1][sl], res[2][sl], res[3][sl] = D[g, q], D[g, q + 1], D[g + 8, q], D[g + 8, q + 1]
        for x, r in zip(d, res):
            self.set(x, r, None)


class SimtCta(Cta):
    """Per-thread pcs, min-pc scheduling (see the module docstring)."""

    def warp_sync_check(self, mask, stmt):
        sel = self._sel
        for w in range(self.n // 32):
            s = sel[w * 32:(w + 1) * 32]
            if s.any():
                assert s.all(), f"warp {w} not converged (or not whole) at '{stmt}'"
                if mask is not None:
                    assert mask[w * 32:(w + 1) * 32].all(), f"predicated-off lanes in '{stmt}'"

    def run(self):
        code, n = self.k.code, self.n
        pc = np.zeros(n, np.int64)
        done = np.zeros(n, bool)
        steps = 0
        while True:
            done |= pc >= len(code)
            live = ~done
            if not live.any():
                return steps
            at = pc[live].min()
            sel = live & (pc == at)
            self._sel = sel
            guard, op, ops, stmt = code[at]
            steps += 1
            mask = sel.copy()
            if guard is not None:
                p = self.regs[guard[1]].astype(bool)
                mask &= ~p if guard[0] else p
            name = op[0]
            if name == "bra":
                if "uni" in op:
                    # uniform per warp is what .uni promises
                    for w in range(n // 32):
                        m = mask[w * 32:(w + 1) * 32][sel[w * 32:(w + 1) * 32]]
                        assert m.all() or not m.any(), f"bra.uni diverges in warp {w}: {stmt}"
                pc[mask] = self.k.labels[ops[0]]
                pc[sel & ~mask] += 1
                continue
            if name == "ret":
                done |= mask
                pc[sel & ~mask] += 1
                continue
            if name == "bar":
                assert (sel == live).all(), f"bar.sync reached by only some threads"
                pc[sel] += 1
                continue
            try:
                self.exec(op, ops, mask, stmt)
            except Exception as e:
                raise RuntimeError(f"at '{stmt}': {e}") from e
            pc[sel] += 1


def launch(kernel, mem, params, grid, block, simt=False):
    steps = 0
    for z in range(grid[2]):
        for y in range(grid[1]):
            for x in range(grid[0]):
                cta = (SimtCta if simt else Cta)(kernel, mem, params, block, (x, y, z), grid)
                steps += cta.run()
    return steps
