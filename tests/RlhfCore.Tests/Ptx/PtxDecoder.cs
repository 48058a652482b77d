namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Turns an opcode with its dot-modifiers (<c>setp.ne.and.b64</c>) into a <see cref="PtxInstruction"/>.
/// Every modifier must be consumed by the form it belongs to: an instruction, modifier or type the
/// emulator does not implement is an error naming the line, never silently ignored.
/// </summary>
internal static class PtxDecoder
{
    private sealed class Mods(string[] parts, int line, string text)
    {
        private readonly List<string> _rest = [.. parts];

        public bool Take(string m) => _rest.Remove(m);

        public string? TakeOne(params string[] options)
        {
            foreach (var o in options)
                if (_rest.Remove(o)) return o;
            return null;
        }

        public void Require(string m)
        {
            if (!Take(m)) throw PtxException.At(line, text, $"expected modifier .{m}");
        }

        /// <summary>The first remaining type modifier, which must be one of <paramref name="allowed"/>.</summary>
        public PtxType Type(params PtxType[] allowed)
        {
            int i = _rest.FindIndex(s => ParseType(s) != PtxType.None);
            if (i < 0) throw PtxException.At(line, text, "missing type modifier");
            var t = ParseType(_rest[i]);
            if (!allowed.Contains(t)) throw PtxException.At(line, text, $"type .{_rest[i]} not supported for this instruction by the emulator");
            _rest.RemoveAt(i);
            return t;
        }

        public void Done()
        {
            if (_rest.Count > 0) throw PtxException.At(line, text, $"unknown modifier(s) {string.Join(" ", _rest.Select(r => "." + r))} for the emulator");
        }
    }

    public static PtxType ParseType(string s) => s switch
    {
        "pred" => PtxType.Pred, "b16" => PtxType.B16, "b32" => PtxType.B32, "b64" => PtxType.B64,
        "u32" => PtxType.U32, "u64" => PtxType.U64, "s32" => PtxType.S32, "s64" => PtxType.S64,
        "f32" => PtxType.F32, "f64" => PtxType.F64, _ => PtxType.None,
    };

    private static readonly PtxType[] Ints = [PtxType.U32, PtxType.S32, PtxType.U64, PtxType.S64];
    private static readonly PtxType[] Floats = [PtxType.F32, PtxType.F64];
    private static readonly PtxType[] Bits = [PtxType.B32, PtxType.B64, PtxType.Pred];
    private static readonly PtxType[] AnyData =
        [PtxType.B32, PtxType.B64, PtxType.U32, PtxType.U64, PtxType.S32, PtxType.S64, PtxType.F32, PtxType.F64];

    private static readonly (PtxOp Op, int Operands)[] Arity =
    [
        (PtxOp.Add, 3), (PtxOp.Sub, 3), (PtxOp.Mul, 3), (PtxOp.Mad, 4), (PtxOp.Fma, 4), (PtxOp.Neg, 2),
        (PtxOp.Min, 3), (PtxOp.Max, 3), (PtxOp.Div, 3), (PtxOp.Rem, 3), (PtxOp.And, 3), (PtxOp.Or, 3),
        (PtxOp.Xor, 3), (PtxOp.Not, 2), (PtxOp.Shl, 3), (PtxOp.Shr, 3), (PtxOp.Bfe, 4), (PtxOp.Brev, 2),
        (PtxOp.Bfind, 2), (PtxOp.Setp, 3), (PtxOp.Selp, 4), (PtxOp.Cvt, 2), (PtxOp.CvtBf16x2, 3), (PtxOp.Cvta, 2), (PtxOp.Ex2, 2),
        (PtxOp.Lg2, 2), (PtxOp.Rcp, 2), (PtxOp.Mov, 2), (PtxOp.Ld, 2), (PtxOp.St, 2), (PtxOp.Ldmatrix, 2),
        (PtxOp.Mma, 4), (PtxOp.Shfl, 5), (PtxOp.Vote, 3), (PtxOp.Bar, 1), (PtxOp.Bra, 1), (PtxOp.Ret, 0),
    ];

