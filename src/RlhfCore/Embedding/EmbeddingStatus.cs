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
