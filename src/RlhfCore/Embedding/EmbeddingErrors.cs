using System.Text;
using RlhfCore.Backends.Native;
using RlhfCore.Data;

namespace RlhfCore.Embedding;

/// <summary>
/// Turns an exception into a status code and keeps its message for the calling thread, so that no
/// exception crosses the C boundary. The C shim copies the message out with <see cref="RuntimeExports.CopyLastError"/>.
/// </summary>
internal static class EmbeddingErrors
{
    [ThreadStatic] private static string? s_lastError;

    /// <summary>Stores <paramref name="e"/>'s message, prefixed with the C function's name, and returns its status.</summary>
    public static int Fail(Exception e, string function)
    {
        var status = StatusOf(e);
        string text = status == EmbeddingStatus.Internal
            ? $"{function}: internal error {e.GetType().Name}: {e.Message} at {FirstFrame(e)}"
            : $"{function}: {e.Message}";
        s_lastError = text;
        return (int)status;
    }

    /// <summary>The stored message of the last failure on this thread ("" when none).</summary>
    public static string LastError => s_lastError ?? "";

    /// <summary>Writes the last message as UTF-8 into <paramref name="buffer"/>, NUL-terminated and truncated to fit; returns the bytes written without the NUL.</summary>
    public static unsafe int CopyTo(byte* buffer, int capacity)
    {
        if (buffer == null || capacity < 1) return 0;
        var bytes = Encoding.UTF8.GetBytes(LastError);
        int n = Math.Min(bytes.Length, capacity - 1);
        // Truncate on a character boundary: never leave half a UTF-8 sequence before the NUL.
        while (n > 0 && n < bytes.Length && (bytes[n] & 0xC0) == 0x80) n--;
        bytes.AsSpan(0, n).CopyTo(new Span<byte>(buffer, n));
        buffer[n] = 0;
        return n;
    }

    private static EmbeddingStatus StatusOf(Exception e) => e switch
    {
        BadHandleException => EmbeddingStatus.BadHandle,
        NonFiniteException => EmbeddingStatus.NonFinite,
        BufferTooSmallException => EmbeddingStatus.BufferTooSmall,
        CudaUnavailableException => EmbeddingStatus.Unavailable,
        IOException or DataFormatException or UnauthorizedAccessException => EmbeddingStatus.Io,
        OutOfMemoryException or InsufficientExecutionStackException => EmbeddingStatus.OutOfMemory,
        ArgumentException or InvalidOperationException or KeyNotFoundException or OverflowException => EmbeddingStatus.InvalidArgument,
        _ => EmbeddingStatus.Internal,
    };

    private static string FirstFrame(Exception e)
    {
        string? trace = e.StackTrace;
        if (string.IsNullOrEmpty(trace)) return "(no stack trace)";
        int end = trace.IndexOf('\n');
        return (end < 0 ? trace : trace[..end]).Trim();
    }
}
