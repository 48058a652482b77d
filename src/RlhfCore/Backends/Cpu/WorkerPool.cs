using System.Runtime.CompilerServices;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// A persistent pool of worker threads that run a struct job over an index range. The calling thread
/// works too. Nothing is allocated per call: the job lives on the caller's stack and is reached through
/// a pointer and a per-type static invoker. Tasks are claimed from a shared counter, so the result must
/// not depend on which thread runs which task (each task writes its own outputs; reductions are made
/// per task and combined in task order by the caller).
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _start;
    // A semaphore, not a ManualResetEventSlim: the slim event creates its lock object the first time a caller has to block
    // rather than spin, an allocation on the calling thread at an unpredictable step; SemaphoreSlim creates its lock up front.
    private readonly SemaphoreSlim _done = new(0);
    private delegate*<void*, int, void> _invoke;
    private void* _job;
    private int _count;
    private int _next;
    private int _pending;
    private volatile bool _stopping;
    private Exception? _error;
    private readonly object _runLock = new();

    /// <summary>Threads that execute work, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>A pool of <paramref name="threads"/> threads in all (the caller is one of them).</summary>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "need at least one thread");
        ThreadCount = threads;
        _start = new SemaphoreSlim(0);
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"rlhf-cpu-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <c>job.Execute(i)</c> for i in [0, count) across the pool and returns when all are done.</summary>
    public void For<TJob>(int count, ref TJob job) where TJob : struct, IParallelJob
    {
        if (count <= 0) return;
        if (count == 1 || _threads.Length == 0)
        {
            for (int i = 0; i < count; i++) job.Execute(i);
            return;
        }
        // A job that calls For again would overwrite the running job (caller) or deadlock on the lock (worker).
        if (_job != null) throw new InvalidOperationException("WorkerPool.For is not reentrant: a job must not start another parallel loop");
        lock (_runLock)
        {
            _invoke = &Invoker<TJob>.Invoke;
            _job = Unsafe.AsPointer(ref job);
            _count = count;
            _next = 0;
            _error = null;
            int helpers = Math.Min(_threads.Length, count - 1);
            _pending = helpers;
            _start.Release(helpers);
            RunTasks();
            if (helpers > 0) _done.Wait();
            _job = null;
            if (_error is { } e) throw new AggregateException("a CPU kernel task failed", e);
        }
    }

    private void RunTasks()
    {
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count) _invoke(_job, i);
        }
        catch (Exception e)
        {
            _error ??= e;
            Volatile.Write(ref _next, int.MaxValue / 2);
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _start.Wait();
            if (_stopping) return;
            RunTasks();
            if (Interlocked.Decrement(ref _pending) == 0) _done.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stopping = true;
        if (_threads.Length > 0) _start.Release(_threads.Length); // Release(0) throws: a 1-thread pool has no workers
        foreach (var t in _threads) t.Join();
        _start.Dispose();
        _done.Dispose();
    }

    private static class Invoker<TJob> where TJob : struct, IParallelJob
    {
        public static void Invoke(void* job, int index) => Unsafe.AsRef<TJob>(job).Execute(index);
    }
}
