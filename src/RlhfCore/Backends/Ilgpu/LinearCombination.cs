using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the linear-combination kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LinearCombinationParams
{
    public long N;
    public float Alpha, Beta;
}

// output = α·x + β·y over n elements, as Cpu/LinearCombination.cs (output may alias x or y).
// Not a gradient kernel: Muon's momentum and Newton–Schulz combinations are built from it. Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearCombinationParams> _linearCombination = null!;

    private void LoadLinearCombinationKernels() =>
        _linearCombination = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, LinearCombinationParams>(LinearCombinationKernel, s));

    internal static void LinearCombinationKernel(ArrayView<float> output, ArrayView<float> x, ArrayView<float> y, LinearCombinationParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
            output[i] = q.Alpha * x[i] + q.Beta * y[i];
    }

    /// <inheritdoc/>
    public void LinearCombination(Tensor output, Tensor x, Tensor y, float alpha, float beta, long n)
    {
        if (n == 0) return;
        _linearCombination(_stream, Flat(n), View(output), View(x), View(y), new LinearCombinationParams { N = n, Alpha = alpha, Beta = beta });
    }
}
