using RlhfCore.Backends;

namespace RlhfCore.Embedding;

/// <summary>
/// A backend behind an <c>rlhf_backend</c> handle. Its <see cref="Gate"/> serializes every call on the
/// backend and on the models and optimizers created on it, since kernels share its worker pool or stream.
/// </summary>
internal sealed class EmbeddedBackend(IBackend backend) : IDisposable
{
    /// <summary>The backend.</summary>
    public IBackend Backend { get; } = backend;

    /// <summary>Held for the whole of each call that touches this backend.</summary>
    public object Gate { get; } = new();

    /// <summary>Live models on this backend; it cannot be destroyed while there are any.</summary>
    public int Models { get; set; }

    /// <summary>True once destroyed (a call that looked the handle up just before sees it under the lock).</summary>
    public bool Disposed { get; private set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Disposed = true;
        Backend.Dispose();
    }
}
