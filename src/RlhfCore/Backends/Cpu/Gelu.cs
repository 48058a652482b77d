using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void GeluForward(Tensor output, Tensor inp, long n) => throw new NotImplementedException();
    public void GeluBackward(Tensor dinp, Tensor inp, Tensor dout, long n) => throw new NotImplementedException();
}
