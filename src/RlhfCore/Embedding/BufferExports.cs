using System.Runtime.InteropServices;
using RlhfCore.Backends.Cpu;
using RlhfCore.Tensors;

namespace RlhfCore.Embedding;

/// <summary>
/// Direct access to a model's parameter and gradient arenas: the per-tensor table (name, byte offset,
/// shape), the buffers' addresses, and checked copies to and from host memory that work on every backend.
/// </summary>
internal static unsafe class BufferExports
{
    private const int Parameters = 0, Gradients = 1;

    [UnmanagedCallersOnly]
    public static int TensorCount(nint model, int* count)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            NativeArgs.Ref(count, "count") = m.Model.Table.Count;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_tensor_count"); }
    }

    [UnmanagedCallersOnly]
    public static int TensorInfo(nint model, int index, NativeTensorInfo* info)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            ref var result = ref NativeArgs.Ref(info, "info");
            var table = m.Model.Table;
            if (index < 0 || index >= table.Count) throw new ArgumentException($"index {index} is outside the tensor table [0, {table.Count})");
            var spec = table[index];
            if (spec.Shape.Length > NativeTensorInfo.MaxRank) throw new InvalidOperationException($"{spec.Name} has rank {spec.Shape.Length} > RLHF_MAX_RANK");
            result.Name = m.NameOf(index);
            result.Offset = m.Model.Parameters.Offsets[index];
            result.Elements = spec.Length;
            result.Rank = spec.Shape.Length;
            for (int d = 0; d < NativeTensorInfo.MaxRank; d++) result.Shape[d] = d < spec.Shape.Length ? spec.Shape[d] : 0;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_tensor_info"); }
    }

    [UnmanagedCallersOnly]
    public static int Buffers(nint model, NativeBuffers* buffers)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            ref var result = ref NativeArgs.Ref(buffers, "buffers");
            var g = m.Model;
            result.Parameters = g.Parameters.All.Address;
            result.Gradients = g.Gradients.All.Address;
            result.Bytes = g.Parameters.All.Bytes;
            result.OnDevice = g.Backend is CpuBackend ? 0 : 1;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_buffers"); }
    }

    [UnmanagedCallersOnly]
    public static int Read(nint model, int which, long offset, void* dst, long bytes)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var host = NativeArgs.Out((float*)dst, Floats(m, which, offset, bytes), "dst");
            lock (m.Owner.Gate)
            {
                var be = m.Model.Backend;
                be.Synchronize();
                be.Download<float>(Range(m, which, offset, host.Length), host);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_buffer_read"); }
    }

    [UnmanagedCallersOnly]
    public static int Write(nint model, int which, long offset, void* src, long bytes)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var host = NativeArgs.In((float*)src, Floats(m, which, offset, bytes), "src");
            lock (m.Owner.Gate)
            {
                var be = m.Model.Backend;
                be.Synchronize();
                be.Upload<float>(Range(m, which, offset, host.Length), host);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_buffer_write"); }
    }

    /// <summary>The float count of a checked copy: which is known, offset and size are multiples of 4 and in range.</summary>
    private static long Floats(EmbeddedModel m, int which, long offset, long bytes)
    {
        if (which is not (Parameters or Gradients)) throw new ArgumentException($"which = {which}: use RLHF_BUFFER_PARAMETERS (0) or RLHF_BUFFER_GRADIENTS (1)");
        long size = m.Model.Parameters.All.Bytes;
        if (offset % 4 != 0 || bytes % 4 != 0) throw new ArgumentException($"offset {offset} and bytes {bytes} must be multiples of 4 (fp32)");
        if (offset < 0 || bytes < 1 || offset + bytes > size) throw new ArgumentException($"bytes [{offset}, {offset + bytes}) are outside the buffer's {size} bytes");
        return bytes / 4;
    }

    private static Tensor Range(EmbeddedModel m, int which, long offset, int floats)
    {
        var arena = which == Parameters ? m.Model.Parameters : m.Model.Gradients;
        return new Tensor(arena.All.Address + (nint)offset, DType.F32, [floats]);
    }
}
