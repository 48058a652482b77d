using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors SampleParams in kernels/cuda/sampling.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SampleParams
{
    public nint Tokens, Logits, Uniforms;
    public int B, V;
    public float Temperature;
    public int TopK;
    public float TopP;
    public int Pad;
}

// Token sampling (kernels/cuda/sampling.cu): one block per row, radix select over unique rank keys, the
// CPU backend's rule (temperature, top-k, top-p, inverse CDF; greedy at temperature 0).
public sealed partial class CudaBackend
{
    private CudaKernel? _sample;

    /// <inheritdoc/>
    public void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP)
    {
        SamplingArguments.Validate(V, temperature, topK, topP);
        _sample ??= Kernel("sampling", "sample_tokens");
        Launch(_sample, ((uint)B, 1, 1), Block1D(1024), 0, new SampleParams
        {
            Tokens = tokens.Address, Logits = logits.Address, Uniforms = uniforms.Address, B = B, V = V,
            Temperature = temperature, TopK = topK, TopP = topP,
        });
    }
}
