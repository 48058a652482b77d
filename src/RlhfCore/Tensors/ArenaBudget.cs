using RlhfCore.Backends;
using RlhfCore.Backends.Cpu;

namespace RlhfCore.Tensors;

/// <summary>
/// Checks, before an arena is laid out, that a table whose every tensor grows linearly with its rows (a
/// batch's activations, a generator's KV cache) fits: each tensor within an <c>int</c> element count,
/// and on the CPU the whole arena within the memory left to the process. The sizes come from the
/// table itself at one row, so the check cannot drift from the layout. Errors say what was asked and
/// what fits.
/// </summary>
public static class ArenaBudget
{
    /// <summary>Throws when <paramref name="rows"/> rows of <paramref name="tableOfRows"/> do not fit.</summary>
    /// <param name="what">What is being allocated, e.g. <c>activations for 100,000 rows × 16 tokens</c>.</param>
    /// <param name="backend">Where it would live; only host memory is measured here (a device reports its own).</param>
    /// <param name="tableOfRows">The layout table for a number of rows; every tensor's size must be linear in it.</param>
    /// <param name="rows">Rows asked for.</param>
    /// <param name="advice">What to change, e.g. <c>lower --batch or --seq-len</c>.</param>
    /// <exception cref="ArgumentException">A tensor would exceed 2^31 − 1 elements, or the arena the memory available.</exception>
    public static void Check(string what, IBackend backend, Func<int, IReadOnlyList<TensorSpec>> tableOfRows, long rows, string advice)
    {
        var one = tableOfRows(1);
        long bytesPerRow = 0;
        TensorSpec largest = one[0];
        foreach (var s in one)
        {
            bytesPerRow += (s.Length * DTypeInfo.SizeOf(s.DType) + TensorArena.Alignment - 1) / TensorArena.Alignment * TensorArena.Alignment;
            if (s.Length > largest.Length) largest = s;
        }
        if ((double)largest.Length * rows > int.MaxValue)
            throw new ArgumentException($"{what}: its tensor '{largest.Name}' would hold {(double)largest.Length * rows:N0} elements, " +
                $"more than one tensor holds ({int.MaxValue:N0}); at most {int.MaxValue / largest.Length:N0} rows fit: {advice}");
        if (backend is not CpuBackend) return;
        double need = (double)bytesPerRow * rows;
        long available = AvailableHostBytes();
        if (need > available)
            throw new ArgumentException($"{what} need {Gib(need)} ({Gib(bytesPerRow)} per row), but {Gib(available)} of memory is available " +
                $"to this process; at most {available / bytesPerRow:N0} rows fit: {advice}");
    }

    /// <summary>
    /// Memory this process may still use: the machine's (or container's) limit as the GC sees it, less what
    /// the process already holds (its model, optimizer state and earlier arenas among it).
    /// </summary>
    public static long AvailableHostBytes() =>
        Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - Environment.WorkingSet);

    private static string Gib(double bytes) =>
        bytes >= 1 << 30 ? $"{bytes / (1 << 30):F1} GiB" : bytes >= 1 << 20 ? $"{bytes / (1 << 20):F1} MiB" : $"{bytes / 1024:F1} KiB";
}
