using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void LayerNormForward(Tensor output, Tensor mean, Tensor rstd, Tensor inp, Tensor weight, Tensor bias, int N, int C) => throw new NotImplementedException();
    public void LayerNormBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, Tensor mean, Tensor rstd, int N, int C) => throw new NotImplementedException();
}
