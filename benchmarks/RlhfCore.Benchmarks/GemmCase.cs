using RlhfCore.Backends.Cpu;
using RlhfCore.Tensors;

namespace RlhfCore.Benchmarks;

/// <summary>Which of the three matmul products: forward A·Bᵀ, backward dinp A·B, backward dweight Aᵀ·B (+=).</summary>
public enum GemmForm { Forward, Dinp, Dweight }

/// <summary>
/// The GPT-2 124M matmuls at batch 4 × sequence 64 (N = 256 rows), with buffers for one (N, C, OC) shape
/// and both implementations: ours (the CPU backend) and OpenBLAS cblas_sgemm, same inputs.
/// </summary>
internal sealed unsafe class GemmCase : IDisposable
{
    /// <summary>(N, C, OC) of the model's linear layers: qkv, attention proj, fc, fc proj, LM head.</summary>
    public static readonly (int N, int C, int OC)[] Gpt2Shapes =
        [(256, 768, 2304), (256, 768, 768), (256, 768, 3072), (256, 3072, 768), (256, 768, 50257)];

    private readonly CpuBackend _backend;
    private readonly List<DeviceBuffer> _buffers = [];
    private readonly Tensor _inp, _weight, _dout, _out, _dinp, _dweight;

    /// <summary>Rows, input channels, output channels.</summary>
    public int N { get; }
    /// <inheritdoc cref="N"/>
    public int C { get; }
    /// <inheritdoc cref="N"/>
    public int OC { get; }

    /// <summary>Floating-point operations of one product (all three forms are 2·N·C·OC).</summary>
    public double Flops => 2.0 * N * C * OC;

    /// <summary>Buffers for one shape, filled with uniform random values in [−1, 1).</summary>
    public GemmCase(CpuBackend backend, int n, int c, int oc)
    {
        _backend = backend;
        N = n; C = c; OC = oc;
        var rng = new Random(1);
        Tensor Make(int rows, int cols)
        {
            var data = new float[(long)rows * cols];
            for (long i = 0; i < data.Length; i++) data[i] = 2f * (float)rng.NextDouble() - 1f;
            var buffer = backend.Allocate(data.LongLength * 4);
            _buffers.Add(buffer);
            var t = buffer.AsTensor(DType.F32, rows, cols);
            backend.Upload<float>(t, data);
            return t;
        }
        _inp = Make(n, c); _weight = Make(oc, c); _dout = Make(n, oc);
        _out = Make(n, oc); _dinp = Make(n, c); _dweight = Make(oc, c);
    }

    /// <summary>Runs one product with our GEMM (forward through the backend's public MatmulForward).</summary>
    public void RunOurs(GemmForm form)
    {
        switch (form)
        {
            case GemmForm.Forward:
                _backend.MatmulForward(_out, _inp, _weight, Tensor.None, N, C, OC);
                break;
            case GemmForm.Dinp:
                Gemm.Run(_backend.Pool, N, C, OC, CpuBackend.F(_dout), OC, 1, CpuBackend.F(_weight), C, 1, CpuBackend.F(_dinp), C, false, null);
                break;
            case GemmForm.Dweight:
                Gemm.Run(_backend.Pool, OC, C, N, CpuBackend.F(_dout), 1, OC, CpuBackend.F(_inp), C, 1, CpuBackend.F(_dweight), C, true, null);
                break;
        }
    }

    /// <summary>Runs the same product with OpenBLAS.</summary>
    public void RunOpenBlas(GemmForm form)
    {
        switch (form)
        {
            case GemmForm.Forward:
                OpenBlas.Sgemm(OpenBlas.NoTrans, OpenBlas.Trans, N, OC, C, 1f, CpuBackend.F(_inp), C, CpuBackend.F(_weight), C, 0f, CpuBackend.F(_out), OC);
                break;
            case GemmForm.Dinp:
                OpenBlas.Sgemm(OpenBlas.NoTrans, OpenBlas.NoTrans, N, C, OC, 1f, CpuBackend.F(_dout), OC, CpuBackend.F(_weight), C, 0f, CpuBackend.F(_dinp), C);
                break;
            case GemmForm.Dweight:
                OpenBlas.Sgemm(OpenBlas.Trans, OpenBlas.NoTrans, OC, C, N, 1f, CpuBackend.F(_dout), OC, CpuBackend.F(_inp), C, 1f, CpuBackend.F(_dweight), C);
                break;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
    }
}
