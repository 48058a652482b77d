using RlhfCore.Tensors;

namespace RlhfCore.Backends.Verification;

/// <summary>
/// The one harness for checking kernels, shared by <c>rlhf selftest</c>, <c>rlhf bench</c> and the NUnit
/// kernel tests: seeded random host inputs, tensors created from host arrays or poisoned with NaN (so an
/// element a kernel fails to write shows up), host read-back, and an optional size cap (a shape above it
/// throws <see cref="ShapeTooLargeException"/>, for backends tested at tiny shapes only). Owns and frees
/// every tensor it creates.
/// </summary>
public class VerificationTensors : IDisposable
{
    private readonly List<DeviceBuffer> _owned = [];
    private readonly long _maxElements;

    /// <summary>Tensors on <paramref name="backend"/>, inputs from <paramref name="seed"/>, no tensor above <paramref name="maxElements"/> elements.</summary>
    public VerificationTensors(IBackend backend, int seed = 0, long maxElements = long.MaxValue)
    {
        Backend = backend;
        Rng = new Random(seed);
        _maxElements = maxElements;
    }

    /// <summary>The backend the tensors live on.</summary>
    public IBackend Backend { get; }

    /// <summary>Seeded random source for inputs.</summary>
    public Random Rng { get; }

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

    /// <summary>An F32 tensor holding <paramref name="data"/>, shaped <paramref name="shape"/> (1-D when omitted).</summary>
    public Tensor Upload(float[] data, params int[] shape)
    {
        var t = Alloc(DType.F32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<float>(t, data);
        return t;
    }

    /// <summary>An I32 tensor holding <paramref name="data"/>, shaped <paramref name="shape"/> (1-D when omitted).</summary>
    public Tensor Upload(int[] data, params int[] shape)
    {
        var t = Alloc(DType.I32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<int>(t, data);
        return t;
    }

    /// <summary>An F32 tensor of <paramref name="shape"/> filled with NaN, so any element a kernel fails to write is caught.</summary>
    public Tensor Poisoned(params int[] shape)
    {
        var t = Alloc(DType.F32, shape);
        var nan = new float[t.Length];
        Array.Fill(nan, float.NaN);
        Backend.Upload<float>(t, nan);
        return t;
    }

    /// <summary>An uninitialized tensor owned by this harness.</summary>
    public Tensor Alloc(DType dtype, params int[] shape)
    {
        long n = shape.Aggregate(1L, (a, d) => a * d);
        if (n > _maxElements) throw new ShapeTooLargeException($"skipped: a tensor of {n} elements exceeds the {_maxElements} this backend is tested at");
        var buf = Backend.Allocate(Math.Max(64, n * DTypeInfo.SizeOf(dtype)));
        _owned.Add(buf);
        return buf.AsTensor(dtype, shape);
    }

    /// <summary>The tensor's values on the host (I32 values converted to float).</summary>
    public float[] Read(Tensor t)
    {
        if (t.DType == DType.I32) return Array.ConvertAll(ReadInts(t), i => (float)i);
        var a = new float[t.Length];
        Backend.Download<float>(t, a);
        return a;
    }

    /// <summary>The I32 tensor's values on the host.</summary>
    public int[] ReadInts(Tensor t)
    {
        var a = new int[t.Length];
        Backend.Download<int>(t, a);
        return a;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Raised by <see cref="VerificationTensors"/> when a shape exceeds the size the backend under test is checked at.</summary>
public sealed class ShapeTooLargeException(string message) : Exception(message);
