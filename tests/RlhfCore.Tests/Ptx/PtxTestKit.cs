using System.Collections.Concurrent;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Shared pieces of the emulator tests: the shipped PTX, parsed once (or a mutated text in its place, for
/// the tests that prove a wrong kernel fails), NaN-poisoned buffers, and comparisons that return the
/// first mismatch instead of asserting, so that one check serves both the real test and the mutant.
/// </summary>
internal static class PtxTestKit
{
    private static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, PtxKernel>> Modules = new();

    [ThreadStatic] private static (string File, IReadOnlyDictionary<string, PtxKernel> Module)? _override;

    /// <summary>Entry <paramref name="entry"/> of the embedded kernels/ptx/<paramref name="file"/> (the bytes the backend loads).</summary>
    public static PtxKernel Shipped(string file, string entry) =>
        _override is { } o && o.File == file ? o.Module[entry] : Modules.GetOrAdd(file, f => PtxEmulator.Load(KernelSources.Ptx(f)))[entry];

    /// <summary>Runs <paramref name="check"/> with <paramref name="file"/> replaced by <paramref name="text"/>.</summary>
    public static string? WithText(string file, string text, Func<string?> check) => WithModule(file, PtxEmulator.Load(text), check);

    /// <summary>Runs <paramref name="check"/> with <paramref name="file"/> replaced by an already parsed <paramref name="module"/>.</summary>
    public static string? WithModule(string file, IReadOnlyDictionary<string, PtxKernel> module, Func<string?> check)
    {
        _override = (file, module);
        try { return check(); }
        finally { _override = null; }
    }

    /// <summary>An allocation of <paramref name="n"/> floats, every one NaN, so that an unwritten output fails its comparison.</summary>
    public static ulong Poisoned(PtxMemory mem, long n) => mem.Upload<float>(Enumerable.Repeat(float.NaN, (int)n).ToArray());

    public static float[] Uniform(Random rng, long n, double lo, double hi)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return a;
    }

    public static double[] Widen(float[] a) => a.Select(v => (double)v).ToArray();

    /// <summary>The first element with |got − want| &gt; atol + rtol·|want| (NaN included), or null.</summary>
    public static string? Mismatch(float[] got, double[] want, double atol, double rtol, string what)
    {
        if (got.Length != want.Length) return $"{what}: {got.Length} elements, reference {want.Length}";
        for (int i = 0; i < got.Length; i++)
        {
            double err = Math.Abs(got[i] - want[i]), tol = atol + rtol * Math.Abs(want[i]);
            if (!(err <= tol)) return $"{what}[{i}] is {got[i]}, reference {want[i]} (|err| {err:g3} > tol {tol:g3})";
        }
        return null;
    }

    /// <summary>The first non-null of <paramref name="checks"/>, evaluated in order (later ones are skipped).</summary>
    public static string? First(params Func<string?>[] checks)
    {
        foreach (var c in checks)
            if (c() is { } m) return m;
        return null;
    }
}
