using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfCore.Backends.Cpu;

// The shared elementwise driver, in the System.Numerics.Tensors TensorPrimitives pattern: an operator
// struct supplies the math once per width (scalar, Vector256, Vector512) and one driver runs the vector
// loop, the scalar tail and the split over the worker pool. Operators are instance structs rather than
// static-abstract ones because several carry per-call values (a scale factor, AdamW's hyperparameters);
// constraining them to `struct` makes the JIT specialize and inline each one, so the loop is as tight as a
// hand-written kernel and nothing is allocated.
//
// Determinism: work is cut into fixed chunks of ChunkElements (a multiple of every vector width), never
// into pieces that depend on the thread count, so which elements take the scalar tail depends only on n.
// Every element is computed independently, so the output may alias an input (in-place updates).

/// <summary>out = f(x), elementwise.</summary>
internal interface IUnaryOperator
{
    /// <summary>f for one element (the scalar tail).</summary>
    float Invoke(float x);
    /// <summary>f for 8 elements.</summary>
    Vector256<float> Invoke(Vector256<float> x);
    /// <summary>f for 16 elements.</summary>
    Vector512<float> Invoke(Vector512<float> x);
}

/// <summary>out = f(x, y), elementwise.</summary>
internal interface IBinaryOperator
{
    /// <summary>f for one element (the scalar tail).</summary>
    float Invoke(float x, float y);
    /// <summary>f for 8 elements.</summary>
    Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
    /// <summary>f for 16 elements.</summary>
    Vector512<float> Invoke(Vector512<float> x, Vector512<float> y);
}

/// <summary>
/// An optimizer-style update: a parameter stream and two state streams are updated in place from one
/// input stream (the gradient), elementwise.
/// </summary>
internal interface IStateUpdateOperator
{
    /// <summary>Updates one element (the scalar tail).</summary>
    void Invoke(ref float param, ref float state1, ref float state2, float input);
    /// <summary>Updates 8 elements.</summary>
    void Invoke(ref Vector256<float> param, ref Vector256<float> state1, ref Vector256<float> state2, Vector256<float> input);
    /// <summary>Updates 16 elements.</summary>
    void Invoke(ref Vector512<float> param, ref Vector512<float> state1, ref Vector512<float> state2, Vector512<float> input);
}

/// <summary>
/// An optimizer update with one state stream (SGD's momentum, Lion's moment): the parameter and the state
/// are updated in place from the gradient, elementwise.
/// </summary>
internal interface IStateUpdate1Operator
{
    /// <summary>Updates one element (the scalar tail).</summary>
    void Invoke(ref float param, ref float state, float input);
    /// <summary>Updates 8 elements.</summary>
    void Invoke(ref Vector256<float> param, ref Vector256<float> state, Vector256<float> input);
    /// <summary>Updates 16 elements.</summary>
    void Invoke(ref Vector512<float> param, ref Vector512<float> state, Vector512<float> input);
}

/// <summary>Runs elementwise operator structs over float arrays: vector loop, scalar tail, split over the pool.</summary>
internal static unsafe class Elementwise
{
    /// <summary>
    /// Elements per parallel task: 32 Ki floats (128 KiB per stream) keeps dispatch overhead negligible
    /// and is a multiple of every vector width. Arrays of at most one chunk run on the calling thread.
    /// </summary>
    internal const int ChunkElements = 1 << 15;

    /// <summary>output[i] = op(x[i]) for i in [0, n). <paramref name="output"/> may equal <paramref name="x"/>.</summary>
    public static void Unary<TOp>(WorkerPool pool, TOp op, float* output, float* x, long n) where TOp : struct, IUnaryOperator
    {
        if (n <= ChunkElements) { UnaryRange(op, output, x, n); return; }
        var job = new UnaryJob<TOp> { Op = op, Output = output, X = x, N = n };
        pool.For(ChunkCount(n), ref job);
    }

    /// <summary>output[i] = op(x[i], y[i]) for i in [0, n). <paramref name="output"/> may equal an input.</summary>
    public static void Binary<TOp>(WorkerPool pool, TOp op, float* output, float* x, float* y, long n) where TOp : struct, IBinaryOperator
    {
        if (n <= ChunkElements) { BinaryRange(op, output, x, y, n); return; }
        var job = new BinaryJob<TOp> { Op = op, Output = output, X = x, Y = y, N = n };
        pool.For(ChunkCount(n), ref job);
    }

    /// <summary>op(ref param[i], ref state1[i], ref state2[i], input[i]) for i in [0, n).</summary>
    public static void StateUpdate<TOp>(WorkerPool pool, TOp op, float* param, float* state1, float* state2, float* input, long n)
        where TOp : struct, IStateUpdateOperator
    {
        if (n <= ChunkElements) { StateUpdateRange(op, param, state1, state2, input, n); return; }
        var job = new StateUpdateJob<TOp> { Op = op, Param = param, State1 = state1, State2 = state2, Input = input, N = n };
        pool.For(ChunkCount(n), ref job);
    }

