using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the AdamW kernel (bias corrections precomputed on the host in double).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AdamWParams
{
    public long N;
    public float Lr, Beta1, Beta2, Eps, WeightDecay, GradScale, MHatScale, VHatScale;
}

// One AdamW step over n elements (Loshchilov & Hutter), in place on param, m, v, as Cpu/AdamW.cs:
//   g = gradScale·grad;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   param −= lr·(m·mHatScale / (√(v·vHatScale) + eps) + weightDecay·param)
// with mHatScale = 1/(1 − β1ᵗ), vHatScale = 1/(1 − β2ᵗ) computed on the host in double.
// Not a gradient kernel: it consumes the accumulated parameter gradients (grad is read only).
// Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWParams> _adamw = null!;

    private void LoadAdamWKernels() =>
        _adamw = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWParams>(AdamWKernel, s));

    internal static void AdamWKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float g = q.GradScale * grad[i];
            float mi = q.Beta1 * m[i] + (1f - q.Beta1) * g;
            float vi = q.Beta2 * v[i] + (1f - q.Beta2) * (g * g);
            float update = mi * q.MHatScale / (XMath.Sqrt(vi * q.VHatScale) + q.Eps);
            float p = param[i];
            param[i] = p - q.Lr * (q.WeightDecay * p + update);
            m[i] = mi;
            v[i] = vi;
        }
    }

    /// <inheritdoc/>
    public void AdamWUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "AdamW steps count from 1 (bias correction 1 − βᵗ would be 0)");
        if (n == 0) return;
        var q = new AdamWParams
        {
            N = n, Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, GradScale = gradScale,
            MHatScale = (float)(1.0 / (1.0 - Math.Pow(beta1, step))), VHatScale = (float)(1.0 / (1.0 - Math.Pow(beta2, step))),
        };
        _adamw(_stream, Flat(n), View(param), View(grad), View(m), View(v), q);
    }
}
