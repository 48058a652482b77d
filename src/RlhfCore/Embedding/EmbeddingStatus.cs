namespace RlhfCore.Embedding;

/// <summary>The C API's status codes; the values are <c>rlhf_status</c> in <c>native/include/rlhfcore.h</c>.</summary>
internal enum EmbeddingStatus
{
    Ok = 0,
    InvalidArgument = 1,
    BadHandle = 2,
    NotInitialized = 3,
    Unavailable = 4,
    Io = 5,
    BufferTooSmall = 6,
    OutOfMemory = 7,
    Runtime = 8,
    NonFinite = 9,
    Internal = 10,
}

/// <summary>A handle that is null, destroyed, never created, or of another kind.</summary>
internal sealed class BadHandleException(string message) : Exception(message);

/// <summary>A loss or gradient norm that is NaN or infinite, reported before anything is updated.</summary>
internal sealed class NonFiniteException(string message) : Exception(message);

/// <summary>An output buffer smaller than the result; the entry point has already reported the size needed.</summary>
internal sealed class BufferTooSmallException(string message) : Exception(message);
