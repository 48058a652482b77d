using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void EmbeddingForward(Tensor output, Tensor tokens, Tensor positions, Tensor wte, Tensor wpe, int N, int C) => throw new NotImplementedException();
    public void EmbeddingBackward(Tensor dwte, Tensor dwpe, Tensor dout, Tensor tokens, Tensor positions, int N, int C) => throw new NotImplementedException();
}
