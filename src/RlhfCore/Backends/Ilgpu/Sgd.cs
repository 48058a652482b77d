using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the SGD kernel (heavy-ball and Nesterov folded into BufCoef, GradCoef on the host).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SgdParams
{
    public long N;
    public float Lr, Momentum, WeightDecay, GradScale, BufCoef, GradCoef;
}

// One SGD step over n elements (torch.optim.SGD, dampening 0), in place on param and buf, as Cpu/Sgd.cs:
//   g = gradScale·grad + weightDecay·param;  buf = momentum·buf + g
//   param −= lr·(bufCoef·buf + gradCoef·g)   with (bufCoef, gradCoef) = (1, 0) heavy-ball, (momentum, 1) Nesterov
// Not a gradient kernel: it consumes the accumulated parameter gradients (grad is read only).
// Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdParams> _sgd = null!;

    private void LoadSgdKernels() =>
        _sgd = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdParams>(SgdKernel, s));

    internal static void SgdKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> buf, SgdParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float p = param[i];
            float g = q.GradScale * grad[i] + q.WeightDecay * p;
            float b = q.Momentum * buf[i] + g;
            param[i] = p - q.Lr * (q.BufCoef * b + q.GradCoef * g);
            buf[i] = b;
        }
    }

    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, long n, float lr, float momentum, float weightDecay, float gradScale, bool nesterov)
    {
        if (n == 0) return;
        var q = new SgdParams
        {
            N = n, Lr = lr, Momentum = momentum, WeightDecay = weightDecay, GradScale = gradScale,
            BufCoef = nesterov ? momentum : 1f, GradCoef = nesterov ? 1f : 0f,
        };
        _sgd(_stream, Flat(n), View(param), View(grad), View(momentumBuffer), q);
    }
}