    /// <summary>Decodes <paramref name="opcode"/>; <paramref name="ops"/> are already parsed operands.</summary>
    public static PtxInstruction Decode(string opcode, PtxOperand[] ops, int guard, bool guardNeg, int line, string text)
    {
        var parts = opcode.Split('.');
        var m = new Mods(parts[1..], line, text);
        PtxInstruction Make(PtxOp op, PtxType type = PtxType.None, PtxType src = PtxType.None, PtxCmp cmp = default,
            PtxBoolOp boolOp = PtxBoolOp.None, PtxSpace space = default, int vec = 1, PtxMulMode mul = PtxMulMode.None,
            bool ftz = false, bool trans = false, bool shiftAmt = false, bool uni = false, PtxShfl shfl = default)
        {
            m.Done();
            int want = Arity.First(a => a.Op == op).Operands;
            if (ops.Length != want && !(op == PtxOp.Setp && ops.Length is 3 or 4))
                throw PtxException.At(line, text, $"{parts[0]} takes {want} operands, found {ops.Length}");
            return new PtxInstruction
            {
                Line = line, Text = text, Op = op, Type = type, SrcType = src, Cmp = cmp, BoolOp = boolOp, Space = space,
                Vec = vec, MulMode = mul, Ftz = ftz, Trans = trans, ShiftAmt = shiftAmt, Uni = uni, Shfl = shfl,
                Guard = guard, GuardNegated = guardNeg, Operands = ops,
            };
        }

        switch (parts[0])
        {
            case "mov":
                return Make(PtxOp.Mov, m.Type([.. AnyData, PtxType.Pred]));
            case "add" or "sub":
            {
                var op = parts[0] == "add" ? PtxOp.Add : PtxOp.Sub;
                bool rn = m.Take("rn"), ftz = m.Take("ftz");
                var t = m.Type([.. Ints, .. Floats]);
                if ((rn || ftz) && !Floats.Contains(t)) throw PtxException.At(line, text, "rounding/ftz on an integer add");
                if (ftz && t != PtxType.F32) throw PtxException.At(line, text, ".ftz applies to f32 only");
                return Make(op, t, ftz: ftz);
            }
            case "mul":
            {
                var mode = m.TakeOne("lo", "wide") switch { "lo" => PtxMulMode.Lo, "wide" => PtxMulMode.Wide, _ => PtxMulMode.None };
                bool rn = m.Take("rn"), ftz = m.Take("ftz");
                var t = m.Type([.. Ints, .. Floats]);
                bool isFloat = Floats.Contains(t);
                if (isFloat == (mode != PtxMulMode.None)) throw PtxException.At(line, text, "integer mul needs .lo or .wide (.hi is not emulated); float mul takes neither");
                if (mode == PtxMulMode.Wide && t is not (PtxType.U32 or PtxType.S32)) throw PtxException.At(line, text, "mul.wide takes 32-bit sources");
                if ((rn || ftz) && !isFloat) throw PtxException.At(line, text, "rounding/ftz on an integer mul");
                return Make(PtxOp.Mul, t, mul: mode, ftz: ftz);
            }
            case "mad":
                m.Require("lo");
                return Make(PtxOp.Mad, m.Type(Ints), mul: PtxMulMode.Lo);
            case "fma":
            {
                m.Require("rn");
                bool ftz = m.Take("ftz");
                return Make(PtxOp.Fma, m.Type(Floats), ftz: ftz);
            }
            case "neg":
            {
                bool ftz = m.Take("ftz");
                return Make(PtxOp.Neg, m.Type(PtxType.S32, PtxType.S64, PtxType.F32, PtxType.F64), ftz: ftz);
            }
            case "min" or "max":
            {
                bool ftz = m.Take("ftz");
                return Make(parts[0] == "min" ? PtxOp.Min : PtxOp.Max, m.Type([.. Ints, .. Floats]), ftz: ftz);
            }
            case "div":
            {
                bool rn = m.Take("rn"), ftz = m.Take("ftz");
                var t = m.Type([.. Ints, PtxType.F32, PtxType.F64]);
                if (Floats.Contains(t) && !rn) throw PtxException.At(line, text, "float div other than .rn (approx/full) is not emulated");
                if (!Floats.Contains(t) && (rn || ftz)) throw PtxException.At(line, text, "rounding/ftz on an integer div");
                return Make(PtxOp.Div, t, ftz: ftz);
            }
            case "rem":
                return Make(PtxOp.Rem, m.Type(Ints));
            case "and" or "or" or "xor" or "not":
            {
                var op = parts[0] switch { "and" => PtxOp.And, "or" => PtxOp.Or, "xor" => PtxOp.Xor, _ => PtxOp.Not };
                return Make(op, m.Type(Bits));
            }
            case "shl":
                return Make(PtxOp.Shl, m.Type(PtxType.B32, PtxType.B64));
            case "shr":
                return Make(PtxOp.Shr, m.Type(PtxType.B32, PtxType.B64, PtxType.U32, PtxType.U64, PtxType.S32, PtxType.S64));
            case "bfe":
                return Make(PtxOp.Bfe, m.Type(PtxType.U32, PtxType.S32));
            case "brev":
                return Make(PtxOp.Brev, m.Type(PtxType.B32));
            case "bfind":
            {
                bool sa = m.Take("shiftamt");
                return Make(PtxOp.Bfind, m.Type(PtxType.U32), shiftAmt: sa);
            }
            case "setp":
            {
                var cmp = m.TakeOne("eq", "ne", "lt", "le", "gt", "ge") switch
                {
                    "eq" => PtxCmp.Eq, "ne" => PtxCmp.Ne, "lt" => PtxCmp.Lt, "le" => PtxCmp.Le, "gt" => PtxCmp.Gt, "ge" => PtxCmp.Ge,
                    _ => throw PtxException.At(line, text, "setp comparison not emulated (only eq ne lt le gt ge)"),
                };
                var bop = m.TakeOne("and", "or", "xor") switch { "and" => PtxBoolOp.And, "or" => PtxBoolOp.Or, "xor" => PtxBoolOp.Xor, _ => PtxBoolOp.None };
                bool ftz = m.Take("ftz");
                var t = m.Type([.. AnyData]);
                if ((bop == PtxBoolOp.None) != (ops.Length == 3)) throw PtxException.At(line, text, "setp with .and/.or/.xor takes a fourth (predicate) operand, without none");
                if (ops[0].Kind == OperandKind.Pair) throw PtxException.At(line, text, "setp with two destinations (p|q) is not emulated");
                return Make(PtxOp.Setp, t, cmp: cmp, boolOp: bop, ftz: ftz);
            }
            case "selp":
                return Make(PtxOp.Selp, m.Type([.. AnyData]));
            case "cvt":
                return DecodeCvt(m, parts, line, text, Make);
            case "cvta":
            {
                m.Require("to");
                m.Require("global");
                return Make(PtxOp.Cvta, m.Type(PtxType.U64));
            }
            case "ex2" or "lg2" or "rcp":
            {
                var op = parts[0] switch { "ex2" => PtxOp.Ex2, "lg2" => PtxOp.Lg2, _ => PtxOp.Rcp };
                m.Require("approx");
                bool ftz = m.Take("ftz");
                return Make(op, m.Type(PtxType.F32), ftz: ftz);
            }
            case "ld" or "st":
                return DecodeMemory(m, parts[0] == "ld", line, text, Make);
            case "ldmatrix":
            {
                m.Require("sync"); m.Require("aligned"); m.Require("m8n8");
                int n = m.TakeOne("x1", "x2", "x4") switch { "x1" => 1, "x2" => 2, "x4" => 4, _ => throw PtxException.At(line, text, "ldmatrix needs .x1/.x2/.x4") };
                bool trans = m.Take("trans");
                m.Require("shared"); m.Require("b16");
                return Make(PtxOp.Ldmatrix, PtxType.B16, vec: n, trans: trans, space: PtxSpace.Shared);
            }
            case "mma":
            {
                m.Require("sync"); m.Require("aligned"); m.Require("m16n8k16"); m.Require("row"); m.Require("col");
                // the form the shipped files use: f32 accumulators, bf16 operands
                m.Require("f32"); m.Require("bf16"); m.Require("bf16"); m.Require("f32");
                return Make(PtxOp.Mma, PtxType.F32);
            }
            case "shfl":
            {
                m.Require("sync");
                var mode = m.TakeOne("up", "down", "bfly", "idx") switch
                {
                    "up" => PtxShfl.Up, "down" => PtxShfl.Down, "bfly" => PtxShfl.Bfly, "idx" => PtxShfl.Idx,
                    _ => throw PtxException.At(line, text, "shfl needs a mode"),
                };
                m.Require("b32");
                return Make(PtxOp.Shfl, PtxType.B32, shfl: mode);
            }
            case "vote":
            {
                m.Require("sync"); m.Require("ballot"); m.Require("b32");
                return Make(PtxOp.Vote, PtxType.B32);
            }
            case "bar":
                m.Require("sync");
                return Make(PtxOp.Bar);
            case "bra":
                return Make(PtxOp.Bra, uni: m.Take("uni"));
            case "ret":
                return Make(PtxOp.Ret, uni: m.Take("uni"));
            default:
                throw PtxException.At(line, text, $"unknown instruction '{parts[0]}' for the emulator");
        }
    }

