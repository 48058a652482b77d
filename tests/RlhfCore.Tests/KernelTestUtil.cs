using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Tests;

/// <summary>
/// Helpers for comparing backend kernels with the float64 references: fresh random inputs, device
/// buffers poisoned with NaN before each run (so an unwritten element fails), and a tolerance of
/// <c>atol + |ref|·rtol</c> per element.
/// </summary>
public sealed class KernelTestUtil : IDisposable
{
    private readonly List<DeviceBuffer> _buffers = [];

    /// <summary>The backend under test.</summary>
    public IBackend Backend { get; }

    /// <summary>Seeded random source for inputs.</summary>
    public Random Rng { get; }

    public KernelTestUtil(IBackend backend, int seed)
    {
        Backend = backend;
        Rng = new Random(seed);
    }

    /// <summary>n floats uniform in [lo, hi).</summary>
    public float[] RandomFloats(long n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)Rng.NextDouble();
        return a;
    }

    /// <summary>n ints uniform in [lo, hi).</summary>
    public int[] RandomInts(long n, int lo, int hi)
    {
        var a = new int[n];
        for (long i = 0; i < n; i++) a[i] = Rng.Next(lo, hi);
        return a;
    }

    /// <summary>A device tensor holding <paramref name="data"/>.</summary>
    public Tensor Upload(float[] data, params int[] shape)
    {
        var t = Alloc(DType.F32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<float>(t, data);
        return t;
    }

    /// <summary>A device tensor holding <paramref name="data"/>.</summary>
    public Tensor Upload(int[] data, params int[] shape)
    {
        var t = Alloc(DType.I32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<int>(t, data);
        return t;
    }

    /// <summary>A device F32 tensor filled with NaN, so any element a kernel fails to write is caught.</summary>
    public Tensor Poisoned(params int[] shape)
    {
        var t = Alloc(DType.F32, shape);
        var nan = new float[t.Length];
        Array.Fill(nan, float.NaN);
        Backend.Upload<float>(t, nan);
        return t;
    }

    /// <summary>An uninitialized device tensor owned by this helper.</summary>
    public Tensor Alloc(DType dtype, params int[] shape)
    {
        long n = shape.Aggregate(1L, (a, d) => a * d);
        var buf = Backend.Allocate(Math.Max(4, n * DTypeInfo.SizeOf(dtype)));
        _buffers.Add(buf);
        return buf.AsTensor(dtype, shape);
    }

    /// <summary>The tensor's values on the host.</summary>
    public float[] Read(Tensor t)
    {
        var a = new float[t.Length];
        Backend.Download<float>(t, a);
        return a;
    }

    /// <summary>The tensor's values on the host.</summary>
    public int[] ReadInts(Tensor t)
    {
        var a = new int[t.Length];
        Backend.Download<int>(t, a);
        return a;
    }

    /// <summary>Asserts |actual − expected| ≤ atol + |expected|·rtol everywhere, and that nothing is NaN.</summary>
    public static void AssertClose(float[] actual, double[] expected, double atol, double rtol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        double worst = 0; int worstAt = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double tol = atol + Math.Abs(expected[i]) * rtol;
            if (!(err <= tol)) // catches NaN too
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]} (|err| {err:g3} > tol {tol:g3})");
            if (err > worst) { worst = err; worstAt = i; }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _buffers.Clear();
    }
}
