using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the KV-cache decode kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AttentionDecodeParams
{
    public int B, Tq, C, NH, MaxT, Past, HasMask;
    public float Scale;
}

// Causal multi-head attention, as Cpu/Attention.cs (the math and gradient rule are stated there).
//   AttentionForward / AttentionBackward: the hand-written PTX (kernels/ptx/attention_*.ptx) launched in
//   ILGPU's CUDA context (Ptx/AttentionPtx.cs), or, on the CPU accelerator, the CPU backend's code over
//   the same host memory. The saved-values layout of `att` is therefore the PTX's on CUDA and the CPU
//   backend's (probabilities) on the CPU accelerator.
//   AttentionDecodeForward (KV cache, generation): the ILGPU kernel below, any head size ≤ 1024. One group
//   per (b, h): it appends the Tq new k, v rows, then walks each query's visible keys in chunks of one key
//   per thread with an online softmax (group max and sum), the chunk's probabilities in shared memory, and
//   each thread owning head dims d ≡ thread (mod group) of the output accumulator (in shared memory).
//   A query that sees no key gets 0. Not a gradient kernel.
public sealed partial class IlgpuBackend
{
    private const int DecodeMaxHeadSize = 1024;

    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, AttentionDecodeParams> _attentionDecode = null!;

    private void LoadAttentionKernels() =>
        _attentionDecode = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, AttentionDecodeParams>(AttentionDecodeKernel, s));

    internal static void AttentionDecodeKernel(ArrayView<float> output, ArrayView<float> kCache, ArrayView<float> vCache,
        ArrayView<float> qkv, ArrayView<int> keyMask, AttentionDecodeParams p)
    {
        var probs = SharedMemory.Allocate<float>(CudaGroupSize);
        var acc = SharedMemory.Allocate<float>(DecodeMaxHeadSize);
        int hs = p.C / p.NH;
        long c3 = 3L * p.C;
        for (int bh = Grid.IdxX; bh < p.B * p.NH; bh += Grid.DimX)
        {
            int b = bh / p.NH, h = bh % p.NH;
            long cache = (long)bh * p.MaxT * hs;
            for (int idx = Group.IdxX; idx < p.Tq * hs; idx += Group.DimX)
            {
                int i = idx / hs, d = idx % hs;
                long src = ((long)b * p.Tq + i) * c3 + h * hs + d;
                kCache[cache + (long)(p.Past + i) * hs + d] = qkv[src + p.C];
                vCache[cache + (long)(p.Past + i) * hs + d] = qkv[src + 2 * p.C];
            }
            Group.Barrier();
            for (int i = 0; i < p.Tq; i++)
            {
                int pos = p.Past + i;
                long q = ((long)b * p.Tq + i) * c3 + h * hs;
                for (int d = Group.IdxX; d < hs; d += Group.DimX) acc[d] = 0f;
                float m = float.NegativeInfinity, l = 0f;
                for (int s0 = 0; s0 <= pos; s0 += Group.DimX)
                {
                    int s = s0 + Group.IdxX;
                    bool visible = s <= pos && (p.HasMask == 0 || keyMask[(long)b * p.MaxT + s] != 0);
                    float score = float.NegativeInfinity;
                    if (visible)
                    {
                        float dot = 0f;
                        for (int d = 0; d < hs; d++) dot += qkv[q + d] * kCache[cache + (long)s * hs + d];
                        score = dot * p.Scale;
                    }
                    float mnew = XMath.Max(m, GroupExtensions.AllReduce<float, MaxFloat>(score));
                    if (mnew == float.NegativeInfinity) continue;   // nothing visible yet (uniform over the group)
                    float pr = visible ? XMath.Exp(score - mnew) : 0f;
                    float alpha = XMath.Exp(m - mnew);               // 0 while m is −inf
                    l = l * alpha + GroupExtensions.AllReduce<float, AddFloat>(pr);
                    m = mnew;
                    probs[Group.IdxX] = pr;
                    Group.Barrier();
                    int n = XMath.Min(Group.DimX, pos + 1 - s0);
                    for (int d = Group.IdxX; d < hs; d += Group.DimX)
                    {
                        float a = acc[d] * alpha;
                        for (int j = 0; j < n; j++) a += probs[j] * vCache[cache + (long)(s0 + j) * hs + d];
                        acc[d] = a;
                    }
                    Group.Barrier();
                }
                float inv = l > 0f ? 1f / l : 0f;
                for (int d = Group.IdxX; d < hs; d += Group.DimX) output[((long)b * p.Tq + i) * p.C + h * hs + d] = acc[d] * inv;
                Group.Barrier();
            }
        }
    }

    /// <inheritdoc/>
    public long AttentionSavedFloats(int B, int T, int C, int NH) =>
        _host != null ? _host.AttentionSavedFloats(B, T, C, NH) : PtxAttentionSavedFloats(B, T, C, NH);

    /// <inheritdoc/>
    public long AttentionScratchFloats(int B, int T, int C, int NH) =>
        _host != null ? _host.AttentionScratchFloats(B, T, C, NH) : PtxAttentionScratchFloats(B, T, C, NH);

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH)
    {
        if (_host == null)
        {
            PtxAttentionForward(output, att, qkv, keyMask, B, T, C, NH);
            return;
        }
        _stream.Synchronize();
        _host.AttentionForward(output, att, qkv, keyMask, B, T, C, NH);
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH)
    {
        if (_host == null)
        {
            PtxAttentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH);
            return;
        }
        _stream.Synchronize();
        _host.AttentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH);
    }

    /// <inheritdoc/>
    public void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT)
    {
        if (B <= 0 || Tq <= 0 || C <= 0 || NH <= 0 || C % NH != 0)
            throw new ArgumentException($"attention decode: B={B}, Tq={Tq}, C={C}, NH={NH} must be positive with C divisible by NH");
        if (C / NH > DecodeMaxHeadSize)
            throw new NotSupportedException($"attention decode: head size {C / NH} exceeds the ILGPU kernel's {DecodeMaxHeadSize}");
        if (pastLength < 0 || pastLength + Tq > maxT)
            throw new ArgumentOutOfRangeException(nameof(pastLength), pastLength,
                $"attention decode: positions [{pastLength}, {pastLength + Tq}) do not fit a KV cache of {maxT} positions");
        _attentionDecode(_stream, Rows((long)B * NH), View(output), View(kCache), View(vCache), View(qkv), Ints(keyMask), new AttentionDecodeParams
        {
            B = B, Tq = Tq, C = C, NH = NH, MaxT = maxT, Past = pastLength, HasMask = keyMask.IsNone ? 0 : 1, Scale = 1f / MathF.Sqrt(C / NH),
        });
    }
}
