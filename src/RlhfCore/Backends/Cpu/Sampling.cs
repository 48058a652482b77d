using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP) => throw new NotImplementedException();
}
