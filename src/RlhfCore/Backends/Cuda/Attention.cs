using RlhfCore.Backends.Native;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors the 56-byte parameter block of kernels/ptx/attention_forward.ptx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionForwardParams
{
    public nint Qkv, Out, Out2, Lse, Mask;
    public int T, C, NH;
    public float ScaleLog2;
}

/// <summary>Mirrors the 48-byte parameter block of attention_backward_dot (kernels/ptx/attention_backward.ptx).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionDotParams
{
    public nint O, Dout, D;
    public int T, C, NH, Ldo, BT, Pad;
}

/// <summary>Mirrors the 72-byte parameter block of attention_backward_dkdv and attention_backward_dq.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionBackwardParams
{
    public nint Qkv, Dout, Dqkv, Lse, D, Mask;
    public int T, C, NH;
    public float ScaleLog2, Scale;
    public int Pad;
}

/// <summary>Mirrors AttentionDecodeParams in kernels/cuda/attention_decode.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionDecodeParams
{
    public nint Qkv, Out, KCache, VCache, KeyMask;
    public int Past, Tq, C, NH, MaxT;
    public float Scale;
}

// Fused causal attention (docs/attention-ptx.md).
//
// Forward and backward are hand-written PTX (bf16 mma.sync, fp32 accumulation, FlashAttention-2
// tiling); decode against the KV cache is CUDA C. No T x T matrix is materialized: the `att` tensor of
// the IBackend signatures ([B,NH,T,T] floats) is scratch owned by these kernels on this backend, laid
// out (offsets in floats) as
//     [0, B*NH*T)                    LSE: natural log-sum-exp of each row's scaled scores (-inf: no key)
//     [B*NH*T, +B*T)                 copy of keyMask (I32; all ones when the forward had none)   (T >= 2)
//     [align4(B*NH*T + B*T), +B*T*C) copy of the forward output O, for D = rowsum(dO o O)       (T >= 66)
// because AttentionBackward receives neither the key mask nor the output. When the output copy does
// not fit (short sequences), backward recomputes O with the forward kernel into backend scratch. With
// T = 1 there is no room for the mask copy and none is needed: the only key is masked exactly when
// the row's LSE is -inf. `datt` holds D [B,NH,T] during backward. An interface whose backward took
// the output and the mask would drop both copies (noted for the integrator in docs/attention-ptx.md).
public sealed partial class CudaBackend
{
    private const int AttentionHeadSize = 64;
    private const string AttentionForwardPtx = "attention_forward.ptx", AttentionBackwardPtx = "attention_backward.ptx";
    private CudaKernel? _attnForward, _attnDot, _attnDkdv, _attnDq, _attnDecode;

    private static readonly bool AttentionParamSizesChecked = CheckAttentionParamSizes();

    private static bool CheckAttentionParamSizes()
    {
        static void Expect<T>(int bytes, string where) where T : unmanaged
        {
            if (Unsafe.SizeOf<T>() != bytes)
                throw new InvalidOperationException($"{typeof(T).Name} is {Unsafe.SizeOf<T>()} bytes; {where} expects {bytes}");
        }
        Expect<AttentionForwardParams>(56, "attention_forward.ptx (.param prm[56])");
        Expect<AttentionDotParams>(48, "attention_backward_dot (.param prm[48])");
        Expect<AttentionBackwardParams>(72, "attention_backward_dkdv/_dq (.param prm[72])");
        Expect<AttentionDecodeParams>(64, "attention_decode.cu");
        return true;
    }

    /// <inheritdoc/>
    public long AttentionSavedFloats(int B, int T, int C, int NH) => AttentionOutOffset(B, T, NH) + (long)B * T * C;

    /// <inheritdoc/>
    public long AttentionScratchFloats(int B, int T, int C, int NH) => (long)B * NH * T;

    /// <summary>LSE [B·NH·T], then the mask copy [B·T], then (16-byte aligned) the output copy [B·T·C].</summary>
    private static long AttentionOutOffset(int B, int T, int NH) => ((long)B * NH * T + (long)B * T + 3) & ~3L;

    private readonly record struct AttentionLayout(long MaskOffset, long OutOffset, bool HasMask, bool HasOut);

    /// <summary>Where the forward's saved values sit in the <c>att</c> scratch (see the comment above).</summary>
    private static AttentionLayout AttentionScratchLayout(Tensor att, int B, int T, int C, int NH)
    {
        long lse = (long)B * NH * T, maskOff = lse, outOff = AttentionOutOffset(B, T, NH);
        if (att.Length < lse)
            throw new ArgumentException($"attention: att has {att.Length} floats, needs at least B*NH*T = {lse} for the log-sum-exp");
        return new AttentionLayout(maskOff, outOff, att.Length >= maskOff + (long)B * T && T >= 2, att.Length >= outOff + (long)B * T * C);
    }

