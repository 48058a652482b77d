using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the GELU kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GeluParams
{
    public long N;
}

// GELU, tanh form (GPT-2's "gelu_new"), forward and backward, as Cpu/Gelu.cs:
//   gelu(x)  = 0.5·x·(1 + tanh u),  u = √(2/π)·(x + 0.044715·x³)
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
// Written through σ(2u) = 0.5·(1 + tanh u) = 1 / (1 + e^(−2u)): one exp, no cancellation near u = 0.
// Gradient rule: dinp is an activation gradient and is OVERWRITTEN.
// Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private const float GeluK = 1.5957691216057308f;          // 2·√(2/π)
    private const float GeluKCubic = GeluK * 0.044715f;

    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, GeluParams> _geluForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GeluParams> _geluBackward = null!;

    private void LoadGeluKernels()
    {
        _geluForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, GeluParams>(GeluForwardKernel, s));
        _geluBackward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GeluParams>(GeluBackwardKernel, s));
    }

    internal static void GeluForwardKernel(ArrayView<float> output, ArrayView<float> inp, GeluParams p)
    {
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX)
        {
            float x = inp[i];
            output[i] = x / (1f + XMath.Exp(x * (-GeluKCubic * (x * x) - GeluK)));
        }
    }

    internal static void GeluBackwardKernel(ArrayView<float> dinp, ArrayView<float> inp, ArrayView<float> dout, GeluParams p)
    {
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX)
        {
            float x = inp[i], x2 = x * x;
            float s = 1f / (1f + XMath.Exp(x * (-GeluKCubic * x2 - GeluK)));   // σ(2u)
            float grad = s + x * s * (1f - s) * (3f * GeluKCubic * x2 + GeluK);
            dinp[i] = grad * dout[i];
        }
    }

    /// <inheritdoc/>
    public void GeluForward(Tensor output, Tensor inp, long n)
    {
        if (n == 0) return;
        _geluForward(_stream, Flat(n), View(output), View(inp), new GeluParams { N = n });
    }

    /// <inheritdoc/>
    public void GeluBackward(Tensor dinp, Tensor inp, Tensor dout, long n)
    {
        if (n == 0) return;
        _geluBackward(_stream, Flat(n), View(dinp), View(inp), View(dout), new GeluParams { N = n });
    }
}
