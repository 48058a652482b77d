using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void CrossEntropyForwardBackward(Tensor losses, Tensor dlogits, Tensor logits, Tensor targets, Tensor weights, int N, int V) => throw new NotImplementedException();
}
