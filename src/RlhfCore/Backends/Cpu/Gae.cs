using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda)
        => throw new NotImplementedException();

    public void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n) => throw new NotImplementedException();
}
