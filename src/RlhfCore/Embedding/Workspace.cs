namespace RlhfCore.Embedding;

/// <summary>
/// One cached, disposable object built for a key (a batch shape, a loss setting): reused while calls repeat
/// the key, so a training loop allocates its buffers once, and replaced when the key changes.
/// </summary>
internal sealed class Workspace<TKey, TValue> : IDisposable where TKey : IEquatable<TKey> where TValue : class, IDisposable
{
    private TKey? _key;
    private TValue? _value;

    /// <summary>
    /// The object for <paramref name="key"/>, made by <paramref name="create"/> from the key and
    /// <paramref name="state"/> when the cached one has another key (a static lambda: no allocation per call).
    /// </summary>
    public TValue Get<TState>(TKey key, TState state, Func<TKey, TState, TValue> create)
    {
        if (_value != null && _key!.Equals(key)) return _value;
        Dispose();
        _value = create(key, state);
        _key = key;
        return _value;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _value?.Dispose();
        _value = null;
    }
}
