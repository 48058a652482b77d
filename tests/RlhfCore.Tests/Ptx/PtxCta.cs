namespace RlhfCore.Tests.Ptx;

/// <summary>
/// One CTA of an emulated launch. Every thread has its own pc; each step runs the instruction at the
/// lowest pc among the running threads, for all threads there (min-pc scheduling, which reconverges
/// structured branches, so warps run in lockstep wherever the PTX keeps them converged). bar.sync parks
/// a thread until every thread that has not exited is parked; warp-synchronous instructions (shfl, vote,
/// ldmatrix, mma) require their whole warp to be there and active, else the launch fails at that line.
/// Registers start unwritten: reading one before any write is an error. Shared memory starts as 0xFF
/// bytes (NaN as f32 and bf16), so a read of shared memory nobody wrote shows up in the results.
/// </summary>
public sealed partial class PtxCta
{
    private const byte Running = 0, Parked = 1, Exited = 2;

    private readonly PtxKernel _k;
    private readonly PtxMemory _mem;
    private readonly byte[] _param;
    private readonly byte[] _smem;
    private readonly int _n, _nregs;
    private readonly (int X, int Y, int Z) _block, _ctaid, _grid;
    private readonly ulong[] _r;
    private readonly bool[] _w;
    private readonly int[] _pc;
    private readonly byte[] _state;
    private readonly int[] _sel, _act;
    private int _nsel, _nact;

    /// <summary>Instructions issued so far (one per scheduling step, whatever the number of threads).</summary>
    public long Steps { get; private set; }

    internal PtxCta(PtxKernel kernel, PtxMemory memory, byte[] param, (int X, int Y, int Z) block, (int X, int Y, int Z) ctaid, (int X, int Y, int Z) grid)
    {
        _k = kernel; _mem = memory; _param = param;
        _block = block; _ctaid = ctaid; _grid = grid;
        _n = block.X * block.Y * block.Z;
        _nregs = kernel.Registers.Length;
        _r = new ulong[_n * _nregs];
        _w = new bool[_n * _nregs];
        _smem = new byte[kernel.SharedBytes];
        Array.Fill(_smem, (byte)0xFF);
        _pc = new int[_n];
        _state = new byte[_n];
        _sel = new int[_n];
        _act = new int[_n];
    }

    /// <summary>Runs the CTA to completion; fails past <paramref name="maxSteps"/> issued instructions.</summary>
    internal void Run(long maxSteps)
    {
        var code = _k.Code;
        while (true)
        {
            int min = int.MaxValue;
            for (int t = 0; t < _n; t++)
                if (_state[t] == Running && _pc[t] < min) min = _pc[t];
            if (min == int.MaxValue)
            {
                // nobody running: all exited, or every live thread is parked at bar.sync (release them)
                bool any = false;
                for (int t = 0; t < _n; t++)
                    if (_state[t] == Parked) { _state[t] = Running; _pc[t]++; any = true; }
                if (!any) return;
                continue;
            }
            _nsel = 0;
            for (int t = 0; t < _n; t++)
                if (_state[t] == Running && _pc[t] == min) _sel[_nsel++] = t;
            if (min >= code.Length)
            {
                for (int i = 0; i < _nsel; i++) _state[_sel[i]] = Exited;   // fell off the end: an implicit ret
                continue;
            }
            var ins = code[min];
            if (++Steps > maxSteps) throw ins.Error($"CTA {_ctaid} still running after {maxSteps} instructions (an endless loop?)");
            _nact = 0;
            for (int i = 0; i < _nsel; i++)
            {
                int t = _sel[i];
                if (ins.Guard < 0 || (Reg(ins.Guard, t, ins) != 0) != ins.GuardNegated) _act[_nact++] = t;
            }
            if (_nact > 0) Interlocked.Increment(ref _k.Issued[min]);
            switch (ins.Op)
            {
                case PtxOp.Bra:
                    if (ins.Uni) CheckWarpUniform(ins);
                    for (int i = 0, j = 0; i < _nsel; i++)
                    {
                        int t = _sel[i];
                        if (j < _nact && _act[j] == t) { _pc[t] = ins.Operands[0].Target; j++; }
                        else _pc[t]++;
                    }
                    break;
                case PtxOp.Ret:
                    if (ins.Uni) CheckWarpUniform(ins);
                    for (int i = 0; i < _nsel; i++) _pc[_sel[i]]++;
                    for (int i = 0; i < _nact; i++) _state[_act[i]] = Exited;
                    break;
                case PtxOp.Bar:
                    if (_nact != _nsel) throw ins.Error("bar.sync under a predicate that is false for some threads");
                    if (ins.Operands[0] is not { Kind: OperandKind.Immediate, Imm: 0 }) throw ins.Error("only barrier 0 without a thread count is emulated");
                    for (int i = 0; i < _nact; i++) _state[_act[i]] = Parked;
                    break;
                case PtxOp.Shfl or PtxOp.Vote or PtxOp.Ldmatrix or PtxOp.Mma:
                    CheckWarpsWhole(ins);
                    for (int i = 0; i < _nact; i += 32) ExecuteWarp(ins, _act[i]);
                    for (int i = 0; i < _nsel; i++) _pc[_sel[i]]++;
                    break;
                default:
                    for (int i = 0; i < _nact; i++) Execute(ins, _act[i]);
                    for (int i = 0; i < _nsel; i++) _pc[_sel[i]]++;
                    break;
            }
        }
    }

    /// <summary>bra.uni / ret.uni: within each warp, the threads here must all take it or all not.</summary>
    private void CheckWarpUniform(PtxInstruction ins)
    {
        for (int i = 0, j = 0; i < _nsel; i++)
        {
            int t = _sel[i];
            bool taken = j < _nact && _act[j] == t;
            if (taken) j++;
            bool first = i == 0 || _sel[i - 1] / 32 != t / 32;
            if (first) _uniformTaken = taken;
            else if (taken != _uniformTaken) throw ins.Error($"{(ins.Op == PtxOp.Bra ? "bra" : "ret")}.uni diverges in warp {t / 32} of CTA {_ctaid}");
        }
    }

    private bool _uniformTaken;

    /// <summary>A warp-synchronous instruction needs every lane of each warp it touches, all active.</summary>
    private void CheckWarpsWhole(PtxInstruction ins)
    {
        if (_n % 32 != 0) throw ins.Error($"warp-synchronous instruction in a block of {_n} threads (not whole warps)");
        if (_nact != _nsel) throw ins.Error("warp-synchronous instruction under a predicate that is false for some lanes");
        for (int i = 0; i < _nact; i += 32)
        {
            int w = _act[i] / 32;
            if (i + 31 >= _nact || _act[i] % 32 != 0 || _act[i + 31] != w * 32 + 31)
                throw ins.Error($"warp {w} of CTA {_ctaid} is not converged here (only some of its 32 lanes reached this instruction)");
        }
    }

    /// <summary>Raw bits of register <paramref name="reg"/> of thread <paramref name="t"/>; unwritten is an error.</summary>
    private ulong Reg(int reg, int t, PtxInstruction ins)
    {
        int i = t * _nregs + reg;
        if (!_w[i]) throw ins.Error($"register {_k.Registers[reg]} read before it was written (thread {t} of CTA {_ctaid})");
        return _r[i];
    }

    private void SetReg(int reg, int t, ulong v)
    {
        int i = t * _nregs + reg;
        _r[i] = v;
        _w[i] = true;
    }
}
