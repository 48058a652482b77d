namespace RlhfCore.Embedding;

// The failures only the C API has; EmbeddingErrors maps each to its status.

/// <summary>A handle that is null, destroyed, never created, or of another kind.</summary>
internal sealed class BadHandleException(string message) : Exception(message);

/// <summary>A loss or gradient norm that is NaN or infinite, reported before anything is updated.</summary>
internal sealed class NonFiniteException(string message) : Exception(message);

/// <summary>An output buffer smaller than the result; the entry point has already reported the size needed.</summary>
internal sealed class BufferTooSmallException(string message) : Exception(message);
