namespace RlhfCore.IO;

/// <summary>
/// The one exception the safetensors reader and writer throw for a malformed or unusable file. The
/// message always names the file, and the tensor where one is involved, so the user can act on it.
/// </summary>
public sealed class SafetensorsException : IOException
{
    /// <summary>The file that was being read or written.</summary>
    public string FilePath { get; }

    /// <summary>The tensor involved, or null when the problem is not about one tensor.</summary>
    public string? TensorName { get; }

    /// <summary>Creates the exception; the message is prefixed with the file (and tensor) name.</summary>
    public SafetensorsException(string filePath, string? tensorName, string message, Exception? inner = null)
        : base($"safetensors file '{filePath}'{(tensorName != null ? $", tensor '{tensorName}'" : "")}: {message}", inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }
}
