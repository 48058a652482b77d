using System.Runtime.InteropServices;
using RlhfCore.Backends.Cpu;

namespace RlhfCore.Tests;

public unsafe class WorkerPoolTests
{
    /// <summary>Counts how often each index runs.</summary>
    private struct CountingJob : IParallelJob
    {
        public int* Hits;
        public void Execute(int index) => Interlocked.Increment(ref Hits[index]);
    }

    /// <summary>Throws at one index, counts the rest.</summary>
    private struct ThrowingJob : IParallelJob
    {
        public int ThrowAt;
        public void Execute(int index)
        {
            if (index == ThrowAt) throw new InvalidOperationException($"task {index} failed");
        }
    }

    /// <summary>
    /// Two tasks that make the caller wait for the worker: the worker's task sleeps, the caller's spins until the worker has
    /// started one, so whichever task the caller claims, it finishes first and has to block until the worker is done.
    /// </summary>
    private struct CallerWaitsJob : IParallelJob
    {
        public int* WorkerStarted;
        public void Execute(int index)
        {
            if (Thread.CurrentThread.Name?.StartsWith("rlhf-cpu-", StringComparison.Ordinal) == true)
            {
                Volatile.Write(ref *WorkerStarted, 1);
                Thread.Sleep(30);
            }
            else
                while (Volatile.Read(ref *WorkerStarted) == 0) Thread.SpinWait(64);
        }
    }

    private static void RunCallerWaits(WorkerPool pool)
    {
        int started = 0;
        var job = new CallerWaitsJob { WorkerStarted = &started };
        pool.For(2, ref job);
    }

    // The first time the caller has to block for a worker, the pool allocates nothing (a ManualResetEventSlim created its lock
    // object then: 24 bytes on the caller's thread at whatever step first blocked). The first pool JITs the path.
    [Test]
    public void FirstBlockingWait_AllocatesNothing()
    {
        using (var warm = new WorkerPool(2)) RunCallerWaits(warm);
        using var pool = new WorkerPool(2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunCallerWaits(pool);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static int[] RunCounting(WorkerPool pool, int count)
    {
        int* hits = (int*)NativeMemory.AllocZeroed((nuint)Math.Max(count, 1), sizeof(int));
        try
        {
            var job = new CountingJob { Hits = hits };
            pool.For(count, ref job);
            return new ReadOnlySpan<int>(hits, count).ToArray();
        }
        finally { NativeMemory.Free(hits); }
    }

    [TestCase(1), TestCase(2), TestCase(3)]
    public void EveryIndexRunsExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        Assert.That(pool.ThreadCount, Is.EqualTo(threads));
        foreach (int count in new[] { 0, 1, 2, 3, 7, 97, 1025 })
            Assert.That(RunCounting(pool, count), Is.All.EqualTo(1), $"count {count}");
    }

    [TestCase(1), TestCase(2), TestCase(3)]
    public void ManyBackToBackCallsOfChangingSizes_EachIndexOnce(int threads)
    {
        // Sizes below, at and above the thread count, alternating, catch a worker left over from the
        // previous call picking up the next call's tasks.
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 2000; round++)
        {
            int count = round % 2 == 0 ? round % 5 + 1 : 64 + round % 7;
            int[] hits = RunCounting(pool, count);
            if (hits.Any(h => h != 1)) Assert.Fail($"round {round}, count {count}: hits [{string.Join(", ", hits)}]");
        }
    }

    [TestCase(1), TestCase(2), TestCase(3)]
    public void ExceptionInATask_ReachesTheCaller_AndPoolStaysUsable(int threads)
    {
        using var pool = new WorkerPool(threads);
        foreach (int throwAt in new[] { 0, 50, 99 })
        {
            var job = new ThrowingJob { ThrowAt = throwAt };
            var ex = Assert.Catch(() => pool.For(100, ref job));
            // Serial runs rethrow the task's exception itself; parallel runs wrap it in an AggregateException.
            var inner = ex as InvalidOperationException ?? ex!.InnerException as InvalidOperationException;
            Assert.That(inner, Is.Not.Null, $"got {ex}");
            Assert.That(inner!.Message, Is.EqualTo($"task {throwAt} failed"));
            Assert.That(RunCounting(pool, 100), Is.All.EqualTo(1), "pool after a failed call");
        }
    }

    [Test]
    public void ZeroThreads_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
}
