using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void TokenLogProbsForward(Tensor logp, Tensor logits, Tensor tokens, int N, int V) => throw new NotImplementedException();
    public void TokenLogProbsBackward(Tensor dlogits, Tensor dlogp, Tensor logits, Tensor tokens, int N, int V) => throw new NotImplementedException();
    public void EntropyForward(Tensor entropy, Tensor logits, int N, int V) => throw new NotImplementedException();
    public void EntropyBackward(Tensor dlogits, Tensor dentropy, Tensor logits, int N, int V) => throw new NotImplementedException();
}
