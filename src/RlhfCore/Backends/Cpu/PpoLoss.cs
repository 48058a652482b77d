using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipEps, float entropyCoef)
        => throw new NotImplementedException();
}
