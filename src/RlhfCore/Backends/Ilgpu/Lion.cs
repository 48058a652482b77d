using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the Lion kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LionParams
{
    public long N;
    public float Lr, Beta1, Beta2, WeightDecay, GradScale;
}

// One Lion step over n elements (Chen et al. 2023), in place on param and m, as Cpu/Lion.cs:
//   g = gradScale·grad;  c = β1·m + (1 − β1)·g
//   param −= lr·(sign(c) + weightDecay·param);  m = β2·m + (1 − β2)·g
// sign(0) = sign(NaN) = 0. Not a gradient kernel: grad is read only. Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, LionParams> _lion = null!;

    private void LoadLionKernels() =>
        _lion = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, LionParams>(LionKernel, s));

    internal static void LionKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, LionParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float g = q.GradScale * grad[i];
            float mi = m[i];
            float c = q.Beta1 * mi + (1f - q.Beta1) * g;
            float sign = c > 0f ? 1f : c < 0f ? -1f : 0f;
            float p = param[i];
            param[i] = p - q.Lr * (q.WeightDecay * p + sign);
            m[i] = q.Beta2 * mi + (1f - q.Beta2) * g;
        }
    }

    /// <inheritdoc/>
    public void LionUpdate(Tensor param, Tensor grad, Tensor m, long n, float lr, float beta1, float beta2, float weightDecay, float gradScale)
    {
        if (n == 0) return;
        var q = new LionParams { N = n, Lr = lr, Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay, GradScale = gradScale };
        _lion(_stream, Flat(n), View(param), View(grad), View(m), q);
    }
}