    private delegate PtxInstruction Maker(PtxOp op, PtxType type = PtxType.None, PtxType src = PtxType.None, PtxCmp cmp = default,
        PtxBoolOp boolOp = PtxBoolOp.None, PtxSpace space = default, int vec = 1, PtxMulMode mul = PtxMulMode.None,
        bool ftz = false, bool trans = false, bool shiftAmt = false, bool uni = false, PtxShfl shfl = default);

    private static PtxInstruction DecodeCvt(Mods m, string[] parts, int line, string text, Maker make)
    {
        if (m.Take("bf16x2"))
        {
            m.Require("rn");
            m.Require("f32");
            return make(PtxOp.CvtBf16x2, PtxType.B32, PtxType.F32);
        }
        bool rn = m.Take("rn"), ftz = m.Take("ftz");
        var dst = m.Type(PtxType.F32, PtxType.F64, PtxType.U32, PtxType.U64, PtxType.S32, PtxType.S64);
        var src = m.Type(PtxType.F32, PtxType.F64, PtxType.U32, PtxType.U64, PtxType.S32, PtxType.S64);
        bool ok = (dst, src) switch
        {
            (PtxType.F64, PtxType.F32) => !rn,           // exact: no rounding modifier allowed
            (PtxType.F32, PtxType.F64) => rn,            // narrowing: a rounding modifier is required
            _ => !rn && !ftz && dst is not (PtxType.F32 or PtxType.F64) && src is not (PtxType.F32 or PtxType.F64),
        };
        if (!ok) throw PtxException.At(line, text, $"cvt form .{parts[1..].Aggregate((a, b) => a + "." + b)} not emulated");
        return make(PtxOp.Cvt, dst, src, ftz: ftz);
    }

