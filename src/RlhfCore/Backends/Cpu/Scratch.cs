using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Per-backend scratch for kernels that reduce through per-chunk partial buffers. The array is allocated
/// on the pinned heap, so its address is stable without <c>fixed</c>, and grows only when a call needs more
/// than any call before, so steady-state training steps allocate nothing. Not thread-safe: a backend runs
/// one kernel at a time, like a CUDA stream.
/// </summary>
internal unsafe struct Scratch<T> where T : unmanaged
{
    private T[]? _array;

    /// <summary>A pointer to at least <paramref name="count"/> uninitialized elements.</summary>
    public T* Get(long count)
    {
        if (_array == null || _array.Length < count)
            _array = GC.AllocateUninitializedArray<T>(checked((int)Math.Max(count, 1)), pinned: true);
        return (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
    }
}
