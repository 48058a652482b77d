using RlhfCore.Tensors;

namespace RlhfCore.Backends;

/// <summary>
/// Tensors for one self-test or benchmark run on one backend: created from host arrays, or poisoned with
/// NaN so an element a kernel fails to write shows up; all freed on dispose.
/// </summary>
internal sealed class SelfTestBuffers(IBackend backend, long maxElements = long.MaxValue) : IDisposable
{
    private readonly List<DeviceBuffer> _owned = [];

    /// <summary>The backend the tensors live on.</summary>
    public IBackend Backend { get; } = backend;

    /// <summary>An F32 tensor holding <paramref name="data"/>, shaped <paramref name="shape"/> (1-D when omitted).</summary>
    public Tensor F(float[] data, params int[] shape)
    {
        var t = Alloc(DType.F32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<float>(t, data);
        return t;
    }

    /// <summary>An I32 tensor holding <paramref name="data"/>.</summary>
    public Tensor I(int[] data, params int[] shape)
    {
        var t = Alloc(DType.I32, shape.Length == 0 ? [data.Length] : shape);
        Backend.Upload<int>(t, data);
        return t;
    }

    /// <summary>An F32 tensor of <paramref name="shape"/> filled with NaN.</summary>
    public Tensor Nan(params int[] shape)
    {
        var t = Alloc(DType.F32, shape);
        var data = new float[t.Length];
        Array.Fill(data, float.NaN);
        Backend.Upload<float>(t, data);
        return t;
    }

    /// <summary>The tensor's values on the host (I32 values converted to float).</summary>
    public float[] Read(Tensor t)
    {
        if (t.DType == DType.I32)
        {
            var ints = new int[t.Length];
            Backend.Download<int>(t, ints);
            return Array.ConvertAll(ints, i => (float)i);
        }
        var a = new float[t.Length];
        Backend.Download<float>(t, a);
        return a;
    }

    /// <summary>An uninitialized tensor.</summary>
    public Tensor Alloc(DType dtype, params int[] shape)
    {
        long n = shape.Aggregate(1L, (a, d) => a * d);
        if (n > maxElements) throw new ShapeTooLargeException($"skipped: a tensor of {n} elements exceeds the {maxElements} this backend is tested at");
        var buf = Backend.Allocate(Math.Max(64, n * DTypeInfo.SizeOf(dtype)));
        _owned.Add(buf);
        return buf.AsTensor(dtype, shape);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }
}

/// <summary>Raised by <see cref="SelfTestBuffers"/> when a shape exceeds the size the backend under test is checked at.</summary>
internal sealed class ShapeTooLargeException(string message) : Exception(message);
