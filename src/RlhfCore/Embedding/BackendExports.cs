using System.Runtime.InteropServices;
using RlhfCore.Backends;

namespace RlhfCore.Embedding;

/// <summary>rlhf_backend_*: creating, synchronizing and destroying backends.</summary>
internal static unsafe class BackendExports
{
    [UnmanagedCallersOnly]
    public static int Create(byte* device, int threads, nint* backend)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(backend, "out");
            string name = NativeArgs.Text(device, "device");
            if (threads < 0) throw new ArgumentException($"threads must be 0 (all cores) or positive, got {threads}");
            result = HandleTable.Add(new EmbeddedBackend(BackendFactory.Create(name, threads)));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_backend_create"); }
    }

    [UnmanagedCallersOnly]
    public static int Destroy(nint backend)
    {
        try
        {
            var b = HandleTable.Get<EmbeddedBackend>(backend, "backend");
            lock (b.Gate)
            {
                if (b.Models > 0) throw new InvalidOperationException($"backend 0x{backend:x} still has {b.Models} live model(s): destroy them first");
                HandleTable.Remove<EmbeddedBackend>(backend, "backend");
                b.Dispose();
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_backend_destroy"); }
    }

    [UnmanagedCallersOnly]
    public static int Synchronize(nint backend)
    {
        try
        {
            var b = HandleTable.Get<EmbeddedBackend>(backend, "backend");
            lock (b.Gate) b.Backend.Synchronize();
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_backend_synchronize"); }
    }
}
