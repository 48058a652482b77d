using System.IO.Compression;
using System.Text;

namespace RlhfCore.Tests.Data;

/// <summary>A temporary folder for files a test writes; deleted on dispose.</summary>
internal sealed class TempFiles : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rlhfcore-data-").FullName;

    /// <summary>Writes <paramref name="content"/> (UTF-8, no BOM; gzip when the name ends in .gz) and returns the path.</summary>
    public string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        byte[] bytes = new UTF8Encoding(false).GetBytes(content);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
            gz.Write(bytes);
        }
        else File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A path in the folder that does not exist.</summary>
    public string Missing(string name) => Path.Combine(_dir, name);

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
