using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors AdamWParams in kernels/cuda/adamw.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AdamWParams
{
    public nint Param, Grad, M, V;
    public long N;
    public float Lr, Beta1, Beta2, Eps, WeightDecay, GradScale, MHatScale, VHatScale;
}

// AdamW (kernels/cuda/adamw.cu): bias corrections computed here in double, as the CPU backend.
public sealed partial class CudaBackend
{
    private CudaKernel? _adamw;

    /// <inheritdoc/>
    public void AdamWUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "AdamW steps count from 1 (bias correction 1 − βᵗ would be 0)");
        _adamw ??= Kernel("adamw", "adamw_update");
        LaunchElementwise(_adamw, n, new AdamWParams
        {
            Param = param.Address, Grad = grad.Address, M = m.Address, V = v.Address, N = n,
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, GradScale = gradScale,
            MHatScale = (float)(1.0 / (1.0 - Math.Pow(beta1, step))), VHatScale = (float)(1.0 / (1.0 - Math.Pow(beta2, step))),
        });
    }
}
