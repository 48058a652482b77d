using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// Muon's orthogonalization (Keller Jordan's <c>zeropower_via_newtonschulz5</c>, as modded-nanogpt): X is divided by
/// its Frobenius norm (+1e-7), then 5 iterations of the quintic X ← aX + (bA + cA²)X with A = XXᵀ and
/// (a, b, c) = (3.4445, −4.7750, 2.0315). These coefficients trade exactness for speed: the result's singular
/// values are not 1 but scattered around it; the tests check they lie in <see cref="BandLow"/>..<see cref="BandHigh"/>
/// for random inputs of the tested shapes (a singular value far below the norm's may not reach the band in 5 steps).
/// Composed from the backend's matmul ops, not a new GEMM:
/// for a wide X [R ≤ C] the Gram is XXᵀ (<c>MatmulForward(X, X)</c>) and the product BX is a weight-gradient GEMM
/// (<c>MatmulBackward</c> with only dweight, Bᵀ = B); for a tall X the same iteration runs on XᵀX, with XB as a forward
/// matmul, so the Gram is always the small K×K with K = min(R, C) and nothing is transposed.
/// </summary>
public sealed class NewtonSchulz : IDisposable
{
    /// <summary>The quintic's coefficients.</summary>
    public const float A = 3.4445f, B = -4.7750f, C = 2.0315f;
    /// <summary>Iterations.</summary>
    public const int Steps = 5;
    /// <summary>The band the orthogonalized singular values are tested to lie in (for well-conditioned inputs).</summary>
    public const double BandLow = 0.5, BandHigh = 1.5;

    private readonly IBackend _be;
    private readonly DeviceBuffer _gram, _gram2, _product, _norm;
    private readonly float[] _host = new float[1];
    private readonly long _maxGram, _maxMatrix;

    /// <summary>Scratch for matrices of up to <paramref name="maxElements"/> elements whose smaller side is at most <paramref name="maxSide"/>.</summary>
    public NewtonSchulz(IBackend backend, long maxElements, int maxSide)
    {
        _be = backend;
        _maxMatrix = Math.Max(1, maxElements);
        _maxGram = Math.Max(1, (long)maxSide * maxSide);
        _gram = backend.Allocate(_maxGram * 4);
        _gram2 = backend.Allocate(_maxGram * 4);
        _product = backend.Allocate(_maxMatrix * 4);
        _norm = backend.Allocate(64);
    }

    /// <summary>Replaces the row-major [<paramref name="rows"/>, <paramref name="cols"/>] matrix <paramref name="x"/> by its approximate orthogonalization.</summary>
    public void Orthogonalize(Tensor x, int rows, int cols)
    {
        long n = (long)rows * cols;
        int k = Math.Min(rows, cols);
        if (n > _maxMatrix || (long)k * k > _maxGram) throw new ArgumentException($"Newton–Schulz scratch holds {_maxMatrix} elements, side {Math.Sqrt(_maxGram)}; got [{rows}, {cols}]");
        var normT = _norm.AsTensor(DType.F32, 1);
        _be.SumOfSquares(normT, x, n);
        _be.Download<float>(normT, _host);
        _be.LinearCombination(x, x, x, (float)(1.0 / (Math.Sqrt(_host[0]) + 1e-7)), 0f, n);

        var gram = _gram.AsTensor(DType.F32, k * k);
        var poly = _gram2.AsTensor(DType.F32, k * k);
        var product = _product.AsTensor(DType.F32, (int)n);
        for (int step = 0; step < Steps; step++)
        {
            if (rows <= cols)
            {
                _be.MatmulForward(gram, x, x, Tensor.None, rows, cols, rows);               // A = XXᵀ [R, R]
                _be.MatmulForward(poly, gram, gram, Tensor.None, k, k, k);                  // A² (A is symmetric)
                _be.LinearCombination(poly, gram, poly, B, C, (long)k * k);                  // bA + cA²
                _be.Zero(product);
                _be.MatmulBackward(Tensor.None, product, Tensor.None, poly, x, Tensor.None, rows, cols, rows); // (bA + cA²)ᵀX
            }
            else
            {
                _be.Zero(gram);
                _be.MatmulBackward(Tensor.None, gram, Tensor.None, x, x, Tensor.None, rows, cols, cols);       // XᵀX [C, C]
                _be.MatmulForward(poly, gram, gram, Tensor.None, k, k, k);
                _be.LinearCombination(poly, gram, poly, B, C, (long)k * k);
                _be.MatmulForward(product, x, poly, Tensor.None, rows, cols, cols);         // X(bG + cG²)ᵀ
            }
            _be.LinearCombination(x, x, product, A, 1f, n);
        }
    }

    /// <summary>
    /// The two sums the orthogonalization residual is made of, written on the device: ‖G‖²_F into <paramref name="gramSq"/> and ‖X‖²_F
    /// into <paramref name="xSq"/>, where G is the Gram of the small side of <paramref name="x"/> (XXᵀ when wide, XᵀX when tall), K×K
    /// with K = min(rows, cols). Since trace(G) = ‖X‖²_F, ‖G − I‖²_F = ‖G‖²_F − 2‖X‖²_F + K (see <see cref="Residual"/>).
    /// </summary>
    public void ResidualSums(Tensor x, int rows, int cols, Tensor gramSq, Tensor xSq)
    {
        int k = Math.Min(rows, cols);
        var gram = _gram.AsTensor(DType.F32, k * k);
        if (rows <= cols) _be.MatmulForward(gram, x, x, Tensor.None, rows, cols, rows);
        else
        {
            _be.Zero(gram);
            _be.MatmulBackward(Tensor.None, gram, Tensor.None, x, x, Tensor.None, rows, cols, cols);
        }
        _be.SumOfSquares(gramSq, gram, (long)k * k);
        _be.SumOfSquares(xSq, x, (long)rows * cols);
    }

    /// <summary>‖XᵀX − I‖_F/√K from <see cref="ResidualSums"/>' two sums (0 for an exactly orthogonal X; clamped at 0 against rounding).</summary>
    public static double Residual(double gramSq, double xSq, int rows, int cols)
    {
        int k = Math.Min(rows, cols);
        return Math.Sqrt(Math.Max(0, gramSq - 2 * xSq + k) / k);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _gram.Dispose();
        _gram2.Dispose();
        _product.Dispose();
        _norm.Dispose();
    }
}
