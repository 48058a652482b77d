using System.Globalization;
using System.Text.RegularExpressions;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Reads a PTX module: the module directives (.version, .target, .address_size, module-scope .shared
/// arrays) and every <c>.entry</c> with its single byte-array parameter block, performance directives
/// (.reqntid/.maxntid are kept and checked at launch), <c>.reg</c> declarations (with <c>%r&lt;N&gt;</c>
/// ranges), entry-scope .shared arrays, labels and instructions. Anything else is an error naming the line.
/// </summary>
public static partial class PtxParser
{
    /// <summary>Parses every entry of <paramref name="text"/>, by name.</summary>
    public static IReadOnlyDictionary<string, PtxKernel> Parse(string text)
    {
        string src = StripComments(text);
        var lines = LineStarts(src);
        int Line(int offset) { int i = lines.BinarySearch(offset); return (i >= 0 ? i : ~i - 1) + 1; }

        var moduleShared = new List<(string Name, int Align, int Bytes)>();
        var kernels = new Dictionary<string, PtxKernel>();
        int pos = 0;
        while (true)
        {
            while (pos < src.Length && char.IsWhiteSpace(src[pos])) pos++;
            if (pos >= src.Length) break;
            var entry = EntryHeader().Match(src, pos);
            if (entry.Success && entry.Index == pos)
            {
                int open = src.IndexOf('{', entry.Index + entry.Length);
                if (open < 0) throw new PtxException($"line {Line(pos)}: entry {entry.Groups[1].Value} has no body");
                int close = MatchingBrace(src, open, Line);
                var k = ParseEntry(entry, src[(entry.Index + entry.Length)..open], src, open + 1, close, moduleShared, Line);
                if (!kernels.TryAdd(k.Name, k)) throw new PtxException($"line {Line(pos)}: entry {k.Name} defined twice");
                pos = close + 1;
                continue;
            }
            var dir = ModuleDirective().Match(src, pos);
            if (dir.Success && dir.Index == pos)
            {
                pos += dir.Length;   // .version / .target / .address_size end at the line, not at ';'
                continue;
            }
            int semi = src.IndexOf(';', pos);
            if (semi < 0) throw new PtxException($"line {Line(pos)}: statement without ';' at module scope");
            string stmt = Squash(src[pos..semi]);
            var sh = SharedDecl().Match(stmt);
            if (!sh.Success) throw PtxException.At(Line(pos), stmt, "module-scope statement not understood by the emulator");
            moduleShared.Add((sh.Groups[2].Value, int.Parse(sh.Groups[1].Value), int.Parse(sh.Groups[3].Value)));
            pos = semi + 1;
        }
        if (kernels.Count == 0) throw new PtxException("no .entry in the PTX text");
        return kernels;
    }

    private static PtxKernel ParseEntry(Match header, string directives, string src, int bodyStart, int bodyEnd,
        List<(string Name, int Align, int Bytes)> moduleShared, Func<int, int> line)
    {
        string name = header.Groups[1].Value;
        int headerLine = line(header.Index);
        var prm = ParamDecl().Match(Squash(header.Groups[2].Value));
        if (!prm.Success)
            throw new PtxException($"line {headerLine}: entry {name}: only a single '.param .align N .b8 name[bytes]' block is emulated, found '{Squash(header.Groups[2].Value)}'");
        (int, int, int)? reqntid = null, maxntid = null;
        foreach (Match d in PerfDirective().Matches(directives))
        {
            var dims = d.Groups[2].Value.Split(',').Select(s => int.Parse(s.Trim())).Concat([1, 1]).ToArray();
            if (d.Groups[1].Value == "reqntid") reqntid = (dims[0], dims[1], dims[2]);
            else if (d.Groups[1].Value == "maxntid") maxntid = (dims[0], dims[1], dims[2]);
        }
        if (PerfDirective().Replace(directives, "").Trim().Length > 0)
            throw new PtxException($"line {headerLine}: entry {name}: directive '{Squash(PerfDirective().Replace(directives, ""))}' not understood by the emulator");

        var regs = new Dictionary<string, int>();
        var shared = new Dictionary<string, long>();
        int smem = 0;
        void AddShared(string n, int align, int bytes, int at)
        {
            smem = (smem + align - 1) / align * align;
            if (!shared.TryAdd(n, smem)) throw new PtxException($"line {at}: .shared {n} declared twice");
            smem += bytes;
        }
        foreach (var (n, a, b) in moduleShared) AddShared(n, a, b, headerLine);

        var pending = new List<(string Opcode, string[] Ops, string Guard, bool Neg, int Line, string Text)>();
        var labels = new Dictionary<string, int>();
        int pos = bodyStart;
        while (pos < bodyEnd)
        {
            int semi = src.IndexOf(';', pos, bodyEnd - pos);
            int end = semi < 0 ? bodyEnd : semi;
            string piece = src[pos..end];
            int lead = piece.Length - piece.TrimStart().Length;
            int at = line(pos + lead);
            string stmt = Squash(piece);
            pos = end + 1;
            for (var lm = LabelPrefix().Match(stmt); lm.Success; lm = LabelPrefix().Match(stmt))
            {
                if (!labels.TryAdd(lm.Groups[1].Value, pending.Count)) throw new PtxException($"line {at}: label {lm.Groups[1].Value} defined twice");
                stmt = lm.Groups[2].Value.Trim();
            }
            if (stmt.Length == 0) continue;
            if (semi < 0) throw PtxException.At(at, stmt, "statement without ';'");
            if (stmt.StartsWith(".reg"))
            {
                var rm = RegDecl().Match(stmt);
                if (!rm.Success) throw PtxException.At(at, stmt, "malformed .reg declaration");
                foreach (var item in rm.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries))
                {
                    var rng = RegRange().Match(item);
                    if (!rng.Success) throw PtxException.At(at, stmt, $"malformed register name '{item}'");
                    var names = rng.Groups[2].Success
                        ? Enumerable.Range(0, int.Parse(rng.Groups[2].Value)).Select(i => rng.Groups[1].Value + i)
                        : [rng.Groups[1].Value];
                    foreach (var r in names)
                        if (!regs.TryAdd(r, regs.Count)) throw PtxException.At(at, stmt, $"register {r} declared twice");
                }
                continue;
            }
            if (stmt.StartsWith(".shared"))
            {
                var sm = SharedDecl().Match(stmt);
                if (!sm.Success) throw PtxException.At(at, stmt, "only '.shared .align N .b8 name[bytes]' is emulated");
                AddShared(sm.Groups[2].Value, int.Parse(sm.Groups[1].Value), int.Parse(sm.Groups[3].Value), at);
                continue;
            }
            if (stmt.StartsWith('.') || stmt.StartsWith('{') || stmt.StartsWith('}'))
                throw PtxException.At(at, stmt, "directive or nested scope not understood by the emulator");
            string guard = "";
            bool neg = false;
            var gm = GuardPrefix().Match(stmt);
            string body = stmt;
            if (gm.Success) { neg = gm.Groups[1].Value == "!"; guard = gm.Groups[2].Value; body = gm.Groups[3].Value; }
            int sp = body.IndexOf(' ');
            string opcode = sp < 0 ? body : body[..sp];
            string[] ops = sp < 0 ? [] : SplitOperands(body[(sp + 1)..]);
            pending.Add((opcode, ops, guard, neg, at, stmt));
        }

        var code = new PtxInstruction[pending.Count];
        for (int i = 0; i < pending.Count; i++)
        {
            var p = pending[i];
            int g = -1;
            if (p.Guard.Length > 0 && !regs.TryGetValue(p.Guard, out g)) throw PtxException.At(p.Line, p.Text, $"guard {p.Guard} is not a declared register");
            var ops = p.Ops.Select(o => Operand(o, regs, shared, prm.Groups[2].Value, labels, p.Line, p.Text)).ToArray();
            code[i] = PtxDecoder.Decode(p.Opcode, ops, g, p.Neg, p.Line, p.Text);
            bool isBranch = code[i].Op == PtxOp.Bra;
            foreach (var o in ops)
                if ((o.Kind == OperandKind.Label) != (isBranch && o == ops[0]))
                    throw PtxException.At(p.Line, p.Text, o.Kind == OperandKind.Label ? $"unknown symbol '{o.Name}'" : "bra needs a label");
            if (isBranch && ops[0].Target < 0) throw PtxException.At(p.Line, p.Text, $"unknown symbol '{ops[0].Name}' (no such label in {name})");
        }
        return new PtxKernel
        {
            Name = name, ParamName = prm.Groups[2].Value, ParamBytes = int.Parse(prm.Groups[3].Value),
            ReqNtid = reqntid, MaxNtid = maxntid, Registers = regs.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray(),
            SharedBytes = smem, Code = code, Issued = new long[code.Length],
        };
    }

    private static readonly Dictionary<string, SpecialRegister> Specials = new()
    {
        ["%tid.x"] = SpecialRegister.TidX, ["%tid.y"] = SpecialRegister.TidY, ["%tid.z"] = SpecialRegister.TidZ,
        ["%ntid.x"] = SpecialRegister.NtidX, ["%ntid.y"] = SpecialRegister.NtidY, ["%ntid.z"] = SpecialRegister.NtidZ,
        ["%ctaid.x"] = SpecialRegister.CtaidX, ["%ctaid.y"] = SpecialRegister.CtaidY, ["%ctaid.z"] = SpecialRegister.CtaidZ,
        ["%nctaid.x"] = SpecialRegister.NctaidX, ["%nctaid.y"] = SpecialRegister.NctaidY, ["%nctaid.z"] = SpecialRegister.NctaidZ,
        ["%laneid"] = SpecialRegister.LaneId, ["%warpid"] = SpecialRegister.WarpId,
    };

    private static PtxOperand Operand(string s, Dictionary<string, int> regs, Dictionary<string, long> shared, string paramName,
        Dictionary<string, int> labels, int line, string text)
    {
        PtxOperand Reg(string r, bool negated = false) => regs.TryGetValue(r, out int i)
            ? new PtxOperand { Kind = OperandKind.Register, Reg = i, Negated = negated }
            : throw PtxException.At(line, text, $"register {r} is not declared");

        if (s.StartsWith('{'))
        {
            if (!s.EndsWith('}')) throw PtxException.At(line, text, $"malformed vector operand '{s}'");
            return new PtxOperand { Kind = OperandKind.Vector, Elements = SplitOperands(s[1..^1]).Select(e => Operand(e, regs, shared, paramName, labels, line, text)).ToArray() };
        }
        if (s.StartsWith('['))
        {
            var am = AddressOperand().Match(s);
            if (!am.Success) throw PtxException.At(line, text, $"address form '{s}' not emulated");
            long off = 0;
            if (am.Groups[2].Success)
            {
                string n = am.Groups[3].Value;
                off = n.StartsWith("0x") ? long.Parse(n[2..], NumberStyles.HexNumber) : long.Parse(n);
                if (am.Groups[2].Value == "-") off = -off;
            }
            string b = am.Groups[1].Value;
            if (b == paramName) return new PtxOperand { Kind = OperandKind.Address, IsParam = true, Offset = off };
            if (shared.TryGetValue(b, out long sa)) return new PtxOperand { Kind = OperandKind.Address, SymbolAddress = sa, Offset = off };
            return new PtxOperand { Kind = OperandKind.Address, Base = Reg(b), Offset = off };
        }
        if (s.Contains('|'))
        {
            var two = s.Split('|', StringSplitOptions.TrimEntries);
            return new PtxOperand { Kind = OperandKind.Pair, Reg = Reg(two[0]).Reg, Reg2 = Reg(two[1]).Reg };
        }
        if (s.StartsWith('!')) return Reg(s[1..], negated: true);
        if (Specials.TryGetValue(s, out var spr)) return new PtxOperand { Kind = OperandKind.Special, Special = spr };
        if (s.StartsWith('%')) return Reg(s);
        var fm = FloatLiteral().Match(s);
        if (fm.Success)
            return new PtxOperand
            {
                Kind = OperandKind.Immediate, FloatBits = fm.Groups["h"].Length * 4,
                Imm = ulong.Parse(fm.Groups["h"].Value, NumberStyles.HexNumber),
            };
        if (IntLiteral().IsMatch(s))
        {
            bool negative = s.StartsWith('-');
            string digits = negative ? s[1..] : s;
            ulong v = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? ulong.Parse(digits[2..], NumberStyles.HexNumber) : ulong.Parse(digits);
            return new PtxOperand { Kind = OperandKind.Immediate, Imm = negative ? unchecked(0 - v) : v };
        }
        if (shared.TryGetValue(s, out long addr)) return new PtxOperand { Kind = OperandKind.SharedSymbol, SymbolAddress = addr };
        if (labels.TryGetValue(s, out int target)) return new PtxOperand { Kind = OperandKind.Label, Name = s, Target = target };
        if (IdentLiteral().IsMatch(s)) return new PtxOperand { Kind = OperandKind.Label, Name = s };
        throw PtxException.At(line, text, $"operand '{s}' not understood by the emulator");
    }

    /// <summary>Splits at commas outside braces and brackets.</summary>
    private static string[] SplitOperands(string s)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] is '{' or '[') depth++;
            else if (s[i] is '}' or ']') depth--;
            else if (s[i] == ',' && depth == 0) { parts.Add(s[start..i].Trim()); start = i + 1; }
        }
        if (s[start..].Trim().Length > 0) parts.Add(s[start..].Trim());
        return [.. parts];
    }

    private static int MatchingBrace(string src, int open, Func<int, int> line)
    {
        int depth = 0;
        for (int i = open; i < src.Length; i++)
        {
            if (src[i] == '{') depth++;
            else if (src[i] == '}' && --depth == 0) return i;
        }
        throw new PtxException($"line {line(open)}: unbalanced '{{'");
    }

    /// <summary>Blanks // and /* */ comments, keeping every newline so that offsets keep their line.</summary>
    private static string StripComments(string text)
    {
        var c = text.ToCharArray();
        for (int i = 0; i < c.Length; i++)
        {
            if (c[i] == '/' && i + 1 < c.Length && c[i + 1] == '/')
                while (i < c.Length && c[i] != '\n') c[i++] = ' ';
            else if (c[i] == '/' && i + 1 < c.Length && c[i + 1] == '*')
            {
                while (i < c.Length && !(c[i] == '*' && i + 1 < c.Length && c[i + 1] == '/')) { if (c[i] != '\n') c[i] = ' '; i++; }
                if (i < c.Length) { c[i] = ' '; c[i + 1] = ' '; }
            }
        }
        return new string(c);
    }

    private static List<int> LineStarts(string s)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < s.Length; i++) if (s[i] == '\n') starts.Add(i + 1);
        return starts;
    }

    private static string Squash(string s) => Whitespace().Replace(s, " ").Trim();

    [GeneratedRegex(@"(?:\.visible\s+)?\.entry\s+([A-Za-z_$][\w$]*)\s*\(([^)]*)\)")]
    private static partial Regex EntryHeader();
    [GeneratedRegex(@"^\.param\s+\.align\s+(\d+)\s+\.b8\s+([A-Za-z_$][\w$]*)\[(\d+)\]$")]
    private static partial Regex ParamDecl();
    [GeneratedRegex(@"\.(reqntid|maxntid|minnctapersm|maxnreg)\s+(\d+(?:\s*,\s*\d+)*)")]
    private static partial Regex PerfDirective();
    [GeneratedRegex(@"^\.shared\s+\.align\s+(\d+)\s+\.b8\s+([A-Za-z_$][\w$]*)\[(\d+)\]$")]
    private static partial Regex SharedDecl();
    [GeneratedRegex(@"\G(?:\.version[ \t]+\d+\.\d+|\.target[ \t]+sm_\d+[a-z]?|\.address_size[ \t]+64)[ \t]*(?=\n|$)")]
    private static partial Regex ModuleDirective();
    [GeneratedRegex(@"^([A-Za-z_$][\w$]*):(.*)$")]
    private static partial Regex LabelPrefix();
    [GeneratedRegex(@"^\.reg\s+\.(\w+)\s+(.+)$")]
    private static partial Regex RegDecl();
    [GeneratedRegex(@"^(%[A-Za-z_$][\w$]*)(?:<(\d+)>)?$")]
    private static partial Regex RegRange();
    [GeneratedRegex(@"^@(!?)(%[\w$]+)\s+(.+)$")]
    private static partial Regex GuardPrefix();
    [GeneratedRegex(@"^\[\s*([%A-Za-z_$][\w$]*)\s*(?:([+-])\s*(0x[0-9a-fA-F]+|\d+))?\s*\]$")]
    private static partial Regex AddressOperand();
    [GeneratedRegex(@"^0(?:[fF](?<h>[0-9a-fA-F]{8})|[dD](?<h>[0-9a-fA-F]{16}))$")]
    private static partial Regex FloatLiteral();
    [GeneratedRegex(@"^-?(?:0[xX][0-9a-fA-F]+|\d+)$")]
    private static partial Regex IntLiteral();
    [GeneratedRegex(@"^[A-Za-z_$][\w$]*$")]
    private static partial Regex IdentLiteral();
    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