    private static void CheckAttentionShape(string op, int B, int T, int C, int NH)
    {
        if (B <= 0 || T <= 0 || NH <= 0 || C <= 0)
            throw new ArgumentException($"{op}: B={B}, T={T}, C={C}, NH={NH} must all be positive");
        if (C % NH != 0 || C / NH != AttentionHeadSize)
            throw new NotSupportedException($"{op}: the CUDA attention kernels are written for head size {AttentionHeadSize}; " +
                $"C={C}, NH={NH} gives {(C % NH == 0 ? (C / NH).ToString() : "a non-integer")} (GPT-2 models all use 64)");
    }

    private static nint Offset(Tensor t, long floats) => t.Address + (nint)(floats * 4);

    private static float AttentionScale => 1f / MathF.Sqrt(AttentionHeadSize);

    private void LaunchAttentionForward(nint output, nint output2, nint lse, nint qkv, nint mask, int B, int T, int C, int NH)
    {
        _attnForward ??= LoadPtxKernel(AttentionForwardPtx, "attention_forward");
        var p = new AttentionForwardParams
        {
            Qkv = qkv, Out = output, Out2 = output2, Lse = lse, Mask = mask,
            T = T, C = C, NH = NH, ScaleLog2 = AttentionScale * 1.4426950408889634f,
        };
        Launch(_attnForward, ((uint)((T + 63) / 64), (uint)NH, (uint)B), (128u, 1u, 1u), 0, p);
    }

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH)
    {
        _ = AttentionParamSizesChecked;
        CheckAttentionShape(nameof(AttentionForward), B, T, C, NH);
        var lay = AttentionScratchLayout(att, B, T, C, NH);
        if (lay.HasMask)
        {
            var copy = new Tensor(Offset(att, lay.MaskOffset), DType.I32, [B * T]);
            if (keyMask.IsNone) Fill32(copy, 1);
            else Copy(copy, keyMask.Slice(0, (long)B * T));
        }
        LaunchAttentionForward(output.Address, lay.HasOut ? Offset(att, lay.OutOffset) : 0, att.Address, qkv.Address,
            keyMask.IsNone ? 0 : keyMask.Address, B, T, C, NH);
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH)
    {
        _ = AttentionParamSizesChecked;
        CheckAttentionShape(nameof(AttentionBackward), B, T, C, NH);
        var lay = AttentionScratchLayout(att, B, T, C, NH);
        long rows = (long)B * NH * T;
        if (datt.Length < rows)
            throw new ArgumentException($"attention backward: datt has {datt.Length} floats, needs B*NH*T = {rows} for D");
        nint mask = lay.HasMask ? Offset(att, lay.MaskOffset) : 0;
        nint o;
        if (lay.HasOut) o = Offset(att, lay.OutOffset);
        else
        {
            // Short sequence: no room for the output copy. Recompute O (its LSE goes to a throwaway slot,
            // so the saved one is untouched) into scratch: O [B*T*C] then LSE [B*NH*T].
            long n = (long)B * T * C;
            nint scratch = Scratch((n + rows) * 4);
            o = scratch;
            LaunchAttentionForward(o, 0, scratch + (nint)(n * 4), qkv.Address, mask, B, T, C, NH);
        }
        _attnDot ??= LoadPtxKernel(AttentionBackwardPtx, "attention_backward_dot");
        _attnDkdv ??= LoadPtxKernel(AttentionBackwardPtx, "attention_backward_dkdv");
        _attnDq ??= LoadPtxKernel(AttentionBackwardPtx, "attention_backward_dq");
        var dot = new AttentionDotParams { O = o, Dout = dout.Address, D = datt.Address, T = T, C = C, NH = NH, Ldo = C, BT = B * T };
        Launch(_attnDot, Grid1D(rows, 8), Block1D(256), 0, dot);
        var p = new AttentionBackwardParams
        {
            Qkv = qkv.Address, Dout = dout.Address, Dqkv = dqkv.Address, Lse = att.Address, D = datt.Address, Mask = mask,
            T = T, C = C, NH = NH, ScaleLog2 = AttentionScale * 1.4426950408889634f, Scale = AttentionScale,
        };
        var grid = ((uint)((T + 63) / 64), (uint)NH, (uint)B);
        Launch(_attnDkdv, grid, (128u, 1u, 1u), 0, p);
        Launch(_attnDq, grid, (128u, 1u, 1u), 0, p);
    }

    /// <inheritdoc/>
    public void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT)
    {
        _ = AttentionParamSizesChecked;
        CheckAttentionShape(nameof(AttentionDecodeForward), B, Tq, C, NH);
        if (pastLength < 0 || pastLength + Tq > maxT)
            throw new ArgumentOutOfRangeException(nameof(pastLength), $"attention decode: positions [{pastLength}, {pastLength + Tq}) exceed the cache of {maxT}");
        _attnDecode ??= Kernel("attention_decode", "attention_decode");
        var p = new AttentionDecodeParams
        {
            Qkv = qkv.Address, Out = output.Address, KCache = kCache.Address, VCache = vCache.Address,
            KeyMask = keyMask.IsNone ? 0 : keyMask.Address, Past = pastLength, Tq = Tq, C = C, NH = NH, MaxT = maxT, Scale = AttentionScale,
        };
        Launch(_attnDecode, ((uint)NH, (uint)B, 1u), (128u, 1u, 1u), 0, p);
    }
}
