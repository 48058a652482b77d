using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Finding 4 of issue 12, memory: a batch or a generation too large for memory is refused before anything
/// is allocated, saying what was asked and what fits (it passed 3 GB within 6 s, then crashed or swapped).
/// </summary>
public class ArenaBudgetTests
{
    private static readonly GptConfig Tiny = GptConfig.Preset("byte-tiny");

    [Test]
    public void ActivationsBeyondMemory_AreRefused_SayingWhatFits()
    {
        using var backend = new CpuBackend(1);
        long perRow = Bytes(GptActivations.Table(backend, Tiny, 1, 16));
        long available = ArenaBudget.AvailableHostBytes();
        // Twice what fits, but still within every tensor's element limit.
        int rows = (int)Math.Min(int.MaxValue, 2 * available / perRow + 1);
        Assume.That((double)rows * 16 * Tiny.VocabSize, Is.LessThan(int.MaxValue), "this machine has too much memory for the check to bind first");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArgumentException>(() => new GptActivations(backend, Tiny, rows, 16))!;
        Assert.That(e.Message, Does.StartWith($"activations for {rows:N0} rows × 16 tokens need ").And.Contain("of memory is available").And.Contain("rows fit: lower the batch size (--batch)"));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(1 << 20), "refused before allocating");
    }

    [Test]
    public void ATensorBeyondTwoBillionElements_IsRefused_NotAnOverflow()
    {
        using var backend = new CpuBackend(1);
        var e = Assert.Throws<ArgumentException>(() => new GptActivations(backend, GptConfig.Preset("gpt2-124m"), 65536, 1024))!;
        Assert.That(e.Message, Does.Contain("its tensor 'logits' would hold").And.Contain("at most 41 rows fit"));
    }

    [Test]
    public void KvCacheBeyondMemory_IsRefused()
    {
        using var backend = new CpuBackend(1);
        using var model = new GptModel(backend, GptConfig.Preset("byte-small"));
        var e = Assert.Throws<ArgumentException>(() => new GptGenerator(model, 2_000_000, 8))!;
        Assert.That(e.Message, Does.StartWith("the KV cache for 2,000,000 rows").And.Contain("generate fewer rows at once (--num-samples"));
    }

    private static long Bytes(IReadOnlyList<TensorSpec> table) => table.Sum(s => (s.Length * 4 + 63) / 64 * 64);
}