    /// <summary>op(ref param[i], ref state[i], input[i]) for i in [0, n).</summary>
    public static void StateUpdate1<TOp>(WorkerPool pool, TOp op, float* param, float* state, float* input, long n)
        where TOp : struct, IStateUpdate1Operator
    {
        if (n <= ChunkElements) { StateUpdate1Range(op, param, state, input, n); return; }
        var job = new StateUpdate1Job<TOp> { Op = op, Param = param, State = state, Input = input, N = n };
        pool.For(ChunkCount(n), ref job);
    }

    /// <summary>Chunks of <see cref="ChunkElements"/> covering n elements.</summary>
    internal static int ChunkCount(long n) => checked((int)((n + ChunkElements - 1) / ChunkElements));

    private static long ChunkLength(int chunk, long n) => Math.Min(ChunkElements, n - (long)chunk * ChunkElements);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnaryRange<TOp>(TOp op, float* o, float* x, long n) where TOp : struct, IUnaryOperator
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + i)), o + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Store(op.Invoke(Vector256.Load(x + i)), o + i);
        for (; i < n; i++) o[i] = op.Invoke(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BinaryRange<TOp>(TOp op, float* o, float* x, float* y, long n) where TOp : struct, IBinaryOperator
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                Vector512.Store(op.Invoke(Vector512.Load(x + i), Vector512.Load(y + i)), o + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Store(op.Invoke(Vector256.Load(x + i), Vector256.Load(y + i)), o + i);
        for (; i < n; i++) o[i] = op.Invoke(x[i], y[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StateUpdateRange<TOp>(TOp op, float* p, float* s1, float* s2, float* g, long n) where TOp : struct, IStateUpdateOperator
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.Load(p + i), s1v = Vector512.Load(s1 + i), s2v = Vector512.Load(s2 + i);
                op.Invoke(ref pv, ref s1v, ref s2v, Vector512.Load(g + i));
                Vector512.Store(pv, p + i); Vector512.Store(s1v, s1 + i); Vector512.Store(s2v, s2 + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.Load(p + i), s1v = Vector256.Load(s1 + i), s2v = Vector256.Load(s2 + i);
                op.Invoke(ref pv, ref s1v, ref s2v, Vector256.Load(g + i));
                Vector256.Store(pv, p + i); Vector256.Store(s1v, s1 + i); Vector256.Store(s2v, s2 + i);
            }
        }
        for (; i < n; i++) op.Invoke(ref p[i], ref s1[i], ref s2[i], g[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StateUpdate1Range<TOp>(TOp op, float* p, float* s, float* g, long n) where TOp : struct, IStateUpdate1Operator
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                Vector512<float> pv = Vector512.Load(p + i), sv = Vector512.Load(s + i);
                op.Invoke(ref pv, ref sv, Vector512.Load(g + i));
                Vector512.Store(pv, p + i); Vector512.Store(sv, s + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> pv = Vector256.Load(p + i), sv = Vector256.Load(s + i);
                op.Invoke(ref pv, ref sv, Vector256.Load(g + i));
                Vector256.Store(pv, p + i); Vector256.Store(sv, s + i);
            }
        }
        for (; i < n; i++) op.Invoke(ref p[i], ref s[i], g[i]);
    }

    private struct UnaryJob<TOp> : IParallelJob where TOp : struct, IUnaryOperator
    {
        public TOp Op; public float* Output; public float* X; public long N;

        public void Execute(int index)
        {
            long start = (long)index * ChunkElements;
            UnaryRange(Op, Output + start, X + start, ChunkLength(index, N));
        }
    }

    private struct BinaryJob<TOp> : IParallelJob where TOp : struct, IBinaryOperator
    {
        public TOp Op; public float* Output; public float* X; public float* Y; public long N;

        public void Execute(int index)
        {
            long start = (long)index * ChunkElements;
            BinaryRange(Op, Output + start, X + start, Y + start, ChunkLength(index, N));
        }
    }

    private struct StateUpdateJob<TOp> : IParallelJob where TOp : struct, IStateUpdateOperator
    {
        public TOp Op; public float* Param; public float* State1; public float* State2; public float* Input; public long N;

        public void Execute(int index)
        {
            long start = (long)index * ChunkElements;
            StateUpdateRange(Op, Param + start, State1 + start, State2 + start, Input + start, ChunkLength(index, N));
        }
    }

    private struct StateUpdate1Job<TOp> : IParallelJob where TOp : struct, IStateUpdate1Operator
    {
        public TOp Op; public float* Param; public float* State; public float* Input; public long N;

        public void Execute(int index)
        {
            long start = (long)index * ChunkElements;
            StateUpdate1Range(Op, Param + start, State + start, Input + start, ChunkLength(index, N));
        }
    }
}
