using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void GatherRowsForward(Tensor output, Tensor inp, Tensor rows, int M, int C) => throw new NotImplementedException();
    public void GatherRowsBackward(Tensor dinp, Tensor dout, Tensor rows, int M, int C) => throw new NotImplementedException();
}
