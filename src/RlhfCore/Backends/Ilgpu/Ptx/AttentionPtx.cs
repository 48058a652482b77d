using RlhfCore.Backends.Cuda;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// Fused causal attention forward/backward on CUDA: the hand-written PTX of kernels/ptx/attention_*.ptx
// (bf16 mma.sync, fp32 accumulation, FlashAttention-2 tiling; head size 64), launched through CudaModules
// in ILGPU's context on ILGPU's stream over ILGPU-owned buffers. The parameter structs and the layout of
// the `att` scratch are the NVRTC backend's (Cuda/Attention.cs states them): LSE [B·NH·T], the key-mask
// copy [B·T] (T ≥ 2), then, 16-byte aligned, the output copy [B·T·C] when it fits.
public sealed partial class IlgpuBackend
{
    private const int PtxHeadSize = 64;
    private static float PtxAttentionScale => 1f / MathF.Sqrt(PtxHeadSize);

    private long PtxAttentionSavedFloats(int B, int T, int C, int NH) => PtxAttentionOutOffset(B, T, NH) + (long)B * T * C;

    private long PtxAttentionScratchFloats(int B, int T, int C, int NH) => (long)B * NH * T;

    private static long PtxAttentionOutOffset(int B, int T, int NH) => ((long)B * NH * T + (long)B * T + 3) & ~3L;

    private static void CheckPtxAttentionShape(string op, int B, int T, int C, int NH)
    {
        if (B <= 0 || T <= 0 || NH <= 0 || C <= 0)
            throw new ArgumentException($"{op}: B={B}, T={T}, C={C}, NH={NH} must all be positive");
        if (C % NH != 0 || C / NH != PtxHeadSize)
            throw new NotSupportedException($"{op}: the CUDA attention PTX is written for head size {PtxHeadSize}; " +
                $"C={C}, NH={NH} gives {(C % NH == 0 ? (C / NH).ToString() : "a non-integer")} (GPT-2 models all use 64)");
    }

    private static nint FloatOffset(Tensor t, long floats) => t.Address + (nint)(floats * 4);

    private void LaunchPtxAttentionForward(nint output, nint output2, nint lse, nint qkv, nint mask, int B, int T, int C, int NH)
    {
        var p = new AttentionForwardParams
        {
            Qkv = qkv, Out = output, Out2 = output2, Lse = lse, Mask = mask,
            T = T, C = C, NH = NH, ScaleLog2 = PtxAttentionScale * 1.4426950408889634f,
        };
        Ptx.Launch(_ptxAttentionForward!, ((uint)((T + 63) / 64), (uint)NH, (uint)B), (128u, 1u, 1u), 0, p);
    }

    private void PtxAttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH)
    {
        CheckPtxAttentionShape(nameof(AttentionForward), B, T, C, NH);
        long lse = (long)B * NH * T, outOffset = PtxAttentionOutOffset(B, T, NH);
        if (att.Length < lse) throw new ArgumentException($"attention: att has {att.Length} floats, needs at least B*NH*T = {lse} for the log-sum-exp");
        bool hasMask = att.Length >= lse + (long)B * T && T >= 2, hasOut = att.Length >= outOffset + (long)B * T * C;
        if (hasMask)
        {
            var copy = new Tensor(FloatOffset(att, lse), DType.I32, [B * T]);
            if (keyMask.IsNone) Fill32(copy, 1);
            else Copy(copy, keyMask.Slice(0, (long)B * T));
        }
        LaunchPtxAttentionForward(output.Address, hasOut ? FloatOffset(att, outOffset) : 0, att.Address, qkv.Address,
            keyMask.IsNone ? 0 : keyMask.Address, B, T, C, NH);
    }

    private void PtxAttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH)
    {
        CheckPtxAttentionShape(nameof(AttentionBackward), B, T, C, NH);
        long rows = (long)B * NH * T, outOffset = PtxAttentionOutOffset(B, T, NH);
        if (att.Length < rows) throw new ArgumentException($"attention backward: att has {att.Length} floats, needs at least B*NH*T = {rows}");
        if (datt.Length < rows) throw new ArgumentException($"attention backward: datt has {datt.Length} floats, needs B*NH*T = {rows} for D");
        bool hasMask = att.Length >= rows + (long)B * T && T >= 2, hasOut = att.Length >= outOffset + (long)B * T * C;
        nint mask = hasMask ? FloatOffset(att, rows) : 0;
        nint o;
        if (hasOut) o = FloatOffset(att, outOffset);
        else
        {
            // Short sequence: no room for the output copy. Recompute O (its LSE goes to a throwaway slot) into scratch.
            long n = (long)B * T * C;
            nint scratch = ScratchPointer((n + rows) * 4);
            o = scratch;
            LaunchPtxAttentionForward(o, 0, scratch + (nint)(n * 4), qkv.Address, mask, B, T, C, NH);
        }
        var dot = new AttentionDotParams { O = o, Dout = dout.Address, D = datt.Address, T = T, C = C, NH = NH, Ldo = C, BT = B * T };
        Ptx.Launch(_ptxAttentionDot!, ((uint)((rows + 7) / 8), 1u, 1u), (256u, 1u, 1u), 0, dot);
        var p = new AttentionBackwardParams
        {
            Qkv = qkv.Address, Dout = dout.Address, Dqkv = dqkv.Address, Lse = att.Address, D = datt.Address, Mask = mask,
            T = T, C = C, NH = NH, ScaleLog2 = PtxAttentionScale * 1.4426950408889634f, Scale = PtxAttentionScale,
        };
        var grid = ((uint)((T + 63) / 64), (uint)NH, (uint)B);
        Ptx.Launch(_ptxAttentionDkdv!, grid, (128u, 1u, 1u), 0, p);
        Ptx.Launch(_ptxAttentionDq!, grid, (128u, 1u, 1u), 0, p);
    }
}
