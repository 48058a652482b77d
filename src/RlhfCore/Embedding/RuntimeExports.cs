using System.Runtime.InteropServices;

namespace RlhfCore.Embedding;

/// <summary>
/// Start-up, shutdown and error text for the C shim (native/src). The shim binds every entry point of
/// this folder by name through hostfxr's <c>load_assembly_and_get_function_pointer</c>.
/// </summary>
internal static unsafe class RuntimeExports
{
    /// <summary>The C API version these entry points implement (RLHF_API_VERSION).</summary>
    public const int ApiVersion = 1;

    /// <summary>
    /// Checks that the shim was built from the same header: its API version and its sizes of the five
    /// structs (rlhf_model_config, rlhf_sampling, rlhf_dpo_metrics, rlhf_tensor_info, rlhf_buffers).
    /// </summary>
    [UnmanagedCallersOnly]
    public static int Initialize(int apiVersion, int* structSizes, int count)
    {
        try
        {
            if (apiVersion != ApiVersion)
                throw new InvalidOperationException($"librlhfcore.so implements API version {apiVersion} but RlhfCore.dll implements {ApiVersion}: rebuild both from one checkout");
            int[] expected = [sizeof(NativeModelConfig), sizeof(NativeSampling), sizeof(NativeDpoMetrics), sizeof(NativeTensorInfo), sizeof(NativeBuffers)];
            string[] names = ["rlhf_model_config", "rlhf_sampling", "rlhf_dpo_metrics", "rlhf_tensor_info", "rlhf_buffers"];
            var actual = NativeArgs.In(structSizes, count, "struct_sizes");
            if (count != expected.Length) throw new InvalidOperationException($"the shim passed {count} struct sizes; RlhfCore.dll checks {expected.Length}");
            for (int i = 0; i < expected.Length; i++)
                if (actual[i] != expected[i])
                    throw new InvalidOperationException($"{names[i]} is {actual[i]} bytes in librlhfcore.so but {expected[i]} in RlhfCore.dll: rebuild both from one checkout");
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_init"); }
    }

    /// <summary>Destroys every live handle, dependents first. Returns the first failure, after trying all.</summary>
    [UnmanagedCallersOnly]
    public static int Shutdown()
    {
        int status = 0;
        foreach (var value in HandleTable.RemoveAll())
        {
            try
            {
                switch (value)
                {
                    case EmbeddedOptimizer o: lock (o.Model.Owner.Gate) o.Dispose(); break;
                    case EmbeddedModel m: lock (m.Owner.Gate) m.Dispose(); break;
                    case EmbeddedBackend b: lock (b.Gate) b.Dispose(); break;
                }
            }
            catch (Exception e)
            {
                int s = EmbeddingErrors.Fail(e, "rlhf_shutdown");
                if (status == 0) status = s;
            }
        }
        return status;
    }

    /// <summary>Copies this thread's last error message into <paramref name="buffer"/> (UTF-8, NUL-terminated).</summary>
    [UnmanagedCallersOnly]
    public static int CopyLastError(byte* buffer, int capacity) => EmbeddingErrors.CopyTo(buffer, capacity);
}
