namespace RlhfCore.Embedding;

/// <summary>
/// One cached, disposable object built for a key (a batch shape, a loss setting): reused while calls repeat
/// the key, so a training loop allocates its buffers once, and replaced when the key changes.
/// </summary>
internal sealed class Workspace<TKey, TValue> : IDisposable where TKey : IEquatable<TKey> where TValue : class, IDisposable
{
    private TKey? _key;
    private TValue? _value;

    /// <summary>The object for <paramref name="key"/>, made by <paramref name="create"/> when the cached one has another key.</summary>
    public TValue Get(TKey key, Func<TKey, TValue> create)
    {
        if (_value != null && _key!.Equals(key)) return _value;
        Dispose();
        _value = create(key);
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
