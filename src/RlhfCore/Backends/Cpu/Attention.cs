using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH) => throw new NotImplementedException();
    public void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH) => throw new NotImplementedException();
    public void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT) => throw new NotImplementedException();
}
