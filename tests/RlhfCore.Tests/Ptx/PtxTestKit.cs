using System.Collections.Concurrent;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Ptx;

/// <summary>Shared pieces of the emulator tests: the shipped PTX, parsed once; NaN-poisoned buffers.</summary>
internal static class PtxTestKit
{
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, PtxKernel>> Modules = new();

    /// <summary>Entry <paramref name="entry"/> of the embedded kernels/ptx/<paramref name="file"/> (the bytes the backend loads).</summary>
    public static PtxKernel Shipped(string file, string entry) => Modules.GetOrAdd(file, f => PtxEmulator.Load(KernelSources.Ptx(f)))[entry];

    /// <summary>An allocation of <paramref name="n"/> floats, every one NaN, so that an unwritten output fails its comparison.</summary>
    public static ulong Poisoned(PtxMemory mem, long n) => mem.Upload<float>(Enumerable.Repeat(float.NaN, (int)n).ToArray());

    public static float[] Uniform(Random rng, long n, double lo, double hi)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return a;
    }

    public static double[] Widen(float[] a) => a.Select(v => (double)v).ToArray();
}
