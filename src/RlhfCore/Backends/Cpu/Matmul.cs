using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void MatmulForward(Tensor output, Tensor inp, Tensor weight, Tensor bias, int N, int C, int OC) => throw new NotImplementedException();
    public void MatmulBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, int N, int C, int OC, bool accumulateDinp = false) => throw new NotImplementedException();
}
