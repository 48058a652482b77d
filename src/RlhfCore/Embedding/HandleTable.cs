namespace RlhfCore.Embedding;

/// <summary>
/// The opaque handles the C API hands out: numbers that look like aligned pointers, each mapped to one live
/// object. They are never reused, so a destroyed handle stays invalid; looking one up checks its kind, so a
/// stale, foreign or garbage handle is an error, never a crash.
/// </summary>
internal static class HandleTable
{
    private static readonly object s_gate = new();
    private static readonly Dictionary<nint, object> s_live = [];
    private static long s_next = 0x10000;

    /// <summary>Registers <paramref name="value"/> and returns its new handle.</summary>
    public static nint Add(object value)
    {
        lock (s_gate)
        {
            s_next += 16;
            nint handle = (nint)s_next;
            s_live.Add(handle, value);
            return handle;
        }
    }

    /// <summary>The live object of kind <typeparamref name="T"/> behind <paramref name="handle"/>.</summary>
    public static T Get<T>(nint handle, string argument) where T : class
    {
        object? value;
        lock (s_gate) s_live.TryGetValue(handle, out value);
        if (value is T t) return t;
        string kind = KindName(typeof(T));
        if (handle == 0) throw new BadHandleException($"{argument} is NULL (expected a {kind} handle)");
        throw new BadHandleException(value == null
            ? $"{argument} 0x{handle:x} is not a live {kind} handle (destroyed, never created, or not a handle)"
            : $"{argument} 0x{handle:x} is a {KindName(value.GetType())} handle, not a {kind}");
    }

    /// <summary>Unregisters <paramref name="handle"/> (after checking it is a live <typeparamref name="T"/>) and returns its object.</summary>
    public static T Remove<T>(nint handle, string argument) where T : class
    {
        lock (s_gate)
        {
            var value = Get<T>(handle, argument);
            s_live.Remove(handle);
            return value;
        }
    }

    /// <summary>Unregisters and returns every live object, newest first (dependents before what they depend on).</summary>
    public static List<object> RemoveAll()
    {
        lock (s_gate)
        {
            var all = s_live.OrderByDescending(p => p.Key).Select(p => p.Value).ToList();
            s_live.Clear();
            return all;
        }
    }

    private static string KindName(Type t) => t.Name switch
    {
        nameof(EmbeddedBackend) => "rlhf_backend",
        nameof(EmbeddedModel) => "rlhf_model",
        nameof(EmbeddedOptimizer) => "rlhf_optimizer",
        nameof(EmbeddedTokenizer) => "rlhf_tokenizer",
        _ => t.Name,
    };
}