    private static PtxInstruction DecodeMemory(Mods m, bool load, int line, string text, Maker make)
    {
        var space = m.TakeOne("param", "global", "shared") switch
        {
            "param" => PtxSpace.Param, "global" => PtxSpace.Global, "shared" => PtxSpace.Shared,
            _ => throw PtxException.At(line, text, "ld/st without a .param/.global/.shared state space (generic or .local) is not emulated"),
        };
        if (load && space == PtxSpace.Global) m.Take("nc");          // read-only cache path: same values
        if (space == PtxSpace.Global) m.TakeOne(load ? ["ca", "cg", "cs", "lu", "cv"] : ["wb", "cg", "cs", "wt"]);  // cache hints: same values
        if (!load && space == PtxSpace.Param) throw PtxException.At(line, text, "st.param is not emulated");
        int vec = m.TakeOne("v2", "v4") switch { "v2" => 2, "v4" => 4, _ => 1 };
        var t = m.Type([.. AnyData]);
        if (vec == 4 && t is PtxType.B64 or PtxType.U64 or PtxType.S64 or PtxType.F64)
            throw PtxException.At(line, text, ".v4 of a 64-bit type does not exist");
        return make(load ? PtxOp.Ld : PtxOp.St, t, space: space, vec: vec);
    }
}
